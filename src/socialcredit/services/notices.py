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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from socialcredit.domain.invariant import invariant
from socialcredit.services.registry import Registry
from socialcredit.store.bulk import insert_rows
from socialcredit.store.schema import notices

__all__ = [
    "HOW_TO_CONTEST",
    "NOTICE_COLUMNS",
    "Notice",
    "entry_notice_text",
    "entry_notices",
    "list_notices",
    "record_notice",
    "stored_texts",
]

NOTICE_COLUMNS = ("person_id", "kind", "entry_id", "subject", "body", "detail", "recorded_at")
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
    """Append one notice in the caller's transaction."""
    frame = pl.DataFrame(
        {
            "person_id": [person_id],
            "kind": [kind],
            "entry_id": [entry_id],
            "subject": [subject],
            "body": [f"{body}\n\n{HOW_TO_CONTEST}"],
            "detail": [json.dumps(detail, ensure_ascii=False, default=str)],
            "recorded_at": [recorded_at.replace(tzinfo=None)],
        },
        schema_overrides={"entry_id": pl.Int64, "recorded_at": pl.Datetime("us")},
    )
    insert_rows(connection, "notices", frame, NOTICE_COLUMNS)


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


def entry_notices(accepted: pl.DataFrame, recorded_at: datetime) -> pl.DataFrame:
    """Notice rows for accepted entries that cost points, cap the grade or blacklist.

    ``accepted`` holds the judged columns (n_agency, n_event_id, n_person_id, n_rule,
    n_occurred, points, counts_until, blacklist_until, grade_cap, version). Only the facts are
    stored; ``entry_notice_text`` writes them out when the notice is read.
    """
    adverse = accepted.filter(
        (pl.col("points") < 0)
        | pl.col("grade_cap").is_not_null()
        | pl.col("blacklist_until").is_not_null()
    )
    detail = pl.struct(
        agency="n_agency",
        event_id="n_event_id",
        rule="n_rule",
        points="points",
        occurred_on=pl.col("n_occurred").dt.to_string("%Y-%m-%d"),
        counts_until=pl.col("counts_until").dt.to_string("%Y-%m-%d"),
        blacklist_until=pl.col("blacklist_until").dt.to_string("%Y-%m-%d"),
        grade_cap="grade_cap",
        catalogue_version="version",
    ).struct.json_encode()
    return adverse.select(
        person_id="n_person_id",
        kind=pl.lit("entry"),
        entry_id=pl.lit(None, pl.Int64),
        subject=pl.lit(None, pl.String),
        body=pl.lit(None, pl.String),
        detail=detail,
        recorded_at=pl.lit(recorded_at.replace(tzinfo=None), dtype=pl.Datetime("us")),
    )


def list_notices(
    registry: Registry, person_id: str, *, limit: int = 100, before_id: int | None = None
) -> list[Notice]:
    """A person's notices, newest first (older than ``before_id`` for the next page)."""
    query = select(notices).where(notices.c.person_id == person_id)
    if before_id is not None:
        query = query.where(notices.c.id < before_id)
    query = query.order_by(notices.c.id.desc()).limit(limit)
    with registry.database.read() as connection:
        rows = connection.execute(query).all()
    listed = []
    for row in rows:
        detail = None if row.detail is None else json.loads(row.detail)
        subject, body = stored_texts(row.kind, row.subject, row.body, detail)
        listed.append(
            Notice(row.id, row.person_id, row.kind, subject, body, detail, row.recorded_at)
        )
    return listed
