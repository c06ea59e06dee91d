"""PostgreSQL side of ``bench/ingest_and_score.py --db postgres``: a throwaway cluster and the
raw baselines the real paths are compared with, measured in the same run on the same server.

- raw binary COPY, pre-encoded: the stored entries dumped with ``COPY ... TO STDOUT (FORMAT
  BINARY)`` beforehand, then timed streaming back into a table with the same columns and
  indexes (``LIKE entries INCLUDING ALL``). The server's own ingest speed, no client work.
- raw binary COPY from Python rows: the same rows from a Polars frame, turned into tuples and
  written with psycopg's ``write_row`` and ``set_types``, as any Python client would.
- raw SQL group-by: ``SELECT person_id, SUM(points) ... GROUP BY person_id`` with the date
  filter of the population scoring.
"""

import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import psycopg

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = (
    "agency", "event_id", "person_id", "rule", "occurred_on", "evidence", "catalogue_version",
    "points", "counts_until", "blacklist_until", "grade_cap", "import_id", "recorded_at",
)  # fmt: skip
CHUNK = 100_000
GROUP_BY = (
    "SELECT person_id, SUM(points) FROM entries "
    "WHERE occurred_on <= %s AND counts_until > %s GROUP BY person_id"
)

__all__ = [
    "COLUMNS",
    "Stopwatch",
    "analyze",
    "conninfo",
    "raw_copy",
    "raw_group_by",
    "throwaway_cluster",
]


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """A private cluster started like the tests' (tests/pg.py); yields a fresh database URL."""
    sys.path.insert(0, str(ROOT))
    from tests.pg import PostgresCluster, find_bindir

    cluster = PostgresCluster(find_bindir())
    try:
        cluster.start()
        yield cluster.create_database("bench")
    finally:
        cluster.stop()


def conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _raw_table(connection: psycopg.Connection[Any]) -> None:
    connection.execute("DROP TABLE IF EXISTS raw_entries")
    # Same columns, defaults, keys and indexes as entries (its unique key and person index).
    connection.execute("CREATE TABLE raw_entries (LIKE entries INCLUDING ALL)")
    connection.commit()


def _dump(connection: psycopg.Connection[Any], folder: Path) -> tuple[Path, pl.DataFrame]:
    """The stored entries as binary COPY data (a file) and as a typed Polars frame."""
    names = ", ".join(COLUMNS)
    binary = folder / "entries.pgcopy"
    with (
        binary.open("wb") as sink,
        connection.cursor().copy(
            f"COPY (SELECT {names} FROM entries ORDER BY id) TO STDOUT (FORMAT BINARY)"
        ) as copy,
    ):
        for block in copy:
            sink.write(block)
    text = folder / "entries.csv"
    with (
        text.open("wb") as sink,
        connection.cursor().copy(
            f"COPY (SELECT {names} FROM entries ORDER BY id) TO STDOUT (FORMAT CSV, HEADER)"
        ) as copy,
    ):
        for block in copy:
            sink.write(block)
    schema = {name: pl.String for name in COLUMNS} | {
        "occurred_on": pl.Date, "counts_until": pl.Date, "blacklist_until": pl.Date,
        "points": pl.Int32, "import_id": pl.Int32, "recorded_at": pl.Datetime("us"),
    }  # fmt: skip
    frame = pl.read_csv(text, schema=schema)
    text.unlink()
    return binary, frame


