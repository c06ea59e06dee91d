"""Bulk writes of whole batches: SQLite ``executemany`` in the caller's transaction, PostgreSQL
binary ``COPY`` (straight into the table, or into a staging table and one set-based merge).

Frames arrive already validated and typed (Polars); this module only moves them into tables.
Rows are built with ``zip`` over column lists (C speed) rather than per-row Python code.

PostgreSQL and concurrency (READ COMMITTED; docs/server.md tells the whole story):

- ``merge_entries`` first tries a binary COPY straight into ``entries`` (every key free: the
  usual case). A taken key makes it fail, and the batch is merged by one ``INSERT ... SELECT
  ... ON CONFLICT (agency, event_id) DO NOTHING`` that also returns the staged keys it did *not*
  insert. When a concurrent transaction holds one of our keys uncommitted, the server waits for
  it to end (for either statement): committed, our row is skipped (or the COPY fails);
  rolled back, our row goes in. So every key the merge skipped is held by a committed entry
  that the caller's next statement sees, and the caller can settle those rows against the store
  without a second insert, a lock or a retry loop.
- Rows are merged in key order (``COLLATE "C"``, the byte order Polars sorts in), so two
  transactions that share keys wait on each other in one direction only: no deadlock.
- People are merged in ID order for the same reason; ``lock_people_writes`` serialises people
  writers so that a batch can be settled against a register that nobody else is changing.
"""

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
import psycopg
from sqlalchemy import Connection

from socialcredit.store import leaves, ledger, pgcopy
from socialcredit.store.handoff import quick_handoffs

