"""The registry's entries as a columnar snapshot, for engines that do not read the database.

Spark (``batch.spark``), the Polars ``frame_aggregates`` and the tests score a frame of entries
with the schema ``ENTRY_FRAME_SCHEMA``: each entry with its status and ``ends_on`` as of the
newest change known at ``known_at``, the same join ``sql_aggregates`` makes in the database.
``entry_frame`` returns it in memory; ``write_entry_snapshot`` writes it to Parquet in parts of
``PART_ROWS`` rows (so memory stays bounded however large the registry), together with the
registered person ids, all read in one transaction so that they agree with each other.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, select

from socialcredit.batch.population import ENTRY_FRAME_SCHEMA
from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.schema import entries

__all__ = ["PART_ROWS", "EntrySnapshot", "entry_frame", "write_entry_snapshot"]

# Rows per Parquet part (and per fetch from the database): about 60 MB of Python tuples.
PART_ROWS = 500_000
_ENTRY_SCHEMA = {
    "id": pl.Int64,
    **{name: ENTRY_FRAME_SCHEMA[name] for name in list(ENTRY_FRAME_SCHEMA)[:6]},
}
_CHANGE_SCHEMA = {"entry_id": pl.Int64, "status": pl.String, "ends_on": pl.Date}


@dataclass(frozen=True, slots=True)
class EntrySnapshot:
    """Where a snapshot lies: ``entries`` (a folder of Parquet parts) and ``people``."""

    entries: Path
    people: Path
    entry_count: int
    people_count: int


def _entry_query(known_at: datetime | None) -> Select[Any]:
    query = select(
        entries.c.id,
        entries.c.person_id,
        entries.c.points,
        entries.c.occurred_on,
        entries.c.counts_until,
        entries.c.blacklist_until,
        entries.c.grade_cap,
    )
    if known_at is not None:
        query = query.where(entries.c.recorded_at <= known_at)
    return query


def _frame(rows: Sequence[tuple[Any, ...]], schema: dict[str, Any]) -> pl.DataFrame:
    """Driver rows as a frame of ``schema``. SQLite gives dates as ISO text, PostgreSQL as
    dates: text is parsed by Polars, a column at a time."""
    frame = pl.DataFrame(rows, schema=list(schema), orient="row", infer_schema_length=None)
    frame = frame.with_columns(
        pl.col(name).str.to_date("%Y-%m-%d")
        for name, dtype in schema.items()
        if dtype == pl.Date and frame[name].dtype == pl.String
    )
    return frame.cast(schema)  # type: ignore[arg-type]


def _latest_changes(connection: Connection, known_at: datetime | None) -> pl.DataFrame:
    """Each changed entry's newest change (few rows next to the entries), for a join in Polars.

    Joined here rather than in SQL: as a subquery of the entries' LEFT JOIN, SQLite 3.40
    evaluates ``latest_changes``' IN list again for every entry (110 s for 200,000 entries
    with 4,000 changes, against 0.3 s for the two reads).
    """
    rows = repository.driver_rows(connection, repository.latest_changes(known_at))
    return _frame([row[:3] for row in rows], _CHANGE_SCHEMA)


def _entry_parts(connection: Connection, known_at: datetime | None) -> Iterator[pl.DataFrame]:
    """The entries in frames of at most ``PART_ROWS`` rows, with their newest change, fetched
    through the driver's cursor (plain tuples, as ``repository.driver_rows``).

    On PostgreSQL the cursor is a server-side one: a client-side cursor would hold every row.
    """
    changes = _latest_changes(connection, known_at)
    sql = str(_entry_query(known_at).compile(connection, compile_kwargs={"literal_binds": True}))
    driver: Any = connection.connection.driver_connection
    postgres = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="entry_snapshot") if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while rows := cursor.fetchmany(PART_ROWS):
            part = _frame(rows, _ENTRY_SCHEMA).join(
                changes, left_on="id", right_on="entry_id", how="left"
            )
            yield part.select(list(ENTRY_FRAME_SCHEMA))
    finally:
        cursor.close()


def entry_frame(registry: Registry, *, known_at: datetime | None = None) -> pl.DataFrame:
    """Every entry (recorded by ``known_at``) with its status and ends_on, in memory."""
    with registry.database.read() as connection:
        parts = list(_entry_parts(connection, known_at))
    return pl.concat(parts) if parts else pl.DataFrame(schema=ENTRY_FRAME_SCHEMA)


def write_entry_snapshot(
    registry: Registry, folder: Path, *, known_at: datetime | None = None
) -> EntrySnapshot:
    """Write ``folder/entries/part-NNNNN.parquet`` and ``folder/people.parquet``.

    There is always at least one part (maybe empty), so that readers find the schema.
    """
    entry_folder = folder / "entries"
    entry_folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with registry.database.read() as connection:
        people = repository.person_ids(connection, known_at)
        for number, part in enumerate(_entry_parts(connection, known_at)):
            part.write_parquet(entry_folder / f"part-{number:05d}.parquet")
            count += part.height
    if count == 0:
        pl.DataFrame(schema=ENTRY_FRAME_SCHEMA).write_parquet(entry_folder / "part-00000.parquet")
    people.write_parquet(folder / "people.parquet")
    return EntrySnapshot(entry_folder, folder / "people.parquet", count, people.height)
