"""Expiry and archive: purge the personal details of entries long past (issue 4, item 5).

An entry stops counting on its own date (``counts_until``; the scoring does that). After a
further archive period (setting ``archive_after_days``, 5 years by default), counted from the
later of ``counts_until`` and ``blacklist_until`` and from the last step of any contest about
the entry, the personal details are purged: ``entries.evidence``, ``contests.grounds`` and
``contest_attachments.content`` are set to NULL (and so are the copies of rejected rows:
``services.archive_rejections``). The fact that the entry existed stays: every
other column, every status change and every contest step is kept, and a ``purges`` row
records which fields were purged and when. Rows are never deleted, and the hash-chained
ledger, whose leaves hold salted digests of the personal fields (not the fields), is told
first (``ledger.purge_values``): it still verifies, and counts those records as purged.

The work is set-based: candidates are found in batches of ``archive_batch_rows`` entries by
increasing id (one pass over the table), and each batch is one transaction of one UPDATE per
table plus one INSERT of its purge rows. Running it again purges nothing twice.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from socialcredit.services.archive_rejections import purge_rejected_rows
from socialcredit.services.registry import Registry
from socialcredit.store import ledger
from socialcredit.store.schema import contest_attachments, contest_steps, contests, entries, purges

__all__ = ["PURGED_FIELDS", "ArchiveResult", "archive_cutoff", "purge_personal_details"]

PURGED_FIELDS = ("entries.evidence", "contests.grounds", "contest_attachments.content")


@dataclass(frozen=True, slots=True)
class ArchiveResult:
    as_of: date
    archive_after_days: int
    cutoff: date  # entries whose windows and contests ended on or before this day are purged
    dry_run: bool
    entries: int
    evidence: int
    grounds: int
    attachments: int
    batches: int
    rejected_rows: int = 0  # rejected rows whose record and message were purged

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "archive_after_days": self.archive_after_days,
            "cutoff": self.cutoff.isoformat(),
            "dry_run": self.dry_run,
            "entries": self.entries,
            "evidence": self.evidence,
            "grounds": self.grounds,
            "attachments": self.attachments,
            "rejected_rows": self.rejected_rows,
            "batches": self.batches,
        }


def archive_cutoff(registry: Registry) -> tuple[date, datetime]:
    """The last day whose end starts an archive period that is over today, and, for
    timestamps, the first moment (UTC) after that day in the registry's zone."""
    day = registry.clock.today() - timedelta(days=registry.settings.archive_after_days)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), registry.clock.zone)
    return day, next_midnight.astimezone(UTC)


def _open_contest(contest: Any) -> ColumnElement[bool]:
    """The contest is open: no step yet, or its latest step is the agency's ``verified``
    answer awaiting the review decision (as in ``services.contests``)."""
    step = contest_steps.alias("archive_open_step")
    later = contest_steps.alias("archive_later_step")
    no_step = ~exists().where(step.c.contest_id == contest.c.id)
    # SQLAlchemy correlates a subquery only with its immediate enclosing SELECT, so the
    # innermost test names ``step``, not ``contest``.
    awaiting_decision = exists().where(
        step.c.contest_id == contest.c.id,
        step.c.step == "answered",
        step.c.outcome == "verified",
        ~exists().where(later.c.contest_id == step.c.contest_id, later.c.id > step.c.id),
    )
    return or_(no_step, awaiting_decision)


def _archivable(day: date, moment: datetime) -> ColumnElement[bool]:
    """Entries whose counting, blacklisting and contests all ended by the cutoff.

    An open contest holds the entry's details back however old it is; a closed one ends at
    its last step, and never before its answer deadline. The contest tables are aliased:
    inside ``UPDATE contests`` the bare table would correlate with the target.
    """
    contest = contests.alias("archive_contest")
    step = contest_steps.alias("archive_step")
    recent_contest = exists().where(
        contest.c.entry_id == entries.c.id,
        or_(
            contest.c.recorded_at >= moment,
            contest.c.answer_due >= moment,
            _open_contest(contest),
        ),
    )
    recent_step = exists().where(
        contest.c.entry_id == entries.c.id,
        step.c.contest_id == contest.c.id,
        step.c.recorded_at >= moment,
    )
    return and_(
        entries.c.counts_until <= day,
        or_(entries.c.blacklist_until.is_(None), entries.c.blacklist_until <= day),
        ~recent_contest,
        ~recent_step,
    )


def _counts() -> tuple[Any, Any, Any]:
    """Per entry: has evidence (0/1), contest grounds held, attachment contents held."""
    evidence = case((entries.c.evidence.is_not(None), 1), else_=0)
    grounds = (
        select(func.count())
        .where(contests.c.entry_id == entries.c.id, contests.c.grounds.is_not(None))
        .scalar_subquery()
    )
    attachments = (
        select(func.count())
        .select_from(contest_attachments.join(contests))
        .where(contests.c.entry_id == entries.c.id, contest_attachments.c.content.is_not(None))
        .scalar_subquery()
    )
    return evidence, grounds, attachments


def _candidates(
    connection: Connection, day: date, moment: datetime, after_id: int, size: int
) -> list[tuple[int, int, int, int]]:
    evidence, grounds, attachments = _counts()
    query = (
        select(entries.c.id, evidence, grounds, attachments)
        .where(entries.c.id > after_id, _archivable(day, moment))
        .where(or_(entries.c.evidence.is_not(None), grounds > 0, attachments > 0))
        .order_by(entries.c.id)
        .limit(size)
    )
    return [(int(a), int(b), int(c), int(d)) for a, b, c, d in connection.execute(query)]


