"""PostgreSQL's planner statistics kept up with a bulk import (``store.statistics``): an import
that outgrows what the statistics counted has the table analyzed; a small one does not; an
ANALYZE held up by another gives up at once; SQLite is left alone."""

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import EVENTS_HEADER, LI_NA, recent, write_csv

from socialcredit.domain.invariant import InvariantViolation
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store import statistics
from socialcredit.store.statistics import ANALYZE_MIN_ROWS, TableStatistics


def _events(tmp_path: Path, count: int) -> Path:
    row = "traffic-police,S-{},{},TRAFFIC-RED-LIGHT,{},camera {}"
    day = recent(5)
    return write_csv(
        tmp_path / f"events-{count}.csv",
        EVENTS_HEADER,
        [row.format(n, LI_NA, day, n) for n in range(count)],
    )


def _counts(registry: Registry) -> tuple[int, float]:
    """(manual ANALYZEs of entries, rows its statistics count; -1: never analyzed)."""
    with registry.database.read() as connection:
        manual = connection.execute(
            text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'entries'")
        ).scalar_one()
        counted = connection.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'entries'")
        ).scalar_one()
    return int(manual), float(counted)


@pytest.fixture
def on_postgres(
    make_registry: Callable[..., Registry], postgres_url: str, people_file: Path
) -> Registry:
    registry = make_registry(postgres_url, batch_rows=5000)
    import_people(registry, people_file)
    return registry


def test_an_import_that_outgrows_the_statistics_has_the_table_analyzed(
    on_postgres: Registry, tmp_path: Path
):
    assert _counts(on_postgres) == (0, -1)  # a new table: never analyzed
    rows = ANALYZE_MIN_ROWS + 5000  # three batches: the second reaches the minimum
    assert import_events(on_postgres, _events(tmp_path, rows)).accepted == rows
    manual, counted = _counts(on_postgres)
    assert manual == 1  # after the second batch; the third added less than it counted
    assert counted >= ANALYZE_MIN_ROWS


def test_a_small_import_leaves_the_statistics_to_autovacuum(on_postgres: Registry, tmp_path: Path):
    assert import_events(on_postgres, _events(tmp_path, 3000)).accepted == 3000
    assert _counts(on_postgres)[0] == 0


def test_an_analyze_held_up_by_another_gives_up_at_once(on_postgres: Registry):
    """Another session holds the lock ANALYZE needs (as autovacuum's or a concurrent
    import's would): this one gives up, with no error, and the count is kept for later."""
    engine = on_postgres.database.engine
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.connect() as connection, connection.begin():
            connection.execute(text("LOCK TABLE entries IN SHARE UPDATE EXCLUSIVE MODE"))
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        kept = TableStatistics(engine, "entries")
        kept.added(ANALYZE_MIN_ROWS)
        kept.close()
        assert kept.analyzed == 0
        assert statistics._analyze_if_outgrown(engine, "entries", ANALYZE_MIN_ROWS) is False
    finally:
        release.set()
        holder.join()
    assert _counts(on_postgres)[0] == 0
    assert statistics._analyze_if_outgrown(engine, "entries", ANALYZE_MIN_ROWS) is True
    assert _counts(on_postgres)[0] == 1


def test_sqlite_is_left_alone(sqlite_registry: Registry):
    kept = TableStatistics(sqlite_registry.database.engine, "entries")
    kept.added(10 * ANALYZE_MIN_ROWS)
    kept.close()
    assert kept.analyzed == 0


def test_only_the_tables_imports_grow_are_analyzed(sqlite_registry: Registry):
    with pytest.raises(InvariantViolation, match="access_log is not a table imports analyze"):
        TableStatistics(sqlite_registry.database.engine, "access_log")
