"""The Spark batch path (``batch.spark``) gives the same answers as the SQL path.

One local Spark session serves the module (starting the JVM is the slow part). The town is a
SQLite registry built like tests/integration/test_population.py builds its towns: two catalogue
versions with caps and blacklists, events over four years, contests, withdrawals, overturns and
early ends, a second import and a second round of changes after a ``known_at`` moment. Spark
must equal ``population_scores`` on boundary days and as known at that moment;
``spark_aggregates`` must equal ``sql_aggregates`` and ``frame_aggregates`` on every boundary
day, and ``frame_aggregates`` on a hand-built frame with one entry per branch; the CLI's ``--engine spark`` must write the same file as ``--engine sql`` and log every
row; and without Java the CLI says so in one line and exits 2.
"""

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from pathlib import Path

import polars as pl
import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from sqlalchemy import func, insert, select
from tests.conftest import NOW, TODAY, open_registry, person
from tests.integration.cli_helpers import Run, runner
from tests.integration.test_population import CATALOGUES, REPORTER, START

from socialcredit.batch.population import (
    AGGREGATE_SCHEMA,
    ENTRY_FRAME_SCHEMA,
    frame_aggregates,
    sql_aggregates,
)
from socialcredit.batch.snapshot import entry_frame, write_entry_snapshot
from socialcredit.batch.spark import (
    DEFAULT_MASTER,
    spark_aggregates,
    spark_population_scores,
    spark_session,
)
from socialcredit.services.access import list_access
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_event_frame
from socialcredit.services.population import DEFAULT_SPARK_MASTER, population_scores
from socialcredit.services.registry import Registry
from socialcredit.store.bulk import upsert_people
from socialcredit.store.schema import entries, entry_changes

GRADES = ("AAA", "AA", "A+", "A", "B", "C", "D")
PEOPLE = [person(date(1950 + 5 * n, 1 + n, 1 + n), 2 * n + 1) for n in range(10)]
# The pinned clock is NOW (04:00 UTC); the second import and changes come hours later.
RECORDED = datetime.fromisoformat(NOW).astimezone(UTC)
KNOWN_AT = RECORDED + timedelta(hours=3)
CONSOLE_SCRIPT = Path(sys.executable).parent / "socialcredit"


@dataclass(frozen=True)
class Town:
    url: str
    path: Path
    registry: Registry
    days: list[date]


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = spark_session()
    # The test data is tiny: one shuffle partition halves the time of each query here.
    session.conf.set("spark.sql.shuffle.partitions", "1")
    yield session
    session.stop()


def _register_people(registry: Registry) -> None:
    moment = datetime(2022, 1, 1)
    frame = pl.DataFrame(
        {
            "id": PEOPLE,
            "name": [f"人{n}" for n in range(len(PEOPLE))],
            "district": ["城西街道"] * len(PEOPLE),
            "public_servant": [n % 2 == 0 for n in range(len(PEOPLE))],
            "registered_at": [moment] * len(PEOPLE),
            "updated_at": [moment] * len(PEOPLE),
        }
    )
    with registry.database.write() as connection:
        upsert_people(connection, frame)


def _import(registry: Registry, prefix: str, events: list[tuple[int, str, date]]) -> None:
    count = len(events)
    raw = pl.DataFrame(
        {
            "row": list(range(1, count + 1)),
            "agency": [REPORTER[rule] for _, rule, _ in events],
            "event_id": [f"{prefix}{n}" for n in range(count)],
            "person_id": [PEOPLE[index] for index, _, _ in events],
            "rule": [rule for _, rule, _ in events],
            "occurred_on": [day.isoformat() for _, _, day in events],
            "evidence": [None] * count,
            "malformed": [None] * count,
        },
        schema_overrides={"evidence": pl.String, "malformed": pl.String, "row": pl.Int64},
    )
    columns = ["agency", "event_id", "person_id", "rule", "occurred_on", "evidence"]
    import_event_frame(registry, raw, columns, source=f"spark-{prefix}")


def _events(seed: int, count: int) -> list[tuple[int, str, date]]:
    draw = random.Random(seed)
    span = (TODAY - START).days
    rules = sorted(REPORTER)
    return [
        (draw.randrange(len(PEOPLE)), draw.choice(rules), START + timedelta(draw.randrange(span)))
        for _ in range(count)
    ]


