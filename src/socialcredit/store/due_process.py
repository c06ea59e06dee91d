"""Reads and appends for entries' state, contests and their steps.

Status changes are appended to ``entry_changes`` with the entry's full new state (status and
``ends_on``), so that the newest row per entry is its state and older rows are its history.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, func, literal, select

from socialcredit.store import ledger
from socialcredit.store.bulk import insert_rows
from socialcredit.store.repository import latest_changes
from socialcredit.store.schema import (
    contest_steps,
    contests,
    entries,
)

__all__ = [
    "CHANGE_COLUMNS",
    "EntryState",
    "append_entry_changes",
    "contest_steps_of",
    "entry_by_key",
    "insert_attachment",
    "insert_contest",
    "insert_contest_step",
    "open_contest_of",
]

CHANGE_COLUMNS = ("entry_id", "status", "ends_on", "reason", "actor", "recorded_at")


@dataclass(frozen=True, slots=True)
class EntryState:
    id: int
    agency: str
    event_id: str
    person_id: str
    rule: str
    occurred_on: date
    status: str
    ends_on: date | None


def entry_by_key(connection: Connection, agency: str, event_id: str) -> EntryState | None:
    this = select(entries.c.id).where(entries.c.agency == agency, entries.c.event_id == event_id)
    latest = latest_changes(among=this).subquery()
    query = (
        select(
            entries.c.id,
            entries.c.agency,
            entries.c.event_id,
            entries.c.person_id,
            entries.c.rule,
            entries.c.occurred_on,
            func.coalesce(latest.c.status, literal("active")),
            latest.c.ends_on,
        )
        .outerjoin(latest, latest.c.entry_id == entries.c.id)
        .where(entries.c.agency == agency, entries.c.event_id == event_id)
    )
    row = connection.execute(query).first()
    return None if row is None else EntryState(*row)


def append_entry_changes(connection: Connection, frame: pl.DataFrame) -> int:
    """Append entry_changes rows (entry_id, status, ends_on, reason, actor, recorded_at)."""
    frame = frame.with_columns(pl.col("recorded_at").dt.replace_time_zone(None))
    return insert_rows(connection, "entry_changes", frame.select(CHANGE_COLUMNS), CHANGE_COLUMNS)


def change_frame(
    entry: EntryState,
    status: str,
    ends_on: date | None,
    reason: str,
    actor: str,
    recorded_at: datetime,
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_id": [entry.id],
            "status": [status],
            "ends_on": [ends_on],
            "reason": [reason],
            "actor": [actor],
            "recorded_at": [recorded_at.replace(tzinfo=None)],
        },
        schema={
            "entry_id": pl.Int64,
            "status": pl.String,
            "ends_on": pl.Date,
            "reason": pl.String,
            "actor": pl.String,
            "recorded_at": pl.Datetime("us"),
        },
    )


def insert_contest(connection: Connection, values: dict[str, Any]) -> int:
    """Insert a contest and its ledger leaf; returns its id."""
    return int(ledger.insert_row(connection, "contests", values))


def insert_contest_step(connection: Connection, values: dict[str, Any]) -> None:
    ledger.insert_row(connection, "contest_steps", values)


def insert_attachment(connection: Connection, values: dict[str, Any]) -> None:
    ledger.insert_row(connection, "contest_attachments", values)


def open_contest_of(connection: Connection, entry_id: int) -> dict[str, Any] | None:
    """The entry's newest contest, with its steps so far (None if never contested)."""
    row = connection.execute(
        select(contests).where(contests.c.entry_id == entry_id).order_by(contests.c.id.desc())
    ).first()
    if row is None:
        return None
    contest = dict(row._mapping)
    contest["steps"] = contest_steps_of(connection, contest["id"])
    return contest


def contest_steps_of(connection: Connection, contest_id: int) -> list[dict[str, Any]]:
    query = (
        select(contest_steps)
        .where(contest_steps.c.contest_id == contest_id)
        .order_by(contest_steps.c.id)
    )
    return [dict(row._mapping) for row in connection.execute(query)]
