"""The population path (SQL aggregates + Polars grading) equals the per-person reference path.

Hypothesis draws small towns: people, events under two catalogue versions (with caps,
blacklists and a servants-only rule), and status changes with early ends. For random days the
export of every person must equal ``standing.score`` person by person, and the Polars
aggregation over a frame of entries must equal the SQL one.
"""

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select
from tests.conftest import FIXTURES, TODAY, open_registry, person

from socialcredit.batch.population import frame_aggregates, grade_population, sql_aggregates
from socialcredit.batch.snapshot import entry_frame
from socialcredit.services import standing
from socialcredit.services.events import import_event_frame
from socialcredit.services.population import export_scores, population_scores
from socialcredit.services.registry import Registry
from socialcredit.store.bulk import upsert_people
from socialcredit.store.schema import entries, entry_changes

CATALOGUES = [FIXTURES / "scoring-v1.yaml", FIXTURES / "scoring-v2.yaml"]
REPORTER = {
    "MINOR": "police",
    "FIGHT": "police",
    "DEBTOR": "court",
    "DETENTION": "police",
    "MERIT": "bureau",
    "BIG": "court",
    "AWARD": "bureau",
}
START = date(2023, 1, 1)
SPAN_DAYS = (TODAY - START).days

days = st.integers(0, SPAN_DAYS).map(lambda n: START + timedelta(days=n))
event = st.tuples(st.integers(0, 7), st.sampled_from(sorted(REPORTER)), days)
change = st.tuples(
    st.integers(0, 10_000),
    st.sampled_from(["active", "contested", "overturned", "withdrawn"]),
    st.none() | days,
)


def _people(registry: Registry, count: int) -> list[str]:
    ids = [person(date(1950 + 6 * n, 1 + n, 1 + n), 2 * n + 1) for n in range(count)]
    now = datetime.now(tz=UTC).replace(tzinfo=None)
    frame = pl.DataFrame(
        {
            "id": ids,
            "name": [f"人{n}" for n in range(count)],
            "district": ["城西街道"] * count,
            "public_servant": [n % 2 == 0 for n in range(count)],
            "registered_at": [now] * count,
            "updated_at": [now] * count,
        }
    )
    with registry.database.write() as connection:
        upsert_people(connection, frame)
    return ids


def _import(registry: Registry, ids: list[str], events: list[tuple[int, str, date]]) -> None:
    raw = pl.DataFrame(
        {
            "row": list(range(1, len(events) + 1)),
            "agency": [REPORTER[rule] for _, rule, _ in events],
            "event_id": [f"E{n}" for n in range(len(events))],
            "person_id": [ids[index] for index, _, _ in events],
            "rule": [rule for _, rule, _ in events],
            "occurred_on": [day.isoformat() for _, _, day in events],
            "evidence": [None] * len(events),
            "malformed": [None] * len(events),
        },
        schema_overrides={"evidence": pl.String, "malformed": pl.String, "row": pl.Int64},
    )
    columns = ["agency", "event_id", "person_id", "rule", "occurred_on", "evidence"]
    import_event_frame(registry, raw, columns, source="hypothesis")


def _change(registry: Registry, changes: list[tuple[int, str, date | None]]) -> None:
    with registry.database.write() as connection:
        entry_ids = connection.execute(select(entries.c.id).order_by(entries.c.id)).scalars().all()
        if not entry_ids:
            return
        moment = datetime(2026, 11, 1, tzinfo=UTC)
        for offset, (pick, status, ends_on) in enumerate(changes):
            connection.execute(
                insert(entry_changes).values(
                    entry_id=entry_ids[pick % len(entry_ids)],
                    status=status,
                    ends_on=ends_on,
                    reason="test",
                    actor="test",
                    recorded_at=moment + timedelta(seconds=offset),
                )
            )


