"""Bulk writes of whole batches: SQLite ``executemany`` in the caller's transaction, PostgreSQL
binary ``COPY`` into a staging table and one set-based merge.

Frames arrive already validated and typed (Polars); this module only moves them into tables.
Rows are built with ``zip`` over column lists (C speed) rather than per-row Python code.
"""

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection

__all__ = [
    "ENTRY_COLUMNS",
    "PERSON_CHANGE_COLUMNS",
    "PERSON_COLUMNS",
    "REJECTION_COLUMNS",
    "insert_entries",
    "insert_rows",
    "upsert_people",
]

ENTRY_COLUMNS = (
    "agency",
    "event_id",
    "person_id",
    "rule",
    "occurred_on",
    "evidence",
    "catalogue_version",
    "points",
    "counts_until",
    "blacklist_until",
    "grade_cap",
    "import_id",
    "recorded_at",
)
PERSON_COLUMNS = ("id", "name", "district", "public_servant", "registered_at", "updated_at")
PERSON_CHANGE_COLUMNS = (
    "person_id",
    "name",
    "district",
    "public_servant",
    "import_id",
    "recorded_at",
)
REJECTION_COLUMNS = ("import_id", "row", "reason", "message", "record", "recorded_at")


def sqlite_timestamp(moment: datetime) -> str:
    """The text SQLAlchemy's DateTime type stores on SQLite, for naive UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_values(frame: pl.DataFrame, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Rows for sqlite3: dates as ISO text, timestamps as SQLAlchemy's text, bools as 0/1."""
    converted = []
    for name in columns:
        series = frame[name]
        if series.dtype == pl.Date:
            series = series.dt.to_string("%Y-%m-%d")
        elif series.dtype == pl.Datetime:
            series = series.dt.to_string("%Y-%m-%d %H:%M:%S.%6f")
        elif series.dtype == pl.Boolean:
            series = series.cast(pl.Int8)
        converted.append(series.to_list())
    return zip(*converted, strict=True)


def _driver(connection: Connection) -> Any:
    return connection.connection.driver_connection


def _copy_rows(
    connection: Connection, table: str, frame: pl.DataFrame, columns: Sequence[str]
) -> None:
    """PostgreSQL: stream ``frame`` into ``table`` with COPY (text values typed by the server)."""
    names = ", ".join(columns)
    cursor = _driver(connection).cursor()
    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in frame.select(columns).iter_rows():
            copy.write_row(row)


def insert_rows(
    connection: Connection, table: str, frame: pl.DataFrame, columns: Sequence[str]
) -> int:
    """Append ``frame`` to ``table`` (no conflicts possible); returns the rows written."""
    if frame.height == 0:
        return 0
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        _driver(connection).executemany(sql, _sqlite_values(frame, columns))
    else:
        _copy_rows(connection, table, frame, columns)
    return frame.height


def insert_entries(connection: Connection, frame: pl.DataFrame) -> int:
    """Insert entries whose key is free; returns how many went in (a taken key is skipped).

    The caller compares the count with ``frame.height``: fewer means some keys were taken
    (by an earlier import or a concurrent one), and it classifies those rows again.
    """
    if frame.height == 0:
        return 0
    columns = ENTRY_COLUMNS
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = (
            f"INSERT INTO entries ({names}) VALUES ({marks}) "
            "ON CONFLICT (agency, event_id) DO NOTHING"
        )
        cursor = _driver(connection).cursor()
        cursor.executemany(sql, _sqlite_values(frame, columns))
        return int(cursor.rowcount)
    driver = _driver(connection)
    driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS entries_staging "
        "(LIKE entries INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    driver.execute("TRUNCATE entries_staging")
    _copy_rows(connection, "entries_staging", frame, columns)
    result = driver.execute(
        f"INSERT INTO entries ({names}) SELECT {names} FROM entries_staging "
        "ON CONFLICT (agency, event_id) DO NOTHING"
    )
    return int(result.rowcount)


def upsert_people(connection: Connection, frame: pl.DataFrame) -> int:
    """Insert new people and update name, district and flag of known ones (by ``id``)."""
    if frame.height == 0:
        return 0
    columns = PERSON_COLUMNS
    names = ", ".join(columns)
    update = (
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, "
        "district = excluded.district, public_servant = excluded.public_servant, "
        "updated_at = excluded.updated_at"
    )
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO people ({names}) VALUES ({marks}) {update}"
        _driver(connection).executemany(sql, _sqlite_values(frame, columns))
        return frame.height
    driver = _driver(connection)
    driver.execute(
        "CREATE TEMP TABLE IF NOT EXISTS people_staging "
        "(LIKE people INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
    )
    driver.execute("TRUNCATE people_staging")
    _copy_rows(connection, "people_staging", frame, columns)
    driver.execute(f"INSERT INTO people ({names}) SELECT {names} FROM people_staging {update}")
    return frame.height