def _change(registry: Registry, moment: datetime, changes: list[tuple[int, str, int]]) -> None:
    """(entry number, status, ends_on as days after occurred_on, or -1 for none) at ``moment``."""
    with registry.database.write() as connection:
        rows = connection.execute(
            select(entries.c.id, entries.c.occurred_on).order_by(entries.c.id)
        )
        listed = rows.all()
        for offset, (pick, status, days) in enumerate(changes):
            entry_id, occurred_on = listed[pick % len(listed)]
            connection.execute(
                insert(entry_changes).values(
                    entry_id=entry_id,
                    status=status,
                    ends_on=None if days < 0 else occurred_on + timedelta(days=days),
                    reason="test",
                    actor="test",
                    recorded_at=moment + timedelta(seconds=offset),
                )
            )


def _boundary_days(registry: Registry) -> list[date]:
    """Where entries start or stop counting or blacklisting (and the day before each), and
    where the second catalogue version takes over."""
    frame = entry_frame(registry)
    edges: set[date] = set(frame["ends_on"].drop_nulls().to_list())
    for name in ("occurred_on", "counts_until", "blacklist_until"):
        edges.update(sorted(frame[name].drop_nulls().unique().to_list())[:2])
    days = {START, date(2024, 2, 29), date(2025, 7, 1), TODAY, TODAY + timedelta(days=400)}
    days.update(edge - timedelta(days=offset) for edge in edges for offset in (0, 1))
    return sorted(day for day in days if day >= START)


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    path = tmp_path_factory.mktemp("spark-town") / "registry.db"
    url = f"sqlite:///{path}"
    registry = open_registry(url)
    init_registry(registry, CATALOGUES)
    _register_people(registry)
    _import(registry, "A", _events(seed=11, count=70))
    statuses = ["contested", "overturned", "withdrawn", "active", "contested", "active"]
    # ends_on 40 days after occurrence (mid-period), -1 = none, 0 = the day it occurred.
    _change(
        registry,
        RECORDED + timedelta(hours=1),
        [(7 * n, statuses[n % 6], [-1, 40, 0, 200][n % 4]) for n in range(10)],
    )
    later = open_registry(url, now=(RECORDED + timedelta(hours=4)).isoformat())
    try:
        _import(later, "B", _events(seed=12, count=25))
    finally:
        later.close()
    _change(
        registry,
        RECORDED + timedelta(hours=5),
        [(0, "active", -1), (14, "withdrawn", -1), (3, "contested", 10), (75, "overturned", -1)],
    )
    yield Town(url, path, registry, _boundary_days(registry))
    registry.close()


def _spark_by_day(entries_df: DataFrame, days: list[date]) -> dict[date, pl.DataFrame]:
    """``spark_aggregates`` for each day, in one Spark job (a job per day is slower to test)."""
    parts = [
        spark_aggregates(entries_df, day, GRADES).withColumn("day", F.lit(day)) for day in days
    ]
    frame = pl.from_arrow(reduce(DataFrame.unionByName, parts).toArrow())
    assert isinstance(frame, pl.DataFrame)
    frame = frame.cast(AGGREGATE_SCHEMA | {"day": pl.Date})  # type: ignore[arg-type]
    return {day: frame.filter(pl.col("day") == day).drop("day").sort("id") for day in days}


def test_the_town_covers_what_it_should(town: Town) -> None:
    frame = entry_frame(town.registry)
    assert frame.height >= 80
    assert {"contested", "overturned", "withdrawn", "active", None} <= set(frame["status"])
    assert frame["ends_on"].drop_nulls().len() >= 3
    assert frame["grade_cap"].drop_nulls().len() and frame["blacklist_until"].drop_nulls().len()
    with town.registry.database.read() as connection:
        after = select(func.count()).where(entries.c.recorded_at > KNOWN_AT)
        assert connection.execute(after).scalar_one() > 0
    assert len(town.days) >= 12


def test_spark_scores_equal_sql_scores(town: Town, spark: SparkSession, tmp_path: Path) -> None:
    """The whole path (snapshot, Spark, Arrow, grading) on a spread of the boundary days; the
    next test takes every boundary day through the aggregation alone (a full run is slower)."""
    for day in sorted({*town.days[::10], date(2025, 7, 1), TODAY}):
        expected = population_scores(town.registry, as_of=day)
        got = spark_population_scores(town.registry, as_of=day, snapshot_dir=tmp_path / str(day))
        assert got.equals(expected), day
    assert (tmp_path / str(TODAY) / "entries" / "part-00000.parquet").is_file()


