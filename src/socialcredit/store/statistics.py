"""Planner statistics that keep up with a bulk import (PostgreSQL).

``COPY`` does not update the statistics the server plans queries with, and autovacuum analyzes
a table only a while after it has changed (once a tenth of it has, when its worker next comes
round: every minute by default). The first big import into a new registry outgrows them within
one batch. The yearly-caps query of each batch, planned for an ``entries`` table the server
believed empty, then scanned all of it (93-166 ms a batch at 1M rows, and growing with the
table) instead of reading the batch's people through their index (20 ms).

So an import analyzes the table it grows, in a helper thread on a connection of its own, each
time it has added more rows than the statistics last counted: a handful of times for an import
that multiplies the table, never for one that adds a little to a big table. ``ANALYZE`` reads a
sample (30,000 rows by default), not the table, and blocks no writer. It gives up at once if
another ``ANALYZE`` holds the table (autovacuum, or a concurrent import): that one does the job.

SQLite plans from its indexes alone here and is left alone.
"""

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from socialcredit.domain.invariant import invariant

__all__ = ["ANALYZE_MIN_ROWS", "TableStatistics", "kept_up"]

# Fewer added rows than this never trigger an ANALYZE: an agency's API call or a small file.
ANALYZE_MIN_ROWS = 10_000

_ANALYZABLE = frozenset({"entries"})


def _analyze_if_outgrown(engine: Engine, table: str, added_rows: int) -> bool:
    """ANALYZE ``table`` if ``added_rows`` is more than its statistics count; True if done."""
    with engine.connect() as connection, connection.begin():
        counted = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
            {"table": table},
        ).scalar_one()
        if added_rows <= max(float(counted), 0.0):  # -1: never analyzed
            return False
        connection.execute(text("SET LOCAL lock_timeout = '100ms'"))
        try:
            connection.execute(text(f"ANALYZE {table}"))  # a name from _ANALYZABLE only
        except OperationalError:  # another ANALYZE holds it: that one brings them up to date
            return False
    return True


class TableStatistics:
    """Counts the rows an import adds to ``table`` and has the table analyzed when they
    outgrow its statistics (module docstring). ``close`` waits for an ANALYZE in flight."""

    def __init__(self, engine: Engine, table: str) -> None:
        invariant(table in _ANALYZABLE, f"{table} is not a table imports analyze")
        self._engine = engine
        self._table = table
        self._enabled = engine.dialect.name == "postgresql"
        self._added_rows = 0
        self._pending: Future[bool] | None = None
        self._pending_rows = 0
        self._helper: ThreadPoolExecutor | None = None
        self.analyzed = 0  # times this import analyzed the table

    def added(self, rows: int) -> None:
        """``rows`` more were committed; start an ANALYZE if they may have outgrown it."""
        if not self._enabled:
            return
        self._added_rows += rows
        self._settle(wait=False)
        if self._pending is not None or self._added_rows < ANALYZE_MIN_ROWS:
            return
        if self._helper is None:
            self._helper = ThreadPoolExecutor(1, thread_name_prefix="socialcredit-analyze")
        self._pending_rows = self._added_rows
        self._pending = self._helper.submit(
            _analyze_if_outgrown, self._engine, self._table, self._added_rows
        )

    def _settle(self, *, wait: bool) -> None:
        if self._pending is None or not (wait or self._pending.done()):
            return
        if self._pending.result():
            self.analyzed += 1
            self._added_rows -= self._pending_rows  # the statistics count those now
        self._pending = None

    def close(self, *, failed: bool = False) -> None:
        """Wait for an ANALYZE in flight and let the helper thread go. ``failed``: the import
        failed, and the ANALYZE's own outcome must not hide its error."""
        try:
            self._settle(wait=True)
        except Exception:
            if not failed:
                raise
        finally:
            if self._helper is not None:
                self._helper.shutdown()
                self._helper = None


@contextmanager
def kept_up(engine: Engine, table: str) -> Iterator[TableStatistics]:
    """A ``TableStatistics`` for one import, closed at the end (also on an error)."""
    statistics = TableStatistics(engine, table)
    try:
        yield statistics
    except BaseException:
        statistics.close(failed=True)
        raise
    statistics.close()
