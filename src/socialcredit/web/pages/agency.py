"""A reporting agency: its contest queue (answer within the deadline) and event uploads.

Uploads go through the same reader and columnar import as ``socialcredit events import`` and
``POST /api/v1/events/bulk`` (``services.submissions``): rows naming another agency are
rejected ``not-your-agency``, and the page shows the counts, the first rejected rows and a
link to the rejects file.
"""

import hashlib
import tempfile
from pathlib import Path
from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from socialcredit.api.errors import ApiError
from socialcredit.domain.errors import InputError, SocialCreditError
from socialcredit.files.readers import FORMATS
from socialcredit.services.contest_reads import read_contests
from socialcredit.services.contests import ANSWERS, GROUNDS_CHARS_MAX, answer_contest
from socialcredit.services.registry import Registry
from socialcredit.services.submissions import Submission, submit_event_file
from socialcredit.services.users import User
from socialcredit.web.forms import field, uploads
from socialcredit.web.pages.common import (
    account,
    done_message,
    error_status,
    settings_of,
    translator,
)
from socialcredit.web.rejects import new_rejects_file, owned_rejects_file
from socialcredit.web.render import registry_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

QUEUE_PURPOSE = "answering contests"
ENCODINGS = ("utf-8", "gb18030")
COPY_CHUNK = 1024 * 1024


def _agency(user: User) -> str:
    if user.agency is None:  # the users service never makes such an agency account
        raise RuntimeError(f"agency account {user.name} is bound to no agency")
    return user.agency


def _queue_page(
    request: Request, *, done: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    registry = registry_of(request)
    user = account(request)
    agency = _agency(user)
    contests = read_contests(
        registry, actor=user.actor(), purpose=QUEUE_PURPOSE, agency=agency, open_only=True,
        limit=1000,
    )  # fmt: skip
    return render(
        request,
        "agency_queue.html",
        title="agency.queue.title",
        status=status,
        agency=agency,
        contests=[c for c in contests if c.state == "awaiting-agency"],
        answers=ANSWERS,
        contest_days=settings_of(request).contest_answer_days,
        done=done_message(request, done),
        error=error,
    )


@router.get("/agency/contests")
def queue(request: Request, done: str = "") -> HTMLResponse:
    return _queue_page(request, done=done)


@router.post("/agency/contests/answer")
async def answer(request: Request) -> Response:
    """The agency's answer: verified, withdrawn, or corrected by an event it sent."""
    form = await request.form()
    registry = registry_of(request)
    user = account(request)
    event_id = field(form, "event_id", limit=5000)
    outcome = field(form, "answer", limit=20)
    reason = field(form, "reason", limit=GROUNDS_CHARS_MAX)
    corrected_by = field(form, "corrected_by", limit=5000) or None
    try:
        await run_in_threadpool(
            answer_contest,
            registry,
            _agency(user),
            event_id,
            outcome,
            reason=reason,
            actor=user.actor(),
            corrected_by=corrected_by,
        )
    except SocialCreditError as refused:
        return await run_in_threadpool(
            _queue_page, request, error=refused.message, status=error_status(refused)
        )
    return RedirectResponse("/agency/contests?done=answered", status_code=303)


def _upload_page(
    request: Request,
    *,
    result: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    limit = settings_of(request).api_max_request_bytes
    return render(
        request,
        "agency_upload.html",
        title="upload.title",
        status=status,
        agency=_agency(account(request)),
        max_size=f"{limit // (1024 * 1024)} MiB",
        result=result,
        done="",
        error=error,
    )


@router.get("/agency/upload")
def upload_form(request: Request) -> HTMLResponse:
    return _upload_page(request)


def _store(upload: IO[bytes], path: Path) -> str:
    """Copy the upload in chunks (never whole in memory); its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        while chunk := upload.read(COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _import(registry: Registry, user: User, upload: Any, encoding: str) -> dict[str, Any]:
    name = Path(upload.filename or "upload").name[:200]
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise ApiError(
            415,
            "unsupported-media-type",
            f"the file name must end in {', '.join(sorted(FORMATS))} (got {name!r})",
        )
    rejects = new_rejects_file(registry.database.url, user.id)
    with tempfile.TemporaryDirectory(prefix="socialcredit-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        _store(upload.file, path)
        submission: Submission = submit_event_file(
            registry,
            _agency(user),
            path,
            source=f"portal:{user.name}:{name}",
            encoding=encoding,
            rejected_rows_listed=registry.settings.api_max_page_size,
            rejects_path=rejects.path,
        )
    counts = submission.result
    return {
        "name": name,
        **counts.as_dict(),
        "rows": submission.rows,
        "rejects_href": f"/agency/rejects/{rejects.token}" if counts.rejected else "",
    }


@router.post("/agency/upload")
async def upload(request: Request) -> Response:
    form = await request.form()
    files = uploads(form, "file")
    encoding = field(form, "encoding", limit=32) or "utf-8"
    t = translator(request)
    try:
        if not files:
            raise InputError(t("upload.no_file"), code="missing-file")
        if encoding not in ENCODINGS:
            raise InputError(t("upload.bad_encoding"), code="invalid-encoding")
        registry, user = registry_of(request), account(request)
        result = await run_in_threadpool(_import, registry, user, files[0], encoding)
    except SocialCreditError as refused:
        return _upload_page(request, error=refused.message, status=error_status(refused))
    return _upload_page(request, result=result)


@router.get("/agency/rejects/{token}")
def rejects_file(request: Request, token: str) -> Response:
    user = account(request)
    path = owned_rejects_file(registry_of(request).database.url, user.id, token)
    if path is None:
        raise ApiError(404, "not-found", "no such rejects file (they are kept for a day)")
    return FileResponse(
        path,
        media_type="text/csv",
        filename="rejects.csv",
        headers={"Cache-Control": "no-store"},
    )
