"""Searching the access log, for auditors (issue 4, item 7).

Every read of a person's data appends a row to ``access_log`` (``services.access``). A person
sees their own rows; an auditor searches all of them: by person, actor, organisation, action
and time, newest first, a page at a time (keyset pagination on the row id, so that a page
stays correct while new rows arrive).

Looking at who read a person's record is itself a read of that person's data: each person
who appears in a returned page gets one access row (action ``access-log``) naming the auditor
and the purpose, exactly as when the person's own log is read for them.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from socialcredit.domain.errors import InputError, InvalidPersonIdError
from socialcredit.domain.ids import normalise_person_id, person_id_problem
from socialcredit.services.access import LOCAL, AccessRecord, Actor, record_bulk_access
from socialcredit.services.registry import Registry
from socialcredit.store.schema import access_log

__all__ = ["AUDIT_PURPOSE", "MAX_PAGE", "AccessPage", "search_access"]

AUDIT_PURPOSE = "audit of the access log"
MAX_PAGE = 10_000


@dataclass(frozen=True, slots=True)
class AccessPage:
    rows: tuple[tuple[int, AccessRecord], ...]
    next_cursor: str | None  # pass it back as ``cursor`` for the next (older) page

    def as_dict(self) -> dict[str, Any]:
        return {
            "access": [{"id": row_id, **record.as_dict()} for row_id, record in self.rows],
            "next_cursor": self.next_cursor,
        }


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    text = cursor.strip()
    if not text.isdigit() or len(text) > 18:
        raise InputError(f"cursor {cursor!r} is not one this search handed out")
    return int(text)


def _person(registry: Registry, raw: str) -> str:
    """A valid resident ID, normalised; it need not be registered (anyone may be looked up)."""
    problem = person_id_problem(raw, registry.clock.today())
    if problem is not None:
        raise InvalidPersonIdError(f"{raw.strip()!r} is not a valid resident ID: {problem}")
    return normalise_person_id(raw)


def _query(
    person_id: str | None,
    actor: str | None,
    organisation: str | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    query = select(access_log)
    for column, value in (
        (access_log.c.person_id, person_id),
        (access_log.c.actor, actor),
        (access_log.c.organisation, organisation),
        (access_log.c.action, action),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(access_log.c.recorded_at >= since)
    if until is not None:
        query = query.where(access_log.c.recorded_at < until)
    return query


def search_access(
    registry: Registry,
    *,
    person_id: str | None = None,
    actor: str | None = None,
    organisation: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
    reader: Actor = LOCAL,
    purpose: str = AUDIT_PURPOSE,
) -> AccessPage:
    """Access rows matching every filter given, newest first, at most ``limit``.

    Filters match exactly (``person_id`` after normalising; ``since`` inclusive, ``until``
    exclusive, both aware). ``cursor`` continues after the page that handed it out. The
    people in the page get an access row each for this read (``reader``, ``purpose``).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    if since is not None and until is not None and until <= since:
        raise InputError("until must be after since")
    person = None if person_id is None else _person(registry, person_id)
    query = _query(person, actor, organisation, action, since, until)
    before = _cursor(cursor)
    if before is not None:
        query = query.where(access_log.c.id < before)
    # One row more than asked tells whether there is a next page.
    query = query.order_by(access_log.c.id.desc()).limit(limit + 1)
    with registry.database.read() as connection:
        found = connection.execute(query).all()
    rows = tuple((row.id, _record(row)) for row in found[:limit])
    people = sorted({record.person_id for _id, record in rows})
    if people:
        record_bulk_access(registry, reader, people, "access-log", purpose)
    more = len(found) > limit
    return AccessPage(rows, str(rows[-1][0]) if more else None)


def _record(row: Any) -> AccessRecord:
    return AccessRecord(
        row.person_id,
        row.actor,
        row.role,
        row.organisation,
        row.action,
        row.purpose,
        None if row.detail is None else json.loads(row.detail),
        row.recorded_at,
    )
