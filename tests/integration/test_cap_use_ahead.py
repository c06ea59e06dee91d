"""``yearly_caps.read_use_ahead`` on a real PostgreSQL: the stored use of a batch's caps, with
the import's committed rows counted before and after; a batch of the import committing in
between makes it give up (None), since which of the two the use counts is then unknown."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Connection
from tests.conftest import EVENTS_HEADER, FIXTURES, LI_NA, write_csv

from socialcredit.services import yearly_caps
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store import repository

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
    assert ahead.stored.select("n_person_id", "n_rule", "year", "used").rows() == [
        (LI_NA, "DONATION", 2026, 30)
    ]


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
