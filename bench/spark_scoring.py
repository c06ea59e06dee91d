"""Benchmark: population scoring on Spark against the SQL path and raw baselines, in one run.

    python bench/spark_scoring.py [--events N] [--people P] [--out DIR] [--master local[2]]

On one synthetic town (built once per size in DIR and reused after; 2% of the entries get a
status change or an early end, so that every path joins the changes) it times, as of today:

1. raw SQL: ``SELECT person_id, SUM(points) ... GROUP BY person_id`` with the date filter, on
   the same SQLite (``entries NOT INDEXED``: its best plan);
2. ours, SQL: ``population_scores`` (``sql_aggregates`` + grading);
3. the entry snapshot to Parquet (``write_entry_snapshot``), which the next two read;
4. Polars: ``frame_aggregates`` over the snapshot (reading it included);
5. Spark: ``spark_aggregates`` over the snapshot, collected as Arrow (reading it included);
6. raw Spark SQL: the same group-by as 1. over the same Parquet, collected the same way;
7. ours, Spark, end to end: ``spark_population_scores`` (snapshot + Spark + grading), whose
   answer must equal ``population_scores``.

Spark's timings are the best of ``--repeat`` runs after the session is up (its start is shown
apart; the first query also warms the JVM). It prints entries/s and ratios (ours / raw; lower
is better). Timings depend on the machine and on what else runs: compare ratios, not seconds.
On one machine Spark is not expected to win; it is there for when one machine is not enough.
"""

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import text

from ingest_and_score import CHANGES_SQL, build_files, raw_group_by, say, timed
from socialcredit.batch.population import frame_aggregates
from socialcredit.batch.snapshot import write_entry_snapshot
from socialcredit.batch.spark import (
    spark_aggregates,
    spark_population_scores,
    spark_session,
)
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.population import population_scores
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings

RAW_SPARK_SQL = (
    "SELECT person_id, SUM(points) AS points FROM parquet.`{path}` "
    "WHERE occurred_on <= DATE'{day}' AND counts_until > DATE'{day}' GROUP BY person_id"
)


def best_of(times: int, function: Callable[[], Any]) -> tuple[float, Any]:
    runs = [timed(function) for _ in range(times)]
    return min(runs, key=lambda run: run[0])


def town_registry(args: argparse.Namespace) -> tuple[Registry, Path]:
    """The registry of this size in ``--out`` (built the first time, reused after)."""
    root = Path(args.out or Path(tempfile.gettempdir()) / "scbench-spark")
    folder = root / f"{args.events}-events-{args.people}-people"
    database = folder / "registry.db"
    stamp = folder / "built.json"
    folder.mkdir(parents=True, exist_ok=True)
    registry = Registry.open(f"sqlite:///{database}", load_settings())
    if stamp.is_file():
        say(f"reusing the town in {folder}")
        return registry, folder
    init_registry(registry, [])
    today = registry.clock.today()
    build_files(folder, args.people, args.events, today, registry)
    import_people(registry, folder / "people.parquet")
    seconds, result = timed(lambda: import_events(registry, folder / "events.csv"))
    say(f"events imported in {seconds:.1f} s: {result.as_dict()}")
    with registry.database.write() as connection:
        connection.execute(text(CHANGES_SQL))
    stamp.write_text(json.dumps({"events": args.events, "people": args.people}))
    return registry, folder


def measure(args: argparse.Namespace) -> dict[str, Any]:
    registry, folder = town_registry(args)
    day = registry.clock.today()
    grades = registry.in_force(day).grades
    raw_sql, groups = raw_group_by(registry, day, "entries NOT INDEXED")
    ours_sql, scores = timed(lambda: population_scores(registry, as_of=day))
    snapshot_dir = folder / "snapshot"
    write, snapshot = timed(lambda: write_entry_snapshot(registry, snapshot_dir))
    parts = str(snapshot.entries / "*.parquet")
    polars, _ = best_of(args.repeat, lambda: frame_aggregates(pl.scan_parquet(parts), day, grades))
    start, spark = timed(lambda: spark_session(args.master))
    path = str(snapshot.entries)

    def ours_spark() -> Any:
        return spark_aggregates(spark.read.parquet(path), day, grades).toArrow()

    def raw_spark() -> Any:
        return spark.sql(RAW_SPARK_SQL.format(path=path, day=day.isoformat())).toArrow()

    first, _ = timed(ours_spark)
    spark_seconds, _ = best_of(args.repeat, ours_spark)
    raw_spark_seconds, raw_table = best_of(args.repeat, raw_spark)
    end_to_end, spark_scores = timed(
        lambda: spark_population_scores(registry, as_of=day, session=spark)
    )
    spark.stop()
    registry.close()
    rows = snapshot.entry_count
    seconds = {
        "raw_sql_group_by": raw_sql,
        "ours_sql_population_scores": ours_sql,
        "snapshot_write": write,
        "polars_frame_aggregates": polars,
        "spark_session_start": start,
        "spark_aggregates_first_run": first,
        "spark_aggregates": spark_seconds,
        "raw_spark_sql_group_by": raw_spark_seconds,
        "ours_spark_end_to_end": end_to_end,
    }
    return {
        "entries": rows,
        "people": scores.height,
        "groups": {"raw_sql": groups, "raw_spark": raw_table.num_rows},
        "same_answers": spark_scores.equals(scores),
        "master": args.master,
        "seconds": {name: round(value, 3) for name, value in seconds.items()},
        "entries_per_s": {
            name: round(rows / value)
            for name, value in seconds.items()
            if value and name != "spark_session_start"
        },
        "ratios": {
            "ours_sql / raw_sql": round(ours_sql / raw_sql, 2),
            "spark_aggregates / raw_spark_sql": round(spark_seconds / raw_spark_seconds, 2),
            "spark_aggregates / polars_frame_aggregates": round(spark_seconds / polars, 2),
            "spark_aggregates / raw_sql": round(spark_seconds / raw_sql, 2),
            "ours_spark_end_to_end / ours_sql": round(end_to_end / ours_sql, 2),
        },
        "folder": str(folder),
    }


def show(report: dict[str, Any]) -> None:
    print(
        f"{report['entries']:,} entries, {report['people']:,} people, Spark master "
        f"{report['master']}; same answers as the SQL path: {report['same_answers']}"
    )
    rates = report["entries_per_s"]
    for name, seconds in report["seconds"].items():
        rate = f"{rates[name]:>14,} entries/s" if name in rates else ""
        print(f"  {name:<30} {seconds:9.3f} s {rate}")
    for name, ratio in report["ratios"].items():
        print(f"  {name:<45} {ratio:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--people", type=int, default=30_000)
    parser.add_argument("--out", help="where towns are kept (default: TMP/scbench-spark)")
    parser.add_argument("--master", default="local[2]", help="Spark master (default local[2])")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    report = measure(args)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        show(report)
    if not report["same_answers"]:
        sys.exit("the Spark path disagrees with the SQL path")


if __name__ == "__main__":
    main()