def _copy_pre_encoded(connection: psycopg.Connection[Any], binary: Path) -> float:
    started = time.perf_counter()
    with (
        binary.open("rb") as source,
        connection.cursor().copy(
            f"COPY raw_entries ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        while block := source.read(1 << 20):
            copy.write(block)
    connection.commit()
    return time.perf_counter() - started


def _copy_python_rows(connection: psycopg.Connection[Any], frame: pl.DataFrame) -> float:
    types = dict(
        connection.execute(
            "SELECT attname, atttypid::int FROM pg_attribute "
            "WHERE attrelid = 'raw_entries'::regclass AND attnum > 0"
        ).fetchall()
    )
    started = time.perf_counter()
    with connection.cursor().copy(
        f"COPY raw_entries ({', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types([types[name] for name in COLUMNS])
        for offset in range(0, frame.height, CHUNK):
            chunk = frame.slice(offset, CHUNK)
            for row in zip(*(chunk[name].to_list() for name in COLUMNS), strict=True):
                copy.write_row(row)
    connection.commit()
    return time.perf_counter() - started


def raw_copy(url: str) -> dict[str, Any]:
    """Both raw COPY baselines of the stored entries; returns seconds and rows."""
    with (
        psycopg.connect(conninfo(url)) as connection,
        tempfile.TemporaryDirectory(prefix="scbench-pg-") as scratch,
    ):
        binary, frame = _dump(connection, Path(scratch))
        _raw_table(connection)
        pre_encoded = _copy_pre_encoded(connection, binary)
        _raw_table(connection)
        python_rows = _copy_python_rows(connection, frame)
        connection.execute("DROP TABLE raw_entries")
        connection.commit()
    return {"rows": frame.height, "pre_encoded": pre_encoded, "python_rows": python_rows}


def analyze(url: str) -> None:
    """Fresh planner statistics after the bulk import, for our queries and the raw ones alike."""
    with psycopg.connect(conninfo(url), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def raw_group_by(url: str, day: date) -> tuple[float, int]:
    with psycopg.connect(conninfo(url)) as connection:
        started = time.perf_counter()
        rows = connection.execute(GROUP_BY, (day, day)).fetchall()
        return time.perf_counter() - started, len(rows)


class Stopwatch:
    """Where an import's time goes, by wrapping functions for one run.

    Serial parts (main thread; each second counted once, in the innermost part): the entries
    write (``merge_entries``, or ``copy_entries`` for a batch with capped rows, wall time), the
    ledger's appends, the batch's other effects.
    Parts *beside* them, timed on their own and never subtracted: the COPY of a batch's
    entries and notices (a helper thread) and the hashing of their leaves (the main thread,
    while the COPY runs). So the entries write is about the longer of those two, plus a little.

    Bench-only: it patches module attributes and restores them; a function that is not there
    (renamed) is simply not timed.
    """

    PARTS = (
        ("socialcredit.services.events", "merge_entries", "entries_write"),
        ("socialcredit.services.events", "copy_entries", "entries_write"),  # capped batches
        ("socialcredit.services.events", "_effects", "effects"),
        ("socialcredit.store.ledger", "begin", "ledger"),
        ("socialcredit.store.ledger", "record_inserted", "ledger"),
        ("socialcredit.store.ledger", "append_batch", "ledger"),
    )
    BESIDE = (
        ("socialcredit.store.bulk", "_copy_if_all_free", "copy"),
        ("socialcredit.store.ledger", "hash_batch", "hashing"),
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inside: list[str] = []  # serial parts: main thread only
        self._lock = threading.Lock()

    def _wrap(self, part: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if part in self._inside:  # already timed by an outer call of the same part
                return function(*args, **kwargs)
            self._inside.append(part)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self._inside.pop()
                self.seconds[part] = self.seconds.get(part, 0.0) + spent
                for outer in set(self._inside) - {part}:  # count each second once
                    self.seconds[outer] = self.seconds.get(outer, 0.0) - spent

        return timed

    def _wrap_beside(self, part: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                with self._lock:
                    self.seconds[part] = self.seconds.get(part, 0.0) + spent

        return timed

    @contextmanager
    def running(self) -> Iterator["Stopwatch"]:
        import importlib

        saved = []
        wrappers = [(self.PARTS, self._wrap), (self.BESIDE, self._wrap_beside)]
        for parts, wrap in wrappers:
            for module_name, name, part in parts:
                module = importlib.import_module(module_name)
                if hasattr(module, name):
                    saved.append((module, name, getattr(module, name)))
                    setattr(module, name, wrap(part, getattr(module, name)))
        try:
            yield self
        finally:
            for module, name, function in saved:
                setattr(module, name, function)
