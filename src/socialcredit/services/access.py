"""Who looked at whose record, when and why: the access log every read path writes.

DESIGN.md principle 2: a person sees their whole record, including everyone who looked at it
and why. Each read of a person's data (score, statement, check, export row) appends one row
with the actor, their role and organisation, the action and the declared purpose.
"""

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Connection, insert, select

from socialcredit.domain.invariant import invariant
from socialcredit.services.registry import Registry
from socialcredit.store import ledger
from socialcredit.store.bulk import insert_rows
from socialcredit.store.db import Database
from socialcredit.store.group_commit import GroupCommit
from socialcredit.store.schema import access_log

__all__ = [
    "LOCAL",
    "AccessRecord",
    "Actor",
    "SmallWrite",
    "list_access",
    "record_access",
    "record_bulk_access",
    "share_access_transaction",
]

ACCESS_COLUMNS = (
    "person_id",
    "actor",
    "role",
    "organisation",
    "action",
    "purpose",
    "detail",
    "recorded_at",
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking: a user of the API or the portal, or an operator at the command line."""

    name: str
    role: str  # agency | clerk | resident | verifier | admin | auditor
    organisation: str | None = None
    agency: str | None = None
    person_id: str | None = None


# The default for library callers that do not say who they are: still logged, never skipped.
LOCAL = Actor("local", "clerk", "Social Credit Management Office")


@dataclass(frozen=True, slots=True)
class AccessRecord:
    person_id: str
    actor: str
    role: str
    organisation: str | None
    action: str
    purpose: str
    detail: dict[str, Any] | None
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "actor": self.actor,
            "role": self.role,
            "organisation": self.organisation,
            "action": self.action,
            "purpose": self.purpose,
            "detail": self.detail,
            "recorded_at": self.recorded_at.isoformat(),
        }


def record_access(
    registry: Registry,
    actor: Actor,
    person_id: str,
    action: str,
    purpose: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one access row and its leaf; returns once both are committed.

    Concurrent callers share one transaction (``store.group_commit``): under load a policy
    check no longer pays a whole write transaction for its one row.
    """
    row = {
        "person_id": person_id,
        "actor": actor.name,
        "role": actor.role,
        "organisation": actor.organisation,
        "action": action,
        "purpose": purpose,
        "detail": None if detail is None else json.dumps(detail, ensure_ascii=False, default=str),
        "recorded_at": registry.clock.now(),
    }
    _access_writer(registry).submit(row)


class SmallWrite(Protocol):
    """A small write that rides in the access log's group transactions (a verifier's check
    allowance): the checks that write access rows take it too, so under load both share one
    write transaction instead of paying one each. ``lock_order``: such writes are made in
    this order within a transaction, so that two processes never wait for each other's rows
    in opposite orders."""

    lock_order: int

    def write(self, connection: Connection) -> None: ...


def share_access_transaction(registry: Registry, write: SmallWrite) -> None:
    """Make ``write`` in the next group transaction of the access log; returns once it is
    committed, raises what that transaction raised."""
    _access_writer(registry).submit(write)


_Item = dict[str, Any] | SmallWrite
_WRITERS: "weakref.WeakKeyDictionary[Database, GroupCommit[_Item]]" = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _access_writer(registry: Registry) -> GroupCommit[_Item]:
    """The group committer of the registry's database (one per database per process)."""
    with _WRITERS_LOCK:
        writer = _WRITERS.get(registry.database)
        if writer is None:
            writer = GroupCommit(registry.database, _write_group)
            _WRITERS[registry.database] = writer
        return writer


def _write_group(connection: Connection, items: Sequence[_Item]) -> None:
    """The access rows in one statement (ids back in their order), then their leaves in one
    append (one tree update for the group); the small writes in their lock order."""
    rows = [item for item in items if isinstance(item, dict)]
    if rows:
        ledger.lock_head(connection)  # first, as every appender does: one lock order
    small = sorted(
        (item for item in items if not isinstance(item, dict)), key=attrgetter("lock_order")
    )
    for write in small:
        write.write(connection)
    if not rows:
        return
    result = connection.execute(_INSERT_ACCESS_ROWS, rows)
    ids = [row[0] for row in result]
    invariant(len(ids) == len(rows), "one id per access row")
    ledger.record_rows(
        connection, "access_log", [{**row, "id": key} for row, key in zip(rows, ids, strict=True)]
    )


_INSERT_ACCESS_ROWS = insert(access_log).returning(access_log.c.id, sort_by_parameter_order=True)


def record_bulk_access(
    registry: Registry,
    actor: Actor,
    person_ids: Sequence[str] | pl.Series,
    action: str,
    purpose: str,
) -> int:
    """One access row per person (an export), written in bulk."""
    ids = pl.Series("person_id", person_ids, dtype=pl.String)
    moment = registry.clock.now().replace(tzinfo=None)
    frame = pl.DataFrame({"person_id": ids}).with_columns(
        actor=pl.lit(actor.name),
        role=pl.lit(actor.role),
        organisation=pl.lit(actor.organisation, dtype=pl.String),
        action=pl.lit(action),
        purpose=pl.lit(purpose),
        detail=pl.lit(None, dtype=pl.String),
        recorded_at=pl.lit(moment, dtype=pl.Datetime("us")),
    )
    with registry.database.write() as connection:
        return insert_rows(connection, "access_log", frame, ACCESS_COLUMNS)


def list_access(
    registry: Registry, person_id: str, *, limit: int = 1000, before_id: int | None = None
) -> list[tuple[int, AccessRecord]]:
    """The newest ``limit`` access rows of a person (older than ``before_id``), newest first."""
    query = select(access_log).where(access_log.c.person_id == person_id)
    if before_id is not None:
        query = query.where(access_log.c.id < before_id)
    query = query.order_by(access_log.c.id.desc()).limit(limit)
    with registry.database.read() as connection:
        rows = connection.execute(query).all()
    return [
        (
            row.id,
            AccessRecord(
                row.person_id,
                row.actor,
                row.role,
                row.organisation,
                row.action,
                row.purpose,
                None if row.detail is None else json.loads(row.detail),
                row.recorded_at,
            ),
        )
        for row in rows
    ]
