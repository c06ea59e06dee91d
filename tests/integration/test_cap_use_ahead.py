"""Yearly caps on a real PostgreSQL, where imports write at once.

``yearly_caps.read_use_ahead``: the stored use of a batch's caps, with the import's committed
rows and the cap writers' count read before and after; a batch of the import, or another cap
writer, committing in between makes it give up (None), since what the use counts is then
unknown. ``repository.take_cap_turn``: an import waits for a transaction writing capped
entries, and allots against what it wrote."""

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Connection, insert, select
from tests.conftest import EVENTS_HEADER, FIXTURES, LI_NA, write_csv
from tests.integration.test_concurrent_imports import _wait_until_blocked

from socialcredit.services import yearly_caps
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.schema import entries, yearly_cap_writes

CAPS = {("2026.1", "DONATION"): 40}


@pytest.fixture
def town(
    make_registry: Callable[..., Registry], postgres_url: str, people_file: Path, tmp_path: Path
) -> Registry:
    registry = make_registry(postgres_url, [FIXTURES / "due-process.yaml"])
    import_people(registry, people_file)
    gifts = [f"red-cross,G{n},{LI_NA},DONATION,2026-0{n}-01," for n in (1, 2)]
    result = import_events(registry, write_csv(tmp_path / "gifts.csv", EVENTS_HEADER, gifts))
    assert result.accepted == 2  # 30 points of the cap of 40 used
    return registry


def _accepted() -> pl.DataFrame:
    """One accepted donation row of Li Na in 2026, as judged."""
    return pl.DataFrame(
        {
            "row": [1],
            "version": ["2026.1"],
            "n_rule": ["DONATION"],
            "n_person_id": [LI_NA],
            "n_occurred": [date(2026, 5, 1)],
            "points": [15],
            "n_agency": ["red-cross"],
            "n_corrects": pl.Series([None], dtype=pl.String),
            "n_repairs": pl.Series([None], dtype=pl.String),
        }
    )


def _new_import(registry: Registry, rows: int) -> int:
    with registry.database.write() as connection:
        import_id = repository.start_import(connection, "events", "t", None, registry.clock.now())
        repository.add_import_counts(connection, import_id, submitted=rows)
    return import_id


def test_use_ahead_counts_the_stored_use_and_the_committed_rows(town: Registry):
    import_id = _new_import(town, 7)
    with town.database.write() as connection:
        ahead = yearly_caps.read_use_ahead(connection, _accepted(), CAPS, import_id)
    assert ahead is not None and ahead.committed_rows == 7
    assert ahead.cap_writes == 1  # the gifts' import: one batch of capped entries, one turn
    assert ahead.stored.select("n_person_id", "n_rule", "year", "used").rows() == [
        (LI_NA, "DONATION", 2026, 30)
    ]


def test_a_batch_without_capped_rows_reads_nothing_ahead(town: Registry):
    import_id = _new_import(town, 7)
    uncapped = _accepted().with_columns(n_rule=pl.lit("TRAFFIC-RED-LIGHT"))
    with town.database.write() as connection:
        assert yearly_caps.read_use_ahead(connection, uncapped, CAPS, import_id) is None
        assert yearly_caps.read_use_ahead(connection, _accepted(), {}, import_id) is None


def test_a_batch_committing_meanwhile_gives_no_use(town: Registry, monkeypatch: pytest.MonkeyPatch):
    import_id = _new_import(town, 7)
    read = yearly_caps.stored_use

    def batch_commits_meanwhile(connection: Connection, *args: object) -> pl.DataFrame:
        with town.database.write() as other:
            repository.add_import_counts(other, import_id, submitted=3)
        return read(connection, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(yearly_caps, "stored_use", batch_commits_meanwhile)
    with town.database.write() as connection:
        assert yearly_caps.read_use_ahead(connection, _accepted(), CAPS, import_id) is None


def test_a_cap_writer_committing_meanwhile_gives_no_use(
    town: Registry, monkeypatch: pytest.MonkeyPatch
):
    import_id = _new_import(town, 7)
    read = yearly_caps.stored_use

    def other_import_writes_capped_entries(connection: Connection, *args: object) -> pl.DataFrame:
        with town.database.write() as other:
            repository.take_cap_turn(other)
        return read(connection, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(yearly_caps, "stored_use", other_import_writes_capped_entries)
    with town.database.write() as connection:
        assert yearly_caps.read_use_ahead(connection, _accepted(), CAPS, import_id) is None


def test_cap_writers_take_turns_and_count_each_turn(town: Registry):
    first = town.database.engine.connect()
    with first.begin():
        before = repository.take_cap_turn(first)
        with town.database.read() as reader:  # a reader is not held up by the turn
            count = select(yearly_cap_writes.c.writes)
            assert reader.execute(count).scalar_one() == before  # not committed yet
    first.close()
    with town.database.write() as connection:
        assert repository.take_cap_turn(connection) == before + 1


def test_an_import_waits_for_a_cap_writer_and_allots_after_what_it_wrote(
    town: Registry, make_registry: Callable[..., Registry], postgres_url: str, tmp_path: Path
):
    """The race the turns close: another transaction has written 10 more points of Li Na's
    donations (40 used of 40) and not committed. Without turns the import read 30 used and
    gave 10 more: 50 of a cap of 40."""
    path = write_csv(
        tmp_path / "more.csv", EVENTS_HEADER, [f"red-cross,G3,{LI_NA},DONATION,2026-04-01,"]
    )
    outcome: list[object] = []
    importer = make_registry(postgres_url, [FIXTURES / "due-process.yaml"])
    worker = threading.Thread(target=lambda: outcome.append(import_events(importer, path)))
    holder = town.database.engine.connect()
    transaction = holder.begin()
    repository.take_cap_turn(holder)
    holder.execute(insert(entries).values(**_gift("H1", points=10)))
    worker.start()
    blocked = _wait_until_blocked(postgres_url, worker)
    transaction.commit()
    holder.close()
    worker.join()
    assert blocked, "the import should wait for the transaction writing capped entries"
    with town.database.read() as connection:
        given = connection.execute(
            select(entries.c.points, entries.c.points_cut).where(entries.c.event_id == "G3")
        ).one()
    assert tuple(given) == (0, 15)  # the cap was used up by the time it wrote


def _gift(event_id: str, *, points: int) -> dict[str, object]:
    return {
        "agency": "red-cross",
        "event_id": event_id,
        "person_id": LI_NA,
        "rule": "DONATION",
        "occurred_on": date(2026, 3, 15),
        "catalogue_version": "2026.1",
        "points": points,
        "counts_until": date(2027, 3, 15),
        "recorded_at": datetime.now(UTC),
    }