def test_spark_scores_as_known_at_a_past_moment(town: Town, spark: SparkSession) -> None:
    for day in (date(2025, 6, 30), TODAY):
        expected = population_scores(town.registry, as_of=day, known_at=KNOWN_AT)
        got = spark_population_scores(town.registry, as_of=day, known_at=KNOWN_AT)
        assert got.equals(expected), day
    # The moment matters: later imports and changes are not in the earlier answer.
    now = spark_population_scores(town.registry, as_of=TODAY)
    assert not now.equals(spark_population_scores(town.registry, as_of=TODAY, known_at=KNOWN_AT))


def test_spark_aggregates_on_the_snapshot_equal_sql_and_polars(
    town: Town, spark: SparkSession, tmp_path: Path
) -> None:
    """Every boundary day: Spark over the Parquet snapshot = the database's GROUP BY = Polars."""
    snapshot = write_entry_snapshot(town.registry, tmp_path)
    frame = pl.read_parquet(snapshot.entries)
    assert snapshot.entry_count == frame.height == entry_frame(town.registry).height
    assert snapshot.people_count == len(PEOPLE)
    by_day = _spark_by_day(spark.read.parquet(str(snapshot.entries)), town.days)
    for day in town.days:
        with town.registry.database.read() as connection:
            expected = sql_aggregates(connection, day, GRADES).sort("id")
        assert by_day[day].equals(expected), day
        assert frame_aggregates(frame, day, GRADES).sort("id").equals(expected), day


D = date(2025, 6, 15)
BRANCHES = [
    # person, points, occurred_on, counts_until, blacklist_until, grade_cap, status, ends_on
    ("p01-null-status", -5, date(2025, 1, 1), date(2026, 1, 1), None, None, None, None),
    (
        "p02-withdrawn",
        -30,
        date(2025, 1, 1),
        date(2026, 1, 1),
        date(2025, 7, 1),
        "C",
        "withdrawn",
        None,
    ),
    ("p03-overturned", -20, date(2025, 1, 1), date(2026, 1, 1), None, "D", "overturned", None),
    (
        "p04-contested",
        -20,
        date(2025, 6, 1),
        date(2025, 7, 1),
        date(2025, 8, 15),
        "C",
        "contested",
        None,
    ),
    (
        "p05-ends-before",
        -5,
        date(2025, 1, 1),
        date(2026, 1, 1),
        None,
        None,
        "active",
        date(2025, 3, 1),
    ),
    ("p05-ends-on-day", -7, date(2025, 1, 1), date(2026, 1, 1), None, None, "active", D),
    ("p05-ends-after", -11, date(2025, 1, 1), date(2026, 1, 1), None, "B", None, date(2025, 9, 1)),
    (
        "p06-blacklist-only",
        -30,
        date(2024, 6, 1),
        date(2025, 6, 1),
        date(2025, 12, 1),
        None,
        None,
        None,
    ),
    ("p07-cap-only", 0, date(2021, 1, 1), date(2026, 1, 1), None, "D", "active", None),
    (
        "p08-after-day",
        -150,
        date(2025, 6, 16),
        date(2027, 6, 16),
        date(2025, 12, 16),
        "D",
        None,
        None,
    ),
    ("p09-expires-on-day", -5, date(2024, 6, 15), D, D, "C", None, None),
    ("p10-unknown-cap", 100, date(2025, 1, 1), date(2030, 1, 1), None, "Z", "active", None),
    (
        "p11-blacklist-ended",
        -30,
        date(2025, 1, 1),
        date(2025, 2, 1),
        date(2025, 12, 1),
        None,
        None,
        date(2025, 5, 1),
    ),
    ("p12-several", -5, D, date(2026, 6, 15), None, "B", None, None),
    (
        "p12-several",
        -30,
        date(2025, 3, 1),
        date(2026, 3, 1),
        date(2025, 9, 1),
        "D",
        "contested",
        None,
    ),
    ("p12-several", 20, date(2025, 3, 1), date(2026, 3, 1), None, None, "withdrawn", None),
]


