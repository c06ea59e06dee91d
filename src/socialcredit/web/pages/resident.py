"""A resident's own pages: the record and statement, who looked at it and why, notices,
contesting an entry, and consent for organisations to check them.

No page here takes a person in its path or form: every one reads the record of the person the
account is bound to, so a resident cannot ask for anyone else's, however the request is made.
Reading one's own record is logged too (purpose "own record"), as through the API.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from socialcredit.api.deps import DEFAULT_PURPOSES
from socialcredit.domain.errors import SocialCreditError
from socialcredit.services import consent, standing
from socialcredit.services.access_history import access_history
from socialcredit.services.contest_reads import read_contests
from socialcredit.services.delivery import list_notices_for
from socialcredit.services.users import User
from socialcredit.web.forms import field
from socialcredit.web.pages.common import (
    account,
    contest_from_form,
    done_message,
    error_status,
    settings_of,
    signed_pdf,
    translator,
)
from socialcredit.web.render import registry_of, render
from socialcredit.web.views import (
    access_rows,
    contestable_entries,
    statement_view,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

OWN_RECORD = DEFAULT_PURPOSES["resident"]
PAGE_ROWS = 100


def _own(request: Request) -> tuple[User, str]:
    user = account(request)
    if user.person_id is None:  # the users service never makes such a resident account
        raise RuntimeError(f"resident account {user.name} is bound to no person")
    return user, user.person_id


def _record_page(
    request: Request, *, done: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    registry = registry_of(request)
    user, person_id = _own(request)
    actor = user.actor()
    statement = standing.statement(registry, person_id, actor=actor, purpose=OWN_RECORD)
    contests = read_contests(registry, actor=actor, purpose=OWN_RECORD, limit=1000)
    view = statement_view(registry, statement, contests, translator(request).language)
    settings = settings_of(request)
    return render(
        request,
        "me.html",
        title="me.title",
        status=status,
        st=view,
        done=done_message(request, done),
        error=error,
        contestable=contestable_entries(view),
        contest_action="/me/contests",
        contest_days=settings.contest_answer_days,
        max_attachments=settings.max_attachments,
        max_attachment_size=f"{settings.max_attachment_bytes // (1024 * 1024)} MiB",
    )


@router.get("/me")
def my_record(request: Request, done: str = "") -> HTMLResponse:
    return _record_page(request, done=done)


@router.get("/me/statement.pdf")
def my_pdf(request: Request) -> Response:
    registry = registry_of(request)
    user, person_id = _own(request)
    statement = standing.statement(registry, person_id, actor=user.actor(), purpose=OWN_RECORD)
    return signed_pdf(registry, statement)


@router.get("/me/access-log")
def my_access_log(request: Request, before: int | None = None) -> HTMLResponse:
    """Who read my record, when, in which role and organisation, and why (newest first)."""
    registry = registry_of(request)
    user, person_id = _own(request)
    _person, rows = access_history(
        registry,
        person_id,
        actor=user.actor(),
        purpose=OWN_RECORD,
        limit=PAGE_ROWS + 1,
        before_id=before,
    )
    page = rows[:PAGE_ROWS]
    older = f"/me/access-log?before={page[-1][0]}" if len(rows) > PAGE_ROWS else ""
    return render(
        request,
        "access_log.html",
        title="access.title",
        rows=access_rows(page, translator(request)),
        older=older,
    )


@router.get("/me/notices")
def my_notices(request: Request, before: int | None = None) -> HTMLResponse:
    registry = registry_of(request)
    user, person_id = _own(request)
    _person, notices = list_notices_for(
        registry, person_id, PAGE_ROWS + 1, before, actor=user.actor(), purpose=OWN_RECORD
    )
    page = notices[:PAGE_ROWS]
    older = f"/me/notices?before={page[-1]['id']}" if len(notices) > PAGE_ROWS else ""
    return render(request, "notices.html", title="notices.title", notices=page, older=older)


@router.post("/me/contests")
async def contest_entry(request: Request) -> Response:
    """Contest one of my entries, with grounds and optional attachments."""
    refused = await contest_from_form(request)
    if refused is not None:
        return await run_in_threadpool(
            _record_page, request, error=refused.message, status=error_status(refused)
        )
    return RedirectResponse("/me?done=contest-opened", status_code=303)


def _consents_page(
    request: Request, *, done: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    registry = registry_of(request)
    user, person_id = _own(request)
    consents = consent.list_consents(registry, person_id, actor=user.actor(), purpose=OWN_RECORD)
    return render(
        request,
        "consents.html",
        title="consents.title",
        status=status,
        consents=consents,
        done=done_message(request, done),
        error=error,
    )


@router.get("/me/consents")
def my_consents(request: Request, done: str = "") -> HTMLResponse:
    return _consents_page(request, done=done)


async def _change_consent(request: Request, grant: bool) -> Response:
    form = await request.form()
    registry = registry_of(request)
    user, person_id = _own(request)
    organisation = field(form, "organisation", limit=consent.MAX_TEXT_CHARS)
    purpose = field(form, "purpose", limit=consent.MAX_TEXT_CHARS)
    change = consent.grant_consent if grant else consent.revoke_consent
    try:
        result = await run_in_threadpool(
            change, registry, person_id, organisation, purpose, user.actor()
        )
    except SocialCreditError as refused:
        return await run_in_threadpool(
            _consents_page, request, error=refused.message, status=error_status(refused)
        )
    done = "consent-granted" if grant else "consent-revoked"
    if result.status == "unchanged":
        done = "consent-unchanged"
    return RedirectResponse(f"/me/consents?done={done}", status_code=303)


@router.post("/me/consents/grant")
async def grant(request: Request) -> Response:
    return await _change_consent(request, grant=True)


@router.post("/me/consents/revoke")
async def revoke(request: Request) -> Response:
    return await _change_consent(request, grant=False)
