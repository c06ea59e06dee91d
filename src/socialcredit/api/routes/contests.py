"""Contests over HTTP (issue 4, item 2): open, list, read, answer, decide, sweep.

Writes call ``services.contests`` with the account as actor; it refuses what the caller may
not do (a resident contesting someone else's entry, an agency answering for another, an
answer out of turn) with a stable code that ``api.errors`` maps to 403, 404 or 409. Reads go
through ``services.contest_reads``, which scopes them to what the caller may see and logs them
in the access log of each person shown.
"""

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.deps import CurrentUser, RegistryDep, SettingsDep
from socialcredit.api.due_process_schemas import (
    AnswerIn,
    AttachmentIn,
    ContestIn,
    ContestOut,
    DecisionIn,
    SweepOut,
)
from socialcredit.api.errors import ApiError
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.params import Cursor, DeclaredPurpose, Limit, purpose_or
from socialcredit.api.schemas import Page
from socialcredit.domain.errors import NotFoundError
from socialcredit.services import contests
from socialcredit.services.contest_reads import read_contest, read_contests
from socialcredit.services.users import User

__all__ = ["router"]

router = APIRouter(prefix="/contests", tags=["contests"])

# An agency reading its queue declares nothing by default: it reads to answer.
AGENCY_PURPOSE = "contest review"


def _decoded(attachments: list[AttachmentIn]) -> tuple[tuple[str, str, bytes], ...]:
    files = []
    for index, attachment in enumerate(attachments):
        try:
            content = base64.b64decode(attachment.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(
                422,
                "invalid-request",
                f"attachments.{index}.content_base64: not valid base64",
                details={"errors": [{"loc": ["body", "attachments", str(index)]}]},
            ) from None
        files.append((attachment.filename, attachment.content_type, content))
    return tuple(files)


def _refuse_other_agency(user: User, agency: str) -> None:
    # Before any lookup, so that an agency learns nothing about other agencies' entries.
    if user.role == "agency" and user.agency != agency.strip():
        raise ApiError(403, "not-your-agency", "an agency acts only on its own entries")


@router.post("", response_model=ContestOut, summary="Contest an entry (it becomes 'contested')")
def post_contest(body: ContestIn, registry: RegistryDep, user: CurrentUser) -> dict[str, Any]:
    try:
        view = contests.open_contest(
            registry,
            body.agency,
            body.event_id,
            grounds=body.grounds,
            actor=user.actor(),
            attachments=_decoded(body.attachments),
        )
    except NotFoundError:
        if user.role != "resident":
            raise
        # As for someone else's entry: a resident learns nothing about entries not theirs.
        raise ApiError(
            403, "not-your-record", "a resident may contest only their own entries"
        ) from None
    return view.as_dict()


@router.get(
    "",
    response_model=Page[ContestOut],
    summary="Contests the account may see, oldest first (an agency: its queue)",
)
def get_contests(
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    declared: DeclaredPurpose,
    overdue: Annotated[bool, Query(description="Only unanswered ones past due.")] = False,
    open_only: Annotated[bool, Query(alias="open", description="Only contests not closed.")] = (
        False
    ),
    agency: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    person: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    size = page_size(limit, settings.api_max_page_size)
    views = read_contests(
        registry,
        actor=user.actor(),
        purpose=purpose_or(declared, user.role, AGENCY_PURPOSE),
        overdue=overdue,
        open_only=open_only,
        agency=agency,
        person_id=person,
        limit=size + 1,
        after_id=decode_cursor("contests", cursor),
    )
    page = views[:size]
    more = len(views) > size
    return {
        "items": [view.as_dict() for view in page],
        "next_cursor": encode_cursor("contests", page[-1].id) if more else None,
    }


@router.get(
    "/{agency}/{event_id}",
    response_model=ContestOut,
    summary="The newest contest of an entry, with every step",
)
def get_contest(
    agency: str, event_id: str, registry: RegistryDep, user: CurrentUser, declared: DeclaredPurpose
) -> dict[str, Any]:
    purpose = purpose_or(declared, user.role, AGENCY_PURPOSE)
    return read_contest(registry, agency, event_id, actor=user.actor(), purpose=purpose).as_dict()


@router.post(
    "/{agency}/{event_id}/answer",
    response_model=ContestOut,
    summary="The reporting agency's answer: verified, corrected or withdrawn",
)
def post_answer(
    agency: str, event_id: str, body: AnswerIn, registry: RegistryDep, user: CurrentUser
) -> dict[str, Any]:
    _refuse_other_agency(user, agency)
    view = contests.answer_contest(
        registry,
        agency,
        event_id,
        body.answer,
        reason=body.reason,
        actor=user.actor(),
        corrected_by=body.corrected_by,
    )
    return view.as_dict()


@router.post(
    "/{agency}/{event_id}/decision",
    response_model=ContestOut,
    summary="A review officer's decision, upheld or overturned, with written reasons",
)
def post_decision(
    agency: str, event_id: str, body: DecisionIn, registry: RegistryDep, user: CurrentUser
) -> dict[str, Any]:
    view = contests.decide_contest(
        registry, agency, event_id, body.decision, reason=body.reason, actor=user.actor()
    )
    return view.as_dict()


@router.post(
    "/sweep",
    response_model=SweepOut,
    summary="Overturn every contest its agency did not answer in time (run daily)",
)
def post_sweep(registry: RegistryDep) -> dict[str, Any]:
    return {"overturned": [view.as_dict() for view in contests.sweep_overdue(registry)]}
