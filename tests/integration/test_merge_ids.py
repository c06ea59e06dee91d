"""PostgreSQL imports draw a batch's entry ids, and its notices' ids, while the batch before is
being written (``bulk.new_entry_ids``, ``new_notice_ids``), and ``merge_entries`` writes the rows with exactly
those ids; ids of the wrong count (too few, for notices) are not used: the server draws its
own."""

from collections.abc import Callable
from functools import partial

import polars as pl
import pytest
from sqlalchemy import text
from tests.conftest import LI_NA
from tests.integration.entry_frames import merit_rows

from socialcredit.services.ledger_verify import verify_registry
from socialcredit.services.notices import entry_notice_rows
from socialcredit.services.registry import Registry
from socialcredit.store.bulk import copy_entries, merge_entries, new_entry_ids, new_notice_ids


def _rows(first: int, last: int) -> pl.DataFrame:
    return merit_rows("volunteer-office", [f"V-{n:04d}" for n in range(first, last)], LI_NA)


@pytest.fixture
def on_postgres(make_registry: Callable[..., Registry], postgres_url: str) -> Registry:
    return make_registry(postgres_url)


def _stored_ids(registry: Registry, prefix: str) -> list[int]:
    with registry.database.read() as connection:
        rows = connection.execute(
            text("SELECT id FROM entries WHERE event_id LIKE :p ORDER BY event_id"),
            {"p": prefix + "%"},
        )
        return [int(row[0]) for row in rows]


def test_ids_drawn_beforehand_are_the_ids_written(on_postgres: Registry):
    with on_postgres.database.write() as connection:
        drawn = new_entry_ids(connection, 100)
    with on_postgres.database.write() as connection:
        other = new_entry_ids(connection, 5)  # someone else draws in between
        merged = merge_entries(connection, _rows(0, 100), ids=drawn)
    assert merged.written["id"].to_list() == drawn.to_list()
    assert _stored_ids(on_postgres, "V-") == drawn.to_list()  # in key order
    assert other.min() > drawn.max()
    assert verify_registry(on_postgres).ok


def test_ids_of_the_wrong_count_are_not_used(on_postgres: Registry):
    with on_postgres.database.write() as connection:
        drawn = new_entry_ids(connection, 99)
    with on_postgres.database.write() as connection:
        merged = merge_entries(connection, _rows(0, 100), ids=drawn)
    written = merged.written["id"].to_list()
    assert len(written) == 100 and min(written) > drawn.max()  # its own, drawn later
    assert verify_registry(on_postgres).ok


def _with_fines(rows: pl.DataFrame, every: int) -> pl.DataFrame:
    """Every ``every``-th row costs 5 points instead (adverse: it gets a notice)."""
    fined = pl.int_range(pl.len()) % every == 0
    return rows.with_columns(points=pl.when(fined).then(-5).otherwise(pl.col("points")))


def _notice_ids(registry: Registry, prefix: str) -> list[int]:
    with registry.database.read() as connection:
        rows = connection.execute(
            text(
                "SELECT n.id FROM notices n JOIN entries e ON e.id = n.entry_id "
                "WHERE e.event_id LIKE :p ORDER BY e.id"
            ),
            {"p": prefix + "%"},
        )
        return [int(row[0]) for row in rows]


def test_notice_ids_drawn_beforehand_are_the_notices_ids(on_postgres: Registry):
    rows = _with_fines(_rows(0, 100), every=10)  # 10 adverse rows
    with on_postgres.database.write() as connection:
        drawn = new_notice_ids(connection, 12)  # caps may have cut some: spares
    with on_postgres.database.write() as connection:
        merge_entries(connection, rows, partial(entry_notice_rows, ids=drawn))
    assert _notice_ids(on_postgres, "V-") == drawn.head(10).to_list()  # in entry order
    assert verify_registry(on_postgres).ok


def test_too_few_notice_ids_are_not_used(on_postgres: Registry):
    rows = _with_fines(_rows(0, 100), every=10)
    with on_postgres.database.write() as connection:
        drawn = new_notice_ids(connection, 9)
    with on_postgres.database.write() as connection:
        merge_entries(connection, rows, partial(entry_notice_rows, ids=drawn))
    written = _notice_ids(on_postgres, "V-")
    assert len(written) == 10 and min(written) > drawn.max()  # the server's own, later
    assert verify_registry(on_postgres).ok


def test_copy_entries_writes_all_rows_or_none(on_postgres: Registry):
    """``copy_entries``: the COPY alone. With a key taken it writes nothing, notices neither,
    and leaves the transaction usable for the merge that follows."""
    with on_postgres.database.write() as connection:
        merge_entries(connection, _rows(0, 10))
    notices = partial(entry_notice_rows)
    fined = _with_fines(_rows(5, 20), every=2)  # V-0005..V-0009 are taken
    with on_postgres.database.write() as connection:
        assert copy_entries(connection, fined, notices) is None
        count = "SELECT count(*) FROM entries WHERE event_id LIKE 'V-%'"
        assert connection.execute(text(count)).scalar_one() == 10  # nothing of it, even here
        merged = merge_entries(connection, fined, notices)
    assert sorted(merged.taken["event_id"].to_list()) == [f"V-{n:04d}" for n in range(5, 10)]
    assert len(_stored_ids(on_postgres, "V-")) == 20
    assert len(_notice_ids(on_postgres, "V-")) == 5  # V-0010..V-0019: every other one fined
    with on_postgres.database.write() as connection:
        copied = copy_entries(connection, _rows(20, 30))
    assert copied is not None and copied.written.height == 10 and copied.taken.height == 0
    assert len(_stored_ids(on_postgres, "V-")) == 30
    assert verify_registry(on_postgres).ok
