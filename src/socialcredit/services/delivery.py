"""Delivery runs: send due notices through a notifier and record every attempt; list a
person's notices with how each was delivered (issue 4, item 1).

A notice is due on a channel until it has a ``sent`` or ``skipped`` delivery there: a re-run
never sends a notice twice on one channel. Failed attempts are retried on later runs, after
the notices never tried, up to ``notice_max_attempts`` per channel; then the notice is given
up on that channel (still listed, with its failures). Runs are bounded (``--limit``, default
``notices_per_run``). See ``services.notifiers`` for the channels and ``docs/due-process.md``.

Sending notices to the person is not a read *by someone* of the person's data, so a delivery
run writes no access-log rows: the ``notice_deliveries`` rows are its record, and the person
sees them with their notices. Reading a person's notices (``list_notices_for``) is logged.
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, exists, func, select

from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.errors import InputError
from socialcredit.services.access import LOCAL, Actor, record_access
from socialcredit.services.notice_text import OutgoingNotice
from socialcredit.services.notices import (
    entry_facts,
    list_notices,
    notice_detail,
    stored_texts,
)
from socialcredit.services.notifiers import DeliveryError, Notifier, Outcome, opened
from socialcredit.services.registry import Registry
from socialcredit.services.standing import OFFICE_ENQUIRY, registered_person_id
from socialcredit.store import ledger
from socialcredit.store.schema import notice_deliveries, notices, people

__all__ = ["DeliveryReport", "deliver_notices", "list_notices_for"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    channel: str
    attempted: int
    sent: int
    failed: int
    skipped: int
    stopped: str | None  # why the run stopped early (the channel is down), if it did
    remaining: int  # notices still due on this channel: never tried, or to be retried
    given_up: int  # notices that failed notice_max_attempts times here and are not retried
    results: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "attempted": self.attempted,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "stopped": self.stopped,
            "remaining": self.remaining,
            "given_up": self.given_up,
            "results": list(self.results),
        }


_SETTLED = ("sent", "skipped")


def _due_ids(connection: Connection, channel: str, limit: int, max_attempts: int) -> list[int]:
    """Notices due on ``channel``: never tried first (oldest first), then failed ones with
    attempts left, so that a notice that keeps failing cannot hold the others back."""
    tried = notice_deliveries.alias("tried")
    fresh = (
        select(notices.c.id)
        .where(~exists().where(tried.c.notice_id == notices.c.id, tried.c.channel == channel))
        .order_by(notices.c.id)
        .limit(limit)
    )
    ids = [int(row[0]) for row in connection.execute(fresh)]
    if len(ids) < limit:
        retry = _failed(channel, max_attempts).order_by("notice_id").limit(limit - len(ids))
        ids += [int(row[0]) for row in connection.execute(retry)]
    return ids


def _failed(channel: str, max_attempts: int, *, given_up: bool = False) -> Select[Any]:
    """Notices that failed on ``channel`` and were never sent or skipped there: with attempts
    left, or (``given_up``) without."""
    settled = notice_deliveries.alias("settled")
    failed = notice_deliveries.alias("failed")
    return (
        select(failed.c.notice_id)
        .where(failed.c.channel == channel, failed.c.status == "failed")
        .where(
            ~exists().where(
                settled.c.notice_id == failed.c.notice_id,
                settled.c.channel == channel,
                settled.c.status.in_(_SETTLED),
            )
        )
        .group_by(failed.c.notice_id)
        .having(func.count() >= max_attempts if given_up else func.count() < max_attempts)
    )


def _outgoing(connection: Connection, ids: list[int]) -> list[OutgoingNotice]:
    query = select(notices, people.c.name, people.c.district, people.c.email).outerjoin(
        people, people.c.id == notices.c.person_id
    )
    rows = {row.id: row for row in connection.execute(query.where(notices.c.id.in_(ids)))}
    facts = entry_facts(
        connection, (r.entry_id for r in rows.values() if r.detail is None and r.entry_id)
    )
    outgoing = []
    for row in (rows[notice_id] for notice_id in ids if notice_id in rows):
        detail = notice_detail(row.kind, row.detail, row.entry_id, facts)
        subject, body = stored_texts(row.kind, row.subject, row.body, detail)
        outgoing.append(_outgoing_notice(row, subject, body, detail))
    return outgoing


def _outgoing_notice(
    row: Any, subject: str, body: str, detail: dict[str, Any] | None
) -> OutgoingNotice:
    return OutgoingNotice(
        id=row.id,
        person_id=row.person_id,
        name=row.name,
        district=row.district,
        email=row.email,
        kind=row.kind,
        entry_id=row.entry_id,
        subject=subject,
        body=body,
        detail=detail,
        recorded_at=row.recorded_at,
    )


def _record(registry: Registry, notice: OutgoingNotice, channel: str, outcome: Outcome) -> None:
    with registry.database.write() as connection:
        ledger.insert_row(
            connection,
            "notice_deliveries",
            {
                "notice_id": notice.id,
                "channel": channel,
                "address": outcome.address,
                "status": outcome.status,
                "error": outcome.error,
                "recorded_at": registry.clock.now(),
            },
        )


def _attempt(
    notifier: Notifier, notice: OutgoingNotice, catalogue: Catalogue | None
) -> tuple[Outcome, bool]:
    try:
        return notifier.send(notice, catalogue), False
    except DeliveryError as error:
        return Outcome("failed", error.address, str(error)), error.fatal


def deliver_notices(
    registry: Registry, notifier: Notifier, *, limit: int | None = None
) -> DeliveryReport:
    """Send up to ``limit`` (default ``notices_per_run``) due notices through ``notifier``.

    Each attempt is recorded in its own transaction right after it, so an interrupted run
    loses at most the record of the notice in flight. The run stops at the first failure of
    the channel itself (``stopped`` says why); the notices left stay due.
    """
    limit = registry.settings.notices_per_run if limit is None else limit
    if limit < 1:
        raise InputError(f"--limit must be at least 1, got {limit}")
    channel, max_attempts = notifier.channel, registry.settings.notice_max_attempts
    with registry.database.read() as connection:
        due = _outgoing(connection, _due_ids(connection, channel, limit, max_attempts))
    versions = {catalogue.version: catalogue for catalogue in registry.catalogues()}
    results: list[dict[str, Any]] = []
    stopped: str | None = None
    with opened(notifier):
        for notice in due:
            version = (notice.detail or {}).get("catalogue_version")
            outcome, fatal = _attempt(notifier, notice, versions.get(str(version)))
            _record(registry, notice, channel, outcome)
            results.append(
                {"notice_id": notice.id, "person_id": notice.person_id, **_outcome(outcome)}
            )
            if fatal:
                stopped = outcome.error
                break
    remaining, given_up = _backlog(registry, channel, max_attempts)
    sent, failed, skipped = (sum(r["status"] == s for r in results) for s in _STATUSES)
    return DeliveryReport(
        channel, len(results), sent, failed, skipped, stopped, remaining, given_up, tuple(results)
    )


_STATUSES = ("sent", "failed", "skipped")


def _outcome(outcome: Outcome) -> dict[str, Any]:
    return {"status": outcome.status, "address": outcome.address, "error": outcome.error}


def _backlog(registry: Registry, channel: str, max_attempts: int) -> tuple[int, int]:
    """(notices still due on ``channel``, notices given up there)."""
    d = notice_deliveries.alias("d")
    settled = select(func.count(d.c.notice_id.distinct())).where(
        d.c.channel == channel, d.c.status.in_(_SETTLED)
    )
    given_up = select(func.count()).select_from(
        _failed(channel, max_attempts, given_up=True).subquery()
    )
    with registry.database.read() as connection:
        total = int(connection.execute(select(func.count()).select_from(notices)).scalar_one())
        done = int(connection.execute(settled).scalar_one())
        stuck = int(connection.execute(given_up).scalar_one())
    return total - done - stuck, stuck


def list_notices_for(
    registry: Registry,
    person_id: str,
    limit: int = 100,
    before_id: int | None = None,
    *,
    actor: Actor = LOCAL,
    purpose: str = OFFICE_ENQUIRY,
) -> tuple[str, list[dict[str, Any]]]:
    """The person's normalised ID and their notices, newest first (older than ``before_id``),
    each with its delivery attempts; the read is logged (action ``notices``)."""
    person = registered_person_id(registry, person_id)
    listed = list_notices(registry, person, limit=limit, before_id=before_id)
    ids = [notice.id for notice in listed]
    query = (
        select(notice_deliveries)
        .where(notice_deliveries.c.notice_id.in_(ids))
        .order_by(notice_deliveries.c.id)
    )
    attempts: dict[int, list[dict[str, Any]]] = {notice_id: [] for notice_id in ids}
    with registry.database.read() as connection:
        for row in connection.execute(query):
            attempts[row.notice_id].append(
                {
                    "channel": row.channel,
                    "status": row.status,
                    "address": row.address,
                    "error": row.error,
                    "recorded_at": row.recorded_at.isoformat(),
                }
            )
    record_access(
        registry, actor, person, "notices", purpose, {"limit": limit, "before_id": before_id}
    )
    return person, [{**n.as_dict(), "deliveries": attempts[n.id]} for n in listed]
