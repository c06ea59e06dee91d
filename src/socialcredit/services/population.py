"""Use cases over the whole population: scores export and the grade distribution."""

import importlib.util
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from socialcredit.batch.population import grade_population, sql_aggregates
from socialcredit.domain.errors import InputError
from socialcredit.files.writers import write_table
from socialcredit.services.access import LOCAL, Actor, record_bulk_access
from socialcredit.services.registry import Registry
from socialcredit.store import repository

__all__ = [
    "DEFAULT_SPARK_MASTER",
    "ENGINES",
    "Distribution",
    "Engine",
    "export_scores",
    "grade_distribution",
    "population_scores",
    "spark_missing",
]

Engine = Literal["sql", "spark"]
ENGINES: tuple[Engine, ...] = ("sql", "spark")
# batch.spark.DEFAULT_MASTER, repeated so that the SQL path never imports pyspark.
DEFAULT_SPARK_MASTER = "local[2]"


def population_scores(
    registry: Registry, *, as_of: date | None = None, known_at: datetime | None = None
) -> pl.DataFrame:
    """id, score, grade, blacklisted for every registered person, ordered by id."""
    day = as_of or registry.clock.today()
    catalogue = registry.in_force(day, known_at)
    with registry.database.read() as connection:
        repository.batch_memory(connection, registry.settings.pg_batch_work_mem_mib)
        people = repository.person_ids(connection, known_at)
        aggregates = sql_aggregates(connection, day, catalogue.grades, known_at=known_at)
    return grade_population(people, aggregates, catalogue)


def _java_found() -> bool:
    """Whether Spark's launcher will find java: ``$JAVA_HOME/bin/java``, else on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        return os.access(Path(home) / "bin" / "java", os.X_OK)
    return shutil.which("java") is not None


def spark_missing() -> str | None:
    """Why the Spark engine cannot run here (pyspark or java missing), or None if it can."""
    if importlib.util.find_spec("pyspark") is None:
        return "the spark engine needs pyspark: pip install 'socialcredit[spark]'"
    if not _java_found():
        return (
            "the spark engine needs a Java 17+ runtime: no java in $JAVA_HOME/bin or on PATH "
            "(Debian: apt-get install default-jre-headless)"
        )
    return None


def _spark_scores(
    registry: Registry, day: date, known_at: datetime | None, master: str
) -> pl.DataFrame:
    problem = spark_missing()
    if problem is not None:
        raise InputError(problem, code="spark-unavailable")
    from socialcredit.batch.spark import spark_population_scores  # pyspark: only when asked

    return spark_population_scores(registry, as_of=day, known_at=known_at, master=master)


def export_scores(
    registry: Registry,
    path: Path,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    actor: Actor = LOCAL,
    purpose: str = "scores export",
    engine: Engine = "sql",
    spark_master: str = DEFAULT_SPARK_MASTER,
) -> dict[str, Any]:
    """Write the scores export (CSV, JSON Lines or Parquet by extension).

    ``engine`` "sql" aggregates in the database; "spark" on Apache Spark at ``spark_master``
    (``batch.spark``; needs pyspark and Java), with the same answers.
    Every exported row is a read of that person's data, so each one is logged.
    """
    day = as_of or registry.clock.today()
    if engine == "spark":
        scores = _spark_scores(registry, day, known_at, spark_master)
    else:
        scores = population_scores(registry, as_of=day, known_at=known_at)
    frame = scores
    if path.suffix.lower() != ".parquet":
        # The contract spells the flag true/false in text formats.
        frame = scores.with_columns(pl.col("blacklisted").cast(pl.String).str.to_lowercase())
    write_table(frame, path)
    record_bulk_access(registry, actor, scores["id"], "export", purpose)
    return {
        "path": str(path),
        "as_of": day.isoformat(),
        "people": scores.height,
        "engine": engine,
    }


@dataclass(frozen=True, slots=True)
class Distribution:
    as_of: date
    catalogue_version: str
    grades: dict[str, int]
    blacklisted: int
    people: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "catalogue_version": self.catalogue_version,
            "people": self.people,
            "grades": dict(self.grades),
            "blacklisted": self.blacklisted,
        }


def grade_distribution(
    registry: Registry, *, as_of: date | None = None, scores: pl.DataFrame | None = None
) -> Distribution:
    """People per grade (every grade listed, best first) and the blacklist count."""
    day = as_of or registry.clock.today()
    catalogue = registry.in_force(day)
    if scores is None:
        scores = population_scores(registry, as_of=day)
    counts = dict(scores.group_by("grade").len().iter_rows())
    return Distribution(
        as_of=day,
        catalogue_version=catalogue.version,
        grades={grade: int(counts.get(grade, 0)) for grade in catalogue.grades},
        blacklisted=int(scores["blacklisted"].sum()),
        people=scores.height,
    )
