"""Archive for rejected rows: after the archive period, forget what the agency sent.

A rejected row is kept whole (``rejections.record``: the agency's original row, with person ID
and evidence; ``message``: the reason in words, which may quote a value) so that nothing an
agency reports is ever silently lost: the agency can correct and resend it. Once the archive
period (setting ``archive_after_days``) has passed since it was rejected, nobody needs that
copy any more, and keeping it would hold personal data no entry stands on. ``record`` and
``message`` are then set to NULL; the row itself stays (import, row number, reason code,
time), a ``purges`` row names it, and the ledger keeps the salted digests first
(``ledger.purge_values``), so ``verify`` counts these records as purged, not altered.

Batches of ``archive_batch_rows`` rows by increasing id, one transaction each.
"""

import json
from datetime import datetime

import polars as pl
from sqlalchemy import ColumnElement, Connection, func, insert, select, update

from socialcredit.services.registry import Registry
from socialcredit.store import ledger
from socialcredit.store.schema import purges, rejections

__all__ = ["PURGED_REJECTION_FIELDS", "purge_rejected_rows"]

PURGED_REJECTION_FIELDS = ("rejections.record", "rejections.message")


def _due(moment: datetime) -> ColumnElement[bool]:
    """Rejected before ``moment`` (the archive cutoff) and not purged yet."""
    return (rejections.c.recorded_at < moment) & (
        rejections.c.record.is_not(None) | rejections.c.message.is_not(None)
    )


def _purge_batch(connection: Connection, ids: list[int], now: datetime) -> None:
    ledger.purge_values(connection, "rejections", ids, ["record", "message"])
    connection.execute(
        update(rejections).where(rejections.c.id.in_(ids)).values(record=None, message=None)
    )
    fields = json.dumps({name: 1 for name in PURGED_REJECTION_FIELDS})
    rows = [{"rejection_id": row_id, "fields": fields, "recorded_at": now} for row_id in ids]
    mark = ledger.begin(connection, "purges")  # each purge record is a leaf too
    connection.execute(insert(purges), rows)
    ledger.record_inserted(connection, "purges", pl.DataFrame(rows), mark)


def purge_rejected_rows(
    registry: Registry, moment: datetime, *, dry_run: bool = False
) -> tuple[int, int]:
    """Purge the record and message of rows rejected before ``moment``.

    Returns (rows purged or, with ``dry_run``, that would be; transactions used).
    """
    size = registry.settings.archive_batch_rows
    if dry_run:
        with registry.database.read() as connection:
            count = connection.execute(select(func.count()).where(_due(moment))).scalar_one()
        return int(count), 0
    purged, batches, after_id, now = 0, 0, 0, registry.clock.now()
    while True:
        with registry.database.write() as connection:
            query = (
                select(rejections.c.id)
                .where(rejections.c.id > after_id, _due(moment))
                .order_by(rejections.c.id)
                .limit(size)
            )
            ids = [int(row[0]) for row in connection.execute(query)]
            if not ids:
                break
            _purge_batch(connection, ids, now)
        purged, batches, after_id = purged + len(ids), batches + 1, ids[-1]
    return purged, batches