def test_spark_aggregates_equal_frame_aggregates_on_every_branch(
    spark: SparkSession, tmp_path: Path
) -> None:
    frame = pl.DataFrame(BRANCHES, schema=ENTRY_FRAME_SCHEMA, orient="row")
    frame.write_parquet(tmp_path / "branches.parquet")
    entries_df = spark.read.parquet(str(tmp_path / "branches.parquet"))
    days = [D - timedelta(days=1), D, D + timedelta(days=1), date(2020, 1, 1), date(2031, 1, 1)]
    days = sorted({*days, *(row[3] for row in BRANCHES)})
    by_day = _spark_by_day(entries_df, days)
    for day in days:
        expected = frame_aggregates(frame, day, GRADES).sort("id")
        assert by_day[day].equals(expected), day
    on_day = {row["id"]: row for row in frame_aggregates(frame, D, GRADES).iter_rows(named=True)}
    # Not a vacuous equality: the branches answer what DESIGN.md section 3 says on day D.
    assert on_day["p01-null-status"]["points"] == -5
    assert on_day["p02-withdrawn"] == {"id": "p02-withdrawn", "points": 0, "cap_position": None, "blacklisted": False}  # fmt: skip
    assert on_day["p04-contested"] == {"id": "p04-contested", "points": -20, "cap_position": 5, "blacklisted": True}  # fmt: skip
    assert on_day["p05-ends-before"]["points"] + on_day["p05-ends-after"]["points"] == -11
    assert on_day["p06-blacklist-only"] == {"id": "p06-blacklist-only", "points": 0, "cap_position": None, "blacklisted": True}  # fmt: skip
    assert on_day["p07-cap-only"]["cap_position"] == 6
    assert on_day["p10-unknown-cap"]["cap_position"] is None
    assert on_day["p11-blacklist-ended"]["blacklisted"] is False
    assert on_day["p12-several"] == {"id": "p12-several", "points": -35, "cap_position": 6, "blacklisted": True}  # fmt: skip
    assert {"p08-after-day", "p09-expires-on-day"}.isdisjoint(on_day)


def _copy(town: Town, target: Path) -> None:
    """A consistent copy of the town's database (SQLite's backup: the WAL comes along)."""
    source, copy = sqlite3.connect(town.path), sqlite3.connect(target)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()


@pytest.fixture
def cli(
    town: Town, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Run]:
    """The CLI on a copy of the town (an export writes the access log)."""
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    monkeypatch.chdir(tmp_path)
    _copy(town, tmp_path / "registry.db")
    return runner(capsys, f"sqlite:///{tmp_path / 'registry.db'}")


def test_cli_spark_engine_writes_the_same_file(
    cli: Callable[..., Run], spark: SparkSession, tmp_path: Path
) -> None:
    for name in ("scores.csv", "scores.parquet"):
        for engine in ("sql", "spark"):
            args = ["--as-of", "2025-06-30", "--known-at", KNOWN_AT.isoformat()]
            run = cli("scores", "export", tmp_path / f"{engine}-{name}", "--engine", engine, *args, "--json")  # fmt: skip
            assert run.code == 0, run
            assert run.document["engine"] == engine and run.document["people"] == len(PEOPLE)
        sql, spark_file = (tmp_path / f"{engine}-{name}" for engine in ("sql", "spark"))
        if name.endswith(".csv"):
            assert spark_file.read_bytes() == sql.read_bytes()
        else:
            assert pl.read_parquet(spark_file).equals(pl.read_parquet(sql))
    registry = open_registry(f"sqlite:///{tmp_path / 'registry.db'}")
    try:
        for person_id in PEOPLE:  # every exported row is logged, whichever the engine
            exports = [r for _, r in list_access(registry, person_id) if r.action == "export"]
            assert len(exports) == 4
    finally:
        registry.close()


def test_the_services_default_master_is_the_batch_one() -> None:
    assert DEFAULT_SPARK_MASTER == DEFAULT_MASTER  # repeated so that the SQL path skips pyspark


@pytest.mark.parametrize("java", ["JAVA_HOME points nowhere", "no JAVA_HOME, no java on PATH"])
def test_cli_spark_engine_without_java_says_so(town: Town, tmp_path: Path, java: str) -> None:
    _copy(town, tmp_path / "registry.db")
    environment = {**os.environ, "SOCIALCREDIT_NOW": NOW, "PATH": str(tmp_path / "no-bin")}
    environment.pop("JAVA_HOME", None)
    if java.startswith("JAVA_HOME"):
        environment["JAVA_HOME"] = str(tmp_path / "no-jdk")
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "--db", f"sqlite:///{tmp_path / 'registry.db'}"]
        + ["scores", "export", "scores.csv", "--engine", "spark", "--json"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done
    assert json.loads(done.stdout)["error"]["code"] == "spark-unavailable"
    [line] = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert line.startswith("error: the spark engine needs a Java 17+ runtime"), line
    assert not (tmp_path / "scores.csv").exists()