__all__ = [
    "ENTRY_COLUMNS",
    "PERSON_CHANGE_COLUMNS",
    "PERSON_COLUMNS",
    "REJECTION_COLUMNS",
    "insert_entries",
    "insert_rows",
    "lock_people_writes",
    "Derived",
    "Merged",
    "copy_entries",
    "copy_rows",
    "draw_ids",
    "in_key_order",
    "merge_entries",
    "new_entry_ids",
    "new_notice_ids",
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
    "points_cut",
    "corrects",
    "repairs",
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


def _column_types(driver: Any, table: str, columns: Sequence[str]) -> list[int]:
    """The type OIDs of ``columns`` of ``table`` (a temporary table is found first)."""
    rows = driver.execute(
        "SELECT attname, atttypid::int FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    ).fetchall()
    types = dict(rows)
    return [types[name] for name in columns]


def _python_columns(frame: pl.DataFrame, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    return zip(*(frame[name].to_list() for name in columns), strict=True)


def _copy_rows(
    connection: Connection, table: str, frame: pl.DataFrame, columns: Sequence[str]
) -> None:
    """PostgreSQL: stream ``frame`` into ``table`` with binary COPY.

    Binary values skip the server's text parsing, and are encoded by the table's own column
    types (a date as a date, an int as int4), never guessed from Python types: column-wise by
    ``pgcopy`` (no Python object per value), else row by row by psycopg with ``set_types``.
    """
    driver = _driver(connection)
    types = _column_types(driver, table, columns)
    names = ", ".join(columns)
    values = frame.select(columns)
    with driver.cursor().copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        if pgcopy.supported(values, types):
            copy.write(pgcopy.SIGNATURE)
            for chunk in pgcopy.encode_rows(values, types):
                copy.write(chunk)
            copy.write(pgcopy.TRAILER)
            return
        copy.set_types(types)
        for row in _python_columns(values, columns):
            copy.write_row(row)


def _stage(connection: Connection, table: str, frame: pl.DataFrame, columns: Sequence[str]) -> str:
    """Copy ``frame`` into this session's empty staging table for ``table``; returns its name.

    The staging table is temporary (private to the connection, never WAL-logged) and holds only
    ``columns``, so no column default (the ``id`` sequence) runs for staged rows.
    """
    staging = f"{table}_staging"
    driver = _driver(connection)
    driver.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
        f"SELECT {', '.join(columns)} FROM {table} WITH NO DATA"
    )
    driver.execute(f"TRUNCATE {staging}")  # a second merge in one transaction starts empty
    _copy_rows(connection, staging, frame, columns)
    return staging


def copy_rows(connection: Connection, table: str, frame: pl.DataFrame) -> int:
    """PostgreSQL: append ``frame`` (its columns by name) to ``table`` with binary COPY and no
    leaves (for rows the ledger holds through others: entry notices); returns the count."""
    if frame.height:
        _copy_rows(connection, table, frame, frame.columns)
    return frame.height


def insert_rows(
    connection: Connection, table: str, frame: pl.DataFrame, columns: Sequence[str]
) -> int:
    """Append ``frame`` to ``table`` (no conflicts possible); returns the rows written."""
    if frame.height == 0:
        return 0
    mark = ledger.begin(connection, table)  # ledgered tables: each row becomes a leaf
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        return _sqlite_insert(connection, table, frame, columns, sql, mark)
    _copy_rows(connection, table, frame, columns)
    ledger.record_inserted(connection, table, frame, mark)
    return frame.height


def _sqlite_insert(
    connection: Connection,
    table: str,
    frame: pl.DataFrame,
    columns: Sequence[str],
    sql: str,
    mark: int | None,
) -> int:
    """SQLite: ``executemany`` of ``frame`` while its leaves are hashed; returns the rows
    written (``sql`` may skip taken keys).

    Under the write lock SQLite numbers new rows one above the largest id, in the order given:
    ``mark + 1 ..``. So the leaves are hashed with those ids in a helper thread while SQLite
    inserts; the hashing runs in Rust (polars-hash) without the GIL, on the second core.
    If fewer rows went in, or with other ids, the guess is dropped and the leaves are made
    from the stored ids (``ledger.record_inserted``).
    """
    cursor = _driver(connection).cursor()
    if mark is None or not leaves.spec(table).numbered or frame.height <= ledger.SMALL_BATCH_ROWS:
        cursor.executemany(sql, _sqlite_values(frame, columns))
        ledger.record_inserted(connection, table, frame, mark)
        return int(cursor.rowcount)
    guessed = frame.with_columns(id=pl.int_range(mark + 1, mark + 1 + frame.height, dtype=pl.Int64))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialcredit-leaves") as helper:
        hashing = helper.submit(ledger.hash_batch, table, guessed)
        cursor.executemany(sql, _sqlite_values(frame, columns))
        hashed = _leaves_hashed(hashing)
    written = int(cursor.rowcount)
    if written == frame.height and ledger.max_id(connection, table) == mark + frame.height:
        ledger.append_batch(connection, hashed)
    else:
        ledger.record_inserted(connection, table, frame, mark)
    return written


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
        mark = ledger.begin(connection, "entries")
        marks = ", ".join("?" for _ in columns)
        sql = (
            f"INSERT INTO entries ({names}) VALUES ({marks}) "
            "ON CONFLICT (agency, event_id) DO NOTHING"
        )
        return _sqlite_insert(connection, "entries", frame, columns, sql, mark)
    return frame.height - merge_entries(connection, frame).taken.height


_TAKEN_SCHEMA = {"agency": pl.String, "event_id": pl.String}


@dataclass(frozen=True, slots=True)
class Merged:
    """What ``merge_entries`` did: the rows that went in (with their ids), the keys that did
    not (each held by an entry committed before the merge ended)."""

    written: pl.DataFrame  # ``id`` and ENTRY_COLUMNS, in id order
    taken: pl.DataFrame  # ``agency``, ``event_id``


# Rows of another table that follow from entries (their notices): the entries written, with
# their ids, give the table's name and its rows.
Derived = Callable[[pl.DataFrame], tuple[str, pl.DataFrame]]


def merge_entries(
    connection: Connection,
    frame: pl.DataFrame,
    derived: Derived | None = None,
    ids: pl.Series | None = None,
) -> Merged:
    """PostgreSQL: merge ``frame`` into ``entries``; says which rows went in and which keys
    were taken. ``frame`` has ``ENTRY_COLUMNS`` and at most one row per key. ``derived``
    rows (of the entries that went in) are written right after them, in the same transaction.

    Usually every key is free, and the rows are written with binary COPY straight into
    ``entries`` (in a savepoint): the server's cheapest way in, the same as the raw baseline's.
    A taken key makes it fail with a unique violation (after waiting for an uncommitted
    holder to end, as any insert would); it is then rolled back, and the batch is merged
    from a staging table with one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING
    id``. Each key it skipped is held by an entry committed before it ended, which the
    caller's next statement sees. Both write in key order: one lock order, no deadlock.

    The rows' ids are taken from the table's sequence first, so that their leaves are known
    before the server has stored them: they are hashed while it inserts (the server works in
    its own process, and psycopg waits without the GIL), and no ids are read back. The
    derived rows follow the entries in the same helper thread, so the server goes on to them
    without waiting for us. ``ids``: drawn beforehand (``new_entry_ids``), one per row, as an
    import does while the batch before is being written; otherwise they are drawn here.
    """
    copied = _copy_entries(connection, frame, derived, ids)
    if isinstance(copied, Merged):
        return copied
    return _merge_staged(connection, copied, derived)


def copy_entries(
    connection: Connection,
    frame: pl.DataFrame,
    derived: Derived | None = None,
    ids: pl.Series | None = None,
) -> Merged | None:
    """``merge_entries``'s first step alone: COPY ``frame`` (and its ``derived`` rows) if
    every key is free; else write nothing and return None, so that the caller can settle the
    batch against the store before it merges what is left."""
    copied = _copy_entries(connection, frame, derived, ids)
    return copied if isinstance(copied, Merged) else None


@dataclass(frozen=True, slots=True)
class _Refused:
    """A COPY that found a key taken: the rows as staged (ids, key order), and the mark."""

    staged: pl.DataFrame
    mark: int | None


_COLUMNS_WITH_ID = ("id", *ENTRY_COLUMNS)


def _copy_entries(
    connection: Connection,
    frame: pl.DataFrame,
    derived: Derived | None,
    ids: pl.Series | None,
) -> Merged | _Refused:
    if frame.height == 0:
        return Merged(frame.with_columns(id=pl.lit(0, pl.Int64)).clear(), _no_keys())
    mark = ledger.begin(connection, "entries")  # before any row lock: one lock order
    # Ids ascend in key order, so ``staged`` is in id order too (as the ledger and ``Merged``
    # want it).
    if ids is None or ids.len() != frame.height:
        ids = _new_ids(_driver(connection), "entries", frame.height)
    staged = in_key_order(frame).with_columns(id=ids)
    columns = _COLUMNS_WITH_ID
    base = ledger.head(connection) if mark is not None else None
    follow = None if derived is None else derived(staged)
    if frame.height <= ledger.SMALL_BATCH_ROWS:  # an API call's few rows: no thread for them
        all_free = _copy_if_all_free(connection, staged, columns, follow)
        hashed = ledger.hash_batch("entries", staged, base) if base is not None else None
    else:
        with (
            quick_handoffs(),
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="socialcredit-merge") as server,
        ):
            copying = server.submit(_copy_if_all_free, connection, staged, columns, follow)
            hashed = ledger.hash_batch("entries", staged, base) if base is not None else None
            all_free = copying.result()
    if not all_free:
        return _Refused(staged, mark)
    if hashed is not None:
        ledger.append_batch(connection, hashed)
    return Merged(staged, _no_keys())


def _merge_staged(connection: Connection, refused: _Refused, derived: Derived | None) -> Merged:
    """The merge from a staging table, after the COPY found a key taken."""
    staged, columns = refused.staged, _COLUMNS_WITH_ID
    names = ", ".join(columns)
    staging = _stage(connection, "entries", staged, columns)
    inserted = (
        _driver(connection)
        .execute(
            f"INSERT INTO entries ({names}) SELECT {names} FROM {staging} "
            'ORDER BY agency COLLATE "C", event_id COLLATE "C" '  # the byte order Polars sorts in
            "ON CONFLICT (agency, event_id) DO NOTHING RETURNING id"
        )
        .fetchall()
    )
    went_in = staged.filter(pl.col("id").is_in([row[0] for row in inserted])).sort("id")
    if refused.mark is not None:
        ledger.append(connection, "entries", went_in)
    if derived is not None:
        copy_rows(connection, *derived(went_in))
    taken = staged.join(went_in, on="id", how="anti").select(list(_TAKEN_SCHEMA))
    return Merged(went_in, taken)


def in_key_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by (agency, event_id) in byte order. A frame already in that order, as
    an import hands it over, is only checked: a comparison of each row with the next costs a
    fraction of a sort by two text columns (25 ms per 100,000 rows)."""
    agency, event_id = pl.col("agency"), pl.col("event_id")
    after = (agency > agency.shift(-1)) | (
        (agency == agency.shift(-1)) & (event_id > event_id.shift(-1))
    )
    if frame.height < 2 or not frame.select(after.any()).item():
        return frame
    return frame.sort("agency", "event_id")


def _leaves_hashed(hashing: "Future[ledger.LeafBatch]") -> ledger.LeafBatch:
    """Wait for leaves hashed in a helper thread (the wait is the ledger's share of an insert
    that ran meanwhile: bench/ledger_overhead.py times it)."""
    return hashing.result()


def _no_keys() -> pl.DataFrame:
    return pl.DataFrame(schema=_TAKEN_SCHEMA)


def new_entry_ids(connection: Connection, count: int) -> pl.Series:
    """``count`` new entry ids for a later ``merge_entries`` (PostgreSQL). A sequence is not
    transactional: the ids are the caller's whether or not this transaction commits."""
    return _new_ids(_driver(connection), "entries", count)


def new_notice_ids(connection: Connection, count: int) -> pl.Series:
    """``count`` new notice ids, for the notices of a later ``merge_entries`` (PostgreSQL),
    so that the server need not draw them row by row while it writes them."""
    return _new_ids(_driver(connection), "notices", count)


def _new_ids(driver: Any, table: str, count: int) -> pl.Series:
    """``count`` new ids from ``table``'s own sequence, ascending.

    Concurrent writers draw from it too, so the values need not be consecutive, only unused.
    They usually are consecutive, and then only their span is read back; otherwise they are
    drawn again one by one (the first draw leaves a gap, as a rolled-back insert does). The
    sequence is named once: ``pg_get_serial_sequence`` per row cost 4 s per million ids.
    """
    named = driver.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
    return draw_ids(driver, named.fetchone()[0], count)


def draw_ids(driver: Any, sequence: str, count: int) -> pl.Series:
    """``count`` new values of ``sequence``, ascending (see ``_new_ids``)."""
    if count == 0:
        return pl.Series("id", [], dtype=pl.Int64)
    draw = "SELECT nextval(%s::regclass) AS id FROM generate_series(1, %s)"
    low, high, drawn = driver.execute(
        f"SELECT min(id), max(id), count(*) FROM ({draw}) AS drawn", (sequence, count)
    ).fetchone()
    if drawn == count and high - low + 1 == count:
        return pl.int_range(low, high + 1, eager=True, dtype=pl.Int64).alias("id")
    values = driver.execute(draw, (sequence, count)).fetchall()
    return pl.Series("id", sorted(row[0] for row in values), dtype=pl.Int64)


def _copy_if_all_free(
    connection: Connection,
    frame: pl.DataFrame,
    columns: Sequence[str],
    follow: tuple[str, pl.DataFrame] | None,
) -> bool:
    """COPY ``frame`` into ``entries`` in a savepoint, then the rows that ``follow`` from it
    (a table and its rows); False (and nothing kept) if a key was taken."""
    driver = _driver(connection)
    driver.execute("SAVEPOINT entries_all_free")
    try:
        _copy_rows(connection, "entries", frame, columns)
    except psycopg.errors.UniqueViolation:
        driver.execute("ROLLBACK TO SAVEPOINT entries_all_free")
        return False
    driver.execute("RELEASE SAVEPOINT entries_all_free")
    if follow is not None:
        copy_rows(connection, *follow)
    return True


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
    staging = _stage(connection, "people", frame, columns)
    # ID order: concurrent upserts of the same people take their row locks in one order.
    _driver(connection).execute(
        f'INSERT INTO people ({names}) SELECT {names} FROM {staging} ORDER BY id COLLATE "C" '
        f"{update}"
    )
    return frame.height


# Advisory lock key of the people writers: "social" in ASCII. Any fixed number works; it only
# has to be the same in every process that writes the register.
PEOPLE_WRITES_LOCK = 0x736F6369616C


def lock_people_writes(connection: Connection) -> None:
    """Hold the people writers' lock until the caller's transaction ends.

    PostgreSQL: a transaction-level advisory lock, so that a people batch settles (added,
    updated, unchanged) against a register no other transaction is changing. SQLite needs
    nothing: a write transaction there already holds the database's only write lock.
    """
    if connection.dialect.name != "sqlite":
        _driver(connection).execute("SELECT pg_advisory_xact_lock(%s)", (PEOPLE_WRITES_LOCK,))