def _purge_batch(
    connection: Connection,
    day: date,
    moment: datetime,
    batch: list[tuple[int, int, int, int]],
    now: datetime,
) -> None:
    ids = [row[0] for row in batch]
    _keep_ledger_digests(connection, batch)
    # Each UPDATE re-checks the archive condition, so that a contest opened since the
    # candidates were read (PostgreSQL, read committed) keeps its grounds.
    still = select(entries.c.id).where(entries.c.id.in_(ids), _archivable(day, moment))
    connection.execute(
        update(entries)
        .where(entries.c.id.in_(still), entries.c.evidence.is_not(None))
        .values(evidence=None)
    )
    connection.execute(
        update(contests)
        .where(contests.c.entry_id.in_(still), contests.c.grounds.is_not(None))
        .values(grounds=None)
    )
    their_contests = select(contests.c.id).where(contests.c.entry_id.in_(still))
    connection.execute(
        update(contest_attachments)
        .where(
            contest_attachments.c.contest_id.in_(their_contests),
            contest_attachments.c.content.is_not(None),
        )
        .values(content=None)
    )
    mark = ledger.begin(connection, "purges")  # each purge record is a leaf too
    rows = [_purge_row(row, now) for row in batch]
    connection.execute(insert(purges), rows)
    ledger.record_inserted(connection, "purges", pl.DataFrame(rows), mark)


def _keep_ledger_digests(connection: Connection, batch: list[tuple[int, int, int, int]]) -> None:
    """The ledger's leaves hold salted digests of the personal fields; before the values go,
    it keeps those digests (``ledger_purged``) so that the leaves still recompute and
    ``verify`` reports the records as purged, not altered. Same transaction as the purge."""
    with_evidence = [entry_id for entry_id, evidence, _g, _a in batch if evidence]
    ledger.purge_values(connection, "entries", with_evidence, ["evidence"])
    if "contests" in ledger.LEDGERED:  # not ledgered today; if it becomes so, keep its digests
        entry_ids = [entry_id for entry_id, _e, grounds, _a in batch if grounds]
        query = select(contests.c.id).where(
            contests.c.entry_id.in_(entry_ids), contests.c.grounds.is_not(None)
        )
        contest_ids = [int(row[0]) for row in connection.execute(query)]
        ledger.purge_values(connection, "contests", contest_ids, ["grounds"])


def _purge_row(row: tuple[int, int, int, int], now: datetime) -> dict[str, Any]:
    entry_id, evidence, grounds, attachments = row
    counts = dict(zip(PURGED_FIELDS, (evidence, grounds, attachments), strict=True))
    fields = {name: count for name, count in counts.items() if count}
    return {"entry_id": entry_id, "fields": json.dumps(fields), "recorded_at": now}


def _dry_run(registry: Registry, day: date, moment: datetime) -> tuple[int, int, int, int]:
    evidence, grounds, attachments = _counts()
    inner = (
        select(evidence.label("e"), grounds.label("g"), attachments.label("a"))
        .where(_archivable(day, moment))
        .where(or_(entries.c.evidence.is_not(None), grounds > 0, attachments > 0))
        .subquery()
    )
    query = select(
        func.count(), func.sum(inner.c.e), func.sum(inner.c.g), func.sum(inner.c.a)
    ).select_from(inner)
    with registry.database.read() as connection:
        row = connection.execute(query).one()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0), int(row[3] or 0)


def purge_personal_details(
    registry: Registry,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ArchiveResult:
    """Purge the personal details of every entry past its archive period (see module doc).

    ``dry_run`` counts what would be purged and changes nothing. ``progress`` is called with
    the number of entries purged so far after each batch.
    """
    day, moment = archive_cutoff(registry)
    if dry_run:
        rejected, _ = purge_rejected_rows(registry, moment, dry_run=True)
        return _result(registry, day, True, _dry_run(registry, day, moment), 0, rejected)
    totals = [0, 0, 0, 0]  # entries, evidence, grounds, attachments
    batches, after_id, now = 0, 0, registry.clock.now()
    size = registry.settings.archive_batch_rows
    while True:
        with registry.database.write() as connection:
            batch = _candidates(connection, day, moment, after_id, size)
            if not batch:
                break
            _purge_batch(connection, day, moment, batch, now)
        batches += 1
        after_id = batch[-1][0]
        totals[0] += len(batch)
        for index in (1, 2, 3):
            totals[index] += sum(row[index] for row in batch)
        if progress is not None:
            progress(totals[0])
    rejected, rejection_batches = purge_rejected_rows(registry, moment)
    totals_tuple = (totals[0], totals[1], totals[2], totals[3])
    return _result(registry, day, False, totals_tuple, batches + rejection_batches, rejected)


def _result(
    registry: Registry,
    day: date,
    dry_run: bool,
    totals: tuple[int, int, int, int],
    batches: int,
    rejected_rows: int,
) -> ArchiveResult:
    return ArchiveResult(
        registry.clock.today(),
        registry.settings.archive_after_days,
        day,
        dry_run,
        *totals,
        batches=batches,
        rejected_rows=rejected_rows,
    )
