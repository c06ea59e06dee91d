"""The population scoring kernel on Apache Spark, for when one machine is not enough.

Why: ``sql_aggregates`` runs in the registry's own database, which is one machine. When the
entries outgrow it, the same aggregation (``frame_aggregates`` in Polars) is written here as
Spark column expressions over a Parquet snapshot of the entries (``batch.snapshot``), so that a
cluster can do the heavy part. Only the per-person aggregates (one small row per person with
entries) come back, as Arrow, and ``grade_population`` grades them exactly as the SQL path does.
The tests (tests/integration/test_spark.py) keep ``spark_aggregates`` equal to
``sql_aggregates`` and ``frame_aggregates``, and the scores equal to ``population_scores``.

Spark column expressions only: no Python UDFs, so no row ever passes through Python. With a
cluster master, ``snapshot_dir`` must be on storage that every executor can read.
Needs pyspark (the ``spark`` extra) and a Java 17+ runtime.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import reduce
from pathlib import Path

import polars as pl
from pyspark.errors import PySparkRuntimeError
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from socialcredit.batch.population import AGGREGATE_SCHEMA, grade_population
from socialcredit.batch.snapshot import write_entry_snapshot
from socialcredit.domain.errors import InputError
from socialcredit.services.registry import Registry

__all__ = [
    "DEFAULT_MASTER",
    "DRIVER_MEMORY",
    "LOG_LEVEL",
    "SHUFFLE_PARTITIONS",
    "spark_aggregates",
    "spark_population_scores",
    "spark_session",
]

DEFAULT_MASTER = "local[2]"
# Few shuffle partitions: the aggregates are one small row per person, and adaptive query
# execution (on by default) merges partitions further. Spark's default of 200 means 200 tiny
# tasks per query on a laptop.
SHUFFLE_PARTITIONS = 4
# The driver only receives the aggregates; the executors do the scanning.
DRIVER_MEMORY = "2g"
LOG_LEVEL = "WARN"
_SETTINGS = {
    "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS),
    "spark.driver.memory": DRIVER_MEMORY,
    "spark.log.level": LOG_LEVEL,
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.session.timeZone": "UTC",
}
_LOCAL_SETTINGS = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}


def spark_session(master: str = DEFAULT_MASTER) -> SparkSession:
    """A quiet Spark session (Spark allows one per process: a running one is returned).

    A local master listens on the loopback interface only.
    """
    builder = SparkSession.builder.master(master).appName("socialcredit")
    settings = dict(_SETTINGS)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        settings.update(_LOCAL_SETTINGS)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except PySparkRuntimeError as error:
        if error.getCondition() != "JAVA_GATEWAY_EXITED":
            raise
        raise InputError(
            "the spark engine could not start Java (it needs Java 17+; its own message is above)",
            code="spark-unavailable",
        ) from None


def _cap_position(grades: tuple[str, ...]) -> Column:
    """grade_cap -> its position among ``grades`` (0 = best); unknown or null -> null."""
    cap = F.col("grade_cap")
    positions = [(cap == F.lit(grade), index) for index, grade in enumerate(grades)]
    if not positions:
        return F.lit(None).cast("int")
    first, *rest = positions
    chained = reduce(lambda case, pair: case.when(pair[0], pair[1]), rest, F.when(*first))
    return chained.cast("int")


def spark_aggregates(entries_df: DataFrame, day: date, grades: tuple[str, ...]) -> DataFrame:
    """id, points, cap_position, blacklisted per person for ``day``: ``frame_aggregates`` in
    Spark, over a frame of entries with the columns of ``ENTRY_FRAME_SCHEMA``."""
    on = F.lit(day)
    status = F.coalesce(F.col("status"), F.lit("active"))
    alive = status.isin("active", "contested") & (
        F.col("ends_on").isNull() | (F.col("ends_on") > on)
    )
    counts = alive & (F.col("counts_until") > on)
    blacklists = alive & F.col("blacklist_until").isNotNull() & (F.col("blacklist_until") > on)
    return (
        entries_df.where(F.col("occurred_on") <= on)
        .where((F.col("counts_until") > on) | (F.col("blacklist_until") > on))
        .groupBy(F.col("person_id").alias("id"))
        .agg(
            F.sum(F.when(counts, F.col("points")).otherwise(F.lit(0))).cast("long").alias("points"),
            F.max(F.when(counts, _cap_position(grades))).cast("int").alias("cap_position"),
            F.bool_or(F.coalesce(blacklists, F.lit(False))).alias("blacklisted"),
        )
    )


def _collect(aggregates: DataFrame) -> pl.DataFrame:
    """The aggregates into Polars through Arrow (no pandas, no Python rows)."""
    frame = pl.DataFrame(aggregates.toArrow())
    return frame.select(list(AGGREGATE_SCHEMA)).cast(AGGREGATE_SCHEMA)  # type: ignore[arg-type]


@contextmanager
def _session(master: str, given: SparkSession | None) -> Iterator[SparkSession]:
    """``given``, else the session already running in this process, else a new one that is
    stopped at the end (its JVM stays up for the process, as pyspark does)."""
    running = given or SparkSession.getActiveSession()
    if running is not None:
        yield running
        return
    session = spark_session(master)
    try:
        yield session
    finally:
        session.stop()


@contextmanager
def _folder(snapshot_dir: Path | None) -> Iterator[Path]:
    if snapshot_dir is not None:
        snapshot_dir.mkdir(parents=True, exist_ok=True)
        yield snapshot_dir
        return
    with tempfile.TemporaryDirectory(prefix="socialcredit-spark-") as folder:
        yield Path(folder)


def spark_population_scores(
    registry: Registry,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    master: str = DEFAULT_MASTER,
    snapshot_dir: Path | None = None,
    session: SparkSession | None = None,
) -> pl.DataFrame:
    """id, score, grade, blacklisted for every registered person, ordered by id: the same frame
    as ``services.population.population_scores``, with the aggregation done by Spark.

    The snapshot goes to ``snapshot_dir`` (kept) or to a temporary folder (removed).
    """
    day = as_of or registry.clock.today()
    catalogue = registry.in_force(day, known_at)
    with _folder(snapshot_dir) as folder:
        snapshot = write_entry_snapshot(registry, folder, known_at=known_at)
        with _session(master, session) as spark:
            entries_df = spark.read.parquet(str(snapshot.entries))
            aggregates = _collect(spark_aggregates(entries_df, day, catalogue.grades))
        people = pl.read_parquet(snapshot.people)
    return grade_population(people, aggregates, catalogue)
