"""Notices to the person: what was recorded against them, and how to contest it.

Rongcheng's own rules promise "warnings before punishment"; the FCRA adds the adverse-action
notice. A notice is written in the same transaction as what it tells about:

- ``entry``: a negative entry, a grade cap or a blacklisting was recorded (on import);
- ``adverse-action``: a verifier's check answered "not eligible";
- ``contest``: a contest was opened, answered or decided.

Notices are delivered by a notifier (``services.notifiers``); here they are only recorded and
listed. Every text is in Chinese and English.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
)

from socialcredit.domain.invariant import invariant
from socialcredit.services.registry import Registry
from socialcredit.store import ledger
from socialcredit.store.schema import OTHER_NOTICES, entries, notices

__all__ = [
    "HOW_TO_CONTEST",
    "Notice",
    "adverse",
    "adverse_rows",
    "entry_facts",
    "entry_notice_rows",
    "entry_notice_text",
    "notice_detail",
    "list_notices",
    "record_entry_notices",
    "record_notice",
    "stored_texts",
]

HOW_TO_CONTEST = (
    "You may contest this at the Social Credit Management Office or in the resident portal; "
    "the reporting agency must answer within the contest period, or the entry stops counting. "
    "如有异议，可到社会信用管理办公室或在居民门户提出申诉；报送单位须在期限内答复，逾期未答复的记录不再计分。"
)


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    person_id: str
    kind: str
    subject: str
    body: str
    detail: dict[str, Any] | None
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "person_id": self.person_id,
            "kind": self.kind,
            "subject": self.subject,
            "body": self.body,
            "detail": self.detail,
            "recorded_at": self.recorded_at.isoformat(),
        }


def record_notice(
    connection: Connection,
    *,
    person_id: str,
    kind: str,
    subject: str,
    body: str,
    detail: dict[str, Any],
    recorded_at: datetime,
    entry_id: int | None = None,
) -> None:
    """Append one notice in the caller's transaction (one row: no frame, no bulk path)."""
    ledger.insert_row(
        connection,
        "notices",
        {
            "person_id": person_id,
            "kind": kind,
            "entry_id": entry_id,
            "subject": subject,
            "body": f"{body}\n\n{HOW_TO_CONTEST}",
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
            "recorded_at": recorded_at,
        },
    )


