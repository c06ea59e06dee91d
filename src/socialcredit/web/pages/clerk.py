"""The office's clerk: find a person, their full statement, the printed PDF, contests for them,
and the review queue (contests awaiting a decision, and those past the agency's deadline).

Every read goes through the same services as the command line with the clerk's account as
the actor and the purpose the clerk declared (default "office enquiry"), so the person sees
in their access log that the office looked, who, and why.
"""

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from socialcredit.api.deps import clean_purpose
from socialcredit.domain.errors import SocialCreditError
from socialcredit.services import standing
from socialcredit.services.contest_reads import read_contests
from socialcredit.services.contests import (
    DECISIONS,
    GROUNDS_CHARS_MAX,
    decide_contest,
    sweep_overdue,
)
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
from socialcredit.web.views import contestable_entries, statement_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

QUEUE_LIMIT = 500


def _purpose(raw: str) -> str:
    return clean_purpose(raw) if raw.strip() else standing.OFFICE_ENQUIRY


def _search_page(
    request: Request, person_id: str, purpose: str, *, error: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "clerk_search.html",
        title="clerk.search.title",
        status=status,
        person_id=person_id,
        purpose=purpose,
        done="",
        error=error,
    )


@router.get("/clerk")
def clerk_search(request: Request, person_id: str = "", purpose: str = "") -> Response:
    """The search form; with an ID, on to that person's page (if the ID is registered)."""
    if not person_id.strip():
        return _search_page(request, "", purpose)
    try:
        found = standing.registered_person_id(registry_of(request), person_id)
    except SocialCreditError as refused:
        status = error_status(refused)
        return _search_page(request, person_id, purpose, error=refused.message, status=status)
    query = urlencode({"purpose": _purpose(purpose)})
    return RedirectResponse(f"/clerk/people/{found}?{query}", status_code=303)


def _person_page(
    request: Request,
    person_id: str,
    purpose: str,
    *,
    done: str = "",
    error: str = "",
    status: int = 200,
) -> HTMLResponse:
    registry = registry_of(request)
    actor = account(request).actor()
    purpose = _purpose(purpose)
    statement = standing.statement(registry, person_id, actor=actor, purpose=purpose)
    contests = read_contests(
        registry, actor=actor, purpose=purpose, person_id=statement.id, limit=QUEUE_LIMIT
    )
    view = statement_view(registry, statement, contests, translator(request).language)
    settings = settings_of(request)
    return render(
        request,
        "person.html",
        title="clerk.person.title",
        status=status,
        st=view,
        purpose=purpose,
        done=done_message(request, done),
        error=error,
        pdf_href=f"/clerk/people/{statement.id}/statement.pdf?" + urlencode({"purpose": purpose}),
        contestable=contestable_entries(view),
        contest_action=f"/clerk/people/{statement.id}/contests?" + urlencode({"purpose": purpose}),
        contest_days=settings.contest_answer_days,
        max_attachments=settings.max_attachments,
        max_attachment_size=f"{settings.max_attachment_bytes // (1024 * 1024)} MiB",
    )


@router.get("/clerk/people/{person_id}")
def person(request: Request, person_id: str, purpose: str = "", done: str = "") -> HTMLResponse:
    return _person_page(request, person_id, purpose, done=done)


@router.get("/clerk/people/{person_id}/statement.pdf")
def person_pdf(request: Request, person_id: str, purpose: str = "") -> Response:
    """The signed A4 statement, as the office prints it at the service hall."""
    registry = registry_of(request)
    actor = account(request).actor()
    statement = standing.statement(registry, person_id, actor=actor, purpose=_purpose(purpose))
    return signed_pdf(registry, statement)


@router.post("/clerk/people/{person_id}/contests")
async def open_for_person(request: Request, person_id: str, purpose: str = "") -> Response:
    """Open a contest for the person (they came to the office, or sent a letter)."""
    refused = await contest_from_form(request)
    if refused is not None:
        return await run_in_threadpool(
            _person_page,
            request,
            person_id,
            purpose,
            error=refused.message,
            status=error_status(refused),
        )
    query = urlencode({"purpose": _purpose(purpose), "done": "contest-opened"})
    return RedirectResponse(f"/clerk/people/{quote(person_id.strip())}?{query}", status_code=303)


def _queue_page(
    request: Request, *, done: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    registry = registry_of(request)
    actor = account(request).actor()
    open_contests = read_contests(
        registry, actor=actor, purpose="review of contests", open_only=True, limit=QUEUE_LIMIT
    )
    sections = [
        {
            "key": "awaiting_decision",
            "contests": [c for c in open_contests if c.state == "awaiting-decision"],
            "decide": True,
            "decisions": DECISIONS,
        },
        {"key": "overdue", "contests": [c for c in open_contests if c.overdue], "decide": False},
        {
            "key": "waiting",
            "contests": [
                c for c in open_contests if c.state == "awaiting-agency" and not c.overdue
            ],
            "decide": False,
        },
    ]
    return render(
        request,
        "review_queue.html",
        title="review.title",
        status=status,
        sections=sections,
        done=done_message(request, done),
        error=error,
    )


@router.get("/clerk/contests")
def review_queue(request: Request, done: str = "") -> HTMLResponse:
    return _queue_page(request, done=done)


@router.post("/clerk/contests/decide")
async def decide(request: Request) -> Response:
    """A review officer's decision on a contest the agency verified: upheld or overturned."""
    form = await request.form()
    registry = registry_of(request)
    agency = field(form, "agency", limit=200)
    event_id = field(form, "event_id", limit=5000)
    decision = field(form, "decision", limit=20)
    reason = field(form, "reason", limit=GROUNDS_CHARS_MAX)
    actor = account(request).actor()
    try:
        await run_in_threadpool(
            decide_contest, registry, agency, event_id, decision, reason=reason, actor=actor
        )
    except SocialCreditError as refused:
        return await run_in_threadpool(
            _queue_page, request, error=refused.message, status=error_status(refused)
        )
    return RedirectResponse("/clerk/contests?done=decided", status_code=303)


@router.post("/clerk/contests/sweep")
async def sweep(request: Request) -> Response:
    """Apply the deadline now: contests the agency left unanswered are overturned."""
    await run_in_threadpool(sweep_overdue, registry_of(request))
    return RedirectResponse("/clerk/contests?done=swept", status_code=303)
