"""What the page modules share: the account, settings, confirmations, the signed PDF."""

from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from socialcredit.api.errors import status_of
from socialcredit.domain.errors import InputError, SocialCreditError
from socialcredit.services.contests import GROUNDS_CHARS_MAX, open_contest
from socialcredit.services.models import Statement
from socialcredit.services.registry import Registry
from socialcredit.services.users import User
from socialcredit.settings import Settings
from socialcredit.web.forms import field, uploads
from socialcredit.web.i18n import Translator
from socialcredit.web.messages import MESSAGES
from socialcredit.web.render import language_of, registry_of, viewer_of
from socialcredit.web.views import parse_entry_key

__all__ = [
    "DONE",
    "account",
    "contest_from_form",
    "done_message",
    "error_status",
    "read_attachments",
    "settings_of",
    "signed_pdf",
    "translator",
]

# Confirmations a page shows after a form succeeded (redirect-after-POST: ``?done=KEY``).
DONE = frozenset(
    {
        "contest-opened",
        "decided",
        "swept",
        "answered",
        "consent-granted",
        "consent-revoked",
        "consent-unchanged",
    }
)


def account(request: Request) -> User:
    """The logged-in account of a page that requires one (the authorisation dependency ran)."""
    user = viewer_of(request).user
    if user is None:  # a wiring mistake: the page's access entry is public
        raise RuntimeError(f"{request.url.path} needs an account but none was authenticated")
    return user


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def translator(request: Request) -> Translator:
    return Translator(language_of(request)[0])


def done_message(request: Request, done: str) -> str:
    """The confirmation named by ``?done=``, translated; anything else shows nothing."""
    key = f"done.{done}"
    return translator(request)(key) if done in DONE and key in MESSAGES else ""


def error_status(error: SocialCreditError) -> int:
    """The HTTP status of a service's refusal, as the API gives it."""
    return status_of(error)


async def read_attachments(
    form: FormData, name: str, limit: int
) -> tuple[tuple[str, str, bytes], ...]:
    """(file name, type, content) of each uploaded file; each read to at most ``limit + 1``
    bytes, so that the service sees one that is too large and refuses it by name."""
    found = []
    for upload in uploads(form, name):
        content = await upload.read(limit + 1)
        filename = Path(upload.filename or "attachment").name[:255]
        found.append((filename, upload.content_type or "application/octet-stream", content))
    return tuple(found)


def signed_pdf(registry: Registry, statement: Statement) -> Response:
    """The printed statement as a download: signed, with its QR code (as ``statement --pdf``)."""
    from socialcredit.reports.signed_pdf import signed_statement_pdf  # WeasyPrint: loaded on use

    content = signed_statement_pdf(registry, statement)
    name = f"statement-{statement.id}-{statement.as_of.isoformat()}.pdf"
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


async def contest_from_form(request: Request) -> SocialCreditError | None:
    """Open the contest the posted form asks for (entry, grounds, attachments), as the
    logged-in account; the refusal to show on the page, or ``None`` when it was opened.
    The clerk's form for a person and the resident's own form post the same fields."""
    form = await request.form()
    registry = registry_of(request)
    entry = parse_entry_key(field(form, "entry", limit=5000))
    grounds = field(form, "grounds", limit=GROUNDS_CHARS_MAX)
    attachments = await read_attachments(form, "attachment", registry.settings.max_attachment_bytes)
    actor = account(request).actor()
    try:
        if entry is None:
            raise InputError(translator(request)("contest.choose_entry"), code="missing-entry")
        await run_in_threadpool(
            open_contest, registry, *entry, grounds=grounds, actor=actor, attachments=attachments
        )
    except SocialCreditError as refused:
        return refused
    return None