def entry_notice_text(detail: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and body of an ``entry`` notice, from its stored facts.

    Imports store an entry notice as its facts only (``detail``): the texts are the same for
    every notice of a rule and would be most of the bytes written per negative entry. They are
    written here, on reading, always the same way for the same facts.
    """
    agency, event_id, rule = detail["agency"], detail["event_id"], detail["rule"]
    occurred, until, points = detail["occurred_on"], detail["counts_until"], detail["points"]
    window = ""
    if detail.get("blacklist_until"):
        window += (
            f"; blacklisted until {detail['blacklist_until']} 列入名单至{detail['blacklist_until']}"
        )
    if detail.get("grade_cap"):
        cap = detail["grade_cap"]
        window += f"; grade no better than {cap} while it counts 计分期间等级不高于{cap}"
    subject = f"New entry {rule} from {agency} / 新的信用记录"
    body = (
        f"{agency} reported event {event_id} of {occurred} under rule {rule}: {points} points, "
        f"counting until {until}{window}.\n"
        f"{agency}于{occurred}报送事件{event_id}（规则{rule}）：{points}分，计分至{until}。"
        f"\n\n{HOW_TO_CONTEST}"
    )
    return subject, body


def stored_texts(
    kind: str, subject: str | None, body: str | None, detail: Mapping[str, Any] | None
) -> tuple[str, str]:
    """The subject and body of a stored notice row, written out if it holds only facts."""
    if subject is not None and body is not None:
        return subject, body
    invariant(kind == "entry" and detail is not None, "only entry notices are stored as facts")
    assert detail is not None  # for mypy, after the invariant
    return entry_notice_text(detail)


def entry_facts(connection: Connection, entry_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The facts an entry notice tells, by entry id, read from the entries themselves."""
    wanted = sorted(set(entry_ids))
    if not wanted:
        return {}
    query = select(
        entries.c.id,
        entries.c.agency,
        entries.c.event_id,
        entries.c.rule,
        entries.c.points,
        entries.c.occurred_on,
        entries.c.counts_until,
        entries.c.blacklist_until,
        entries.c.grade_cap,
        entries.c.catalogue_version,
    ).where(entries.c.id.in_(wanted))
    facts = {}
    for row in connection.execute(query):
        facts[row.id] = {
            "agency": row.agency,
            "event_id": row.event_id,
            "rule": row.rule,
            "points": row.points,
            "occurred_on": row.occurred_on.isoformat(),
            "counts_until": row.counts_until.isoformat(),
            "blacklist_until": None
            if row.blacklist_until is None
            else row.blacklist_until.isoformat(),
            "grade_cap": row.grade_cap,
            "catalogue_version": row.catalogue_version,
        }
    return facts


def notice_detail(
    kind: str, detail: str | None, entry_id: int | None, facts: Mapping[int, dict[str, Any]]
) -> dict[str, Any] | None:
    """A stored notice's detail: its own JSON, or for an entry notice stored without one the
    facts of its entry."""
    if detail is not None:
        parsed: dict[str, Any] = json.loads(detail)
        return parsed
    if kind == "entry" and entry_id is not None:
        return facts.get(entry_id)
    return None


def adverse() -> ColumnElement[bool]:
    """An entry a person gets a notice for: it costs points, caps the grade or blacklists."""
    return or_(
        entries.c.points < 0,
        entries.c.grade_cap.is_not(None),
        entries.c.blacklist_until.is_not(None),
    )


def adverse_rows() -> pl.Expr:
    """``adverse`` on a frame of entries (``verify`` checks that each such entry has a notice)."""
    return (
        (pl.col("points") < 0)
        | pl.col("grade_cap").is_not_null()
        | pl.col("blacklist_until").is_not_null()
    )


def entry_notice_rows(
    written: pl.DataFrame, ids: pl.Series | None = None
) -> tuple[str, pl.DataFrame]:
    """The notices of adverse entries just written (with their ids), as rows of ``notices``.

    A row holds only whom it is for, which entry, and the entry's moment; the facts are the
    entry's own columns (``entry_facts``) and the texts are written from them on reading
    (``entry_notice_text``). In entry id order. PostgreSQL knows a batch's ids before it has
    stored the entries, and writes these right behind them (``store.bulk.merge_entries``).
    ``ids``: the notices' own ids, drawn beforehand (at least one per row; those left over
    are a gap), so that the server need not draw them while it writes; else it does.
    """
    rows = (
        written.filter(adverse_rows())
        .sort("id")
        .select("person_id", kind=pl.lit("entry"), entry_id="id", recorded_at="recorded_at")
    )
    if ids is not None and ids.len() >= rows.height:
        rows = rows.with_columns(id=ids.head(rows.height))
    return "notices", rows


def record_entry_notices(connection: Connection, import_id: int, mark: int) -> int:
    """The notices of a batch's adverse entries (``entry_notice_rows``), where the batch's
    entry ids are known only once stored (SQLite): those of import ``import_id`` above id
    ``mark``.

    One ``INSERT … SELECT`` in the batch's transaction, no round trip through Python.
    ``import_id`` keeps out entries that a concurrent import committed above the mark.
    Returns the count.
    """
    chosen = (
        select(entries.c.person_id, literal("entry"), entries.c.id, entries.c.recorded_at)
        .where(entries.c.id > mark, entries.c.import_id == import_id, adverse())
        .order_by(entries.c.id)
    )
    inserted = connection.execute(
        insert(notices).from_select(["person_id", "kind", "entry_id", "recorded_at"], chosen)
    )
    return int(inserted.rowcount)


def _person_notices(connection: Connection, person_id: str, before_id: int | None) -> Any:
    """Newest first: the entry notices through the person's entries, the others by person
    (the two indexes of ``notices``; the first branch repeats the partial index's predicate
    word for word, so that SQLite uses it)."""
    other = select(notices).where(notices.c.person_id == person_id, text(f"({OTHER_NOTICES})"))
    by_entry = (
        select(notices)
        .join(entries, entries.c.id == notices.c.entry_id)
        .where(entries.c.person_id == person_id, notices.c.kind == "entry")
    )
    if before_id is not None:
        other = other.where(notices.c.id < before_id)
        by_entry = by_entry.where(notices.c.id < before_id)
    both = union_all(other, by_entry).subquery()
    return select(both).order_by(both.c.id.desc())


def list_notices(
    registry: Registry, person_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[Notice]:
    """A person's notices, newest first (older than ``before_id`` for the next page)."""
    with registry.database.read() as connection:
        query = _person_notices(connection, person_id, before_id).limit(limit)
        rows = connection.execute(query).all()
        facts = entry_facts(
            connection, (r.entry_id for r in rows if r.detail is None and r.entry_id)
        )
    listed = []
    for row in rows:
        detail = notice_detail(row.kind, row.detail, row.entry_id, facts)
        subject, body = stored_texts(row.kind, row.subject, row.body, detail)
        listed.append(
            Notice(row.id, row.person_id, row.kind, subject, body, detail, row.recorded_at)
        )
    return listed