def _boundaries(registry: Registry) -> list[date]:
    """Days where an entry starts or stops counting or blacklisting: where off-by-ones hide.

    Every early end (few), and a handful of each other edge.
    """
    frame = entry_frame(registry)
    days: set[date] = set(frame["ends_on"].drop_nulls().to_list())
    for name in ("occurred_on", "counts_until", "blacklist_until"):
        days.update(sorted(frame[name].drop_nulls().unique().to_list())[:3])
    return sorted(day for day in days if day >= START)


def _compare(registry: Registry, ids: list[str], day: date) -> None:
    exported = population_scores(registry, as_of=day)
    assert exported["id"].to_list() == sorted(ids)
    for row in exported.iter_rows(named=True):
        one = standing.score(registry, row["id"], as_of=day)
        assert (row["score"], row["grade"], row["blacklisted"]) == (
            one.score,
            one.grade,
            one.blacklisted,
        ), (row["id"], day)
    catalogue = registry.in_force(day)
    with registry.database.read() as connection:
        from_sql = sql_aggregates(connection, day, catalogue.grades).sort("id")
    from_frame = frame_aggregates(entry_frame(registry), day, catalogue.grades).sort("id")
    assert from_sql.equals(from_frame)
    people = pl.DataFrame({"id": ids})
    assert grade_population(people, from_frame, catalogue).equals(exported)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    events=st.lists(event, max_size=60),
    changes=st.lists(change, max_size=12),
    asked=st.lists(days | st.just(TODAY + timedelta(days=400)), min_size=1, max_size=4),
)
def test_population_equals_per_person(
    tmp_path_factory: pytest.TempPathFactory,
    events: list[tuple[int, str, date]],
    changes: list[tuple[int, str, date | None]],
    asked: list[date],
) -> None:
    folder = tmp_path_factory.mktemp("town")
    registry = open_registry(f"sqlite:///{folder / 'r.db'}")
    try:
        from socialcredit.services.catalogue import init_registry

        init_registry(registry, CATALOGUES)
        ids = _people(registry, 8)
        _import(registry, ids, events)
        _change(registry, changes)
        for day in [*asked, *_boundaries(registry)]:
            _compare(registry, ids, day)
    finally:
        registry.close()


def test_population_on_postgres_equals_per_person(make_registry, postgres_url: str) -> None:
    registry = make_registry(postgres_url, CATALOGUES)
    ids = _people(registry, 8)
    rules = sorted(REPORTER)
    events = [(n % 8, rules[n % len(rules)], START + timedelta(days=37 * n)) for n in range(36)]
    _import(registry, ids, events)
    _change(
        registry,
        [
            (n * 5, status, None if n % 2 else TODAY - timedelta(days=20 * n))
            for n, status in zip(
                range(8), itertools.cycle(["contested", "overturned", "withdrawn", "active"])
            )
        ],
    )
    for day in (START, date(2024, 2, 29), date(2025, 6, 30), date(2025, 7, 1), TODAY):
        _compare(registry, ids, day)


def test_population_scoring_raises_work_mem_for_its_own_transaction_only(
    make_registry, postgres_url: str
) -> None:
    from sqlalchemy import text

    from socialcredit.store import repository

    registry = make_registry(postgres_url, CATALOGUES, pg_batch_work_mem_mib=48)
    show = text("SHOW work_mem")
    with registry.database.read() as connection:
        before = connection.execute(show).scalar_one()
        repository.batch_memory(connection, registry.settings.pg_batch_work_mem_mib)
        assert connection.execute(show).scalar_one() == "48MB"
    with registry.database.read() as connection:
        assert connection.execute(show).scalar_one() == before != "48MB"


def test_scores_export_lists_everyone_by_id(sqlite_registry: Registry, tmp_path: Path) -> None:
    ids = _people(sqlite_registry, 5)
    result = export_scores(sqlite_registry, tmp_path / "scores.csv", as_of=TODAY)
    frame = pl.read_csv(tmp_path / "scores.csv", infer_schema=False)
    assert result["people"] == 5
    assert frame.columns == ["id", "score", "grade", "blacklisted"]
    assert frame["id"].to_list() == sorted(ids)
    assert set(frame["blacklisted"].to_list()) == {"false"}
    assert set(frame["score"].to_list()) == {"1000"}
