"""Auditors search the access log of everyone (issue 4, item 7), newest first, paged.

The search is itself a read of the data of the people it shows: each person in the answered
page gets an access-log row naming the auditor and the purpose (``services.audit``).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Query

from socialcredit.api.deps import CurrentUser, RegistryDep, SettingsDep
from socialcredit.api.due_process_schemas import AccessSearchRow
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.params import (
    MAX_TIMESTAMP_CHARS,
    Cursor,
    DeclaredPurpose,
    Limit,
    parse_moment,
)
from socialcredit.api.schemas import Page
from socialcredit.services.audit import AUDIT_PURPOSE, search_access

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])

Text = Annotated[str | None, Query(min_length=1, max_length=200)]
Moment = Annotated[
    str | None,
    Query(
        max_length=MAX_TIMESTAMP_CHARS,
        description="ISO 8601; without an offset it is read in the registry's time zone.",
    ),
]


@router.get(
    "/access",
    response_model=Page[AccessSearchRow],
    summary="Who read whose record, when and why: every filter given must match exactly",
)
def get_access(
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    declared: DeclaredPurpose,
    person: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    actor: Text = None,
    organisation: Text = None,
    action: Text = None,
    since: Moment = None,
    until: Moment = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    before = decode_cursor("audit-access", cursor)
    page = search_access(
        registry,
        person_id=person,
        actor=actor,
        organisation=organisation,
        action=action,
        since=parse_moment(registry, since, "since"),
        until=parse_moment(registry, until, "until"),
        limit=page_size(limit, settings.api_max_page_size),
        cursor=None if before is None else str(before),
        reader=user.actor(),
        purpose=declared or AUDIT_PURPOSE,
    )
    more = page.next_cursor is not None
    return {
        "items": page.as_dict()["access"],
        "next_cursor": encode_cursor("audit-access", int(page.next_cursor or 0)) if more else None,
    }
