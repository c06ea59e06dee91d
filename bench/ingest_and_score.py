"""Benchmark: the real import and scoring paths against raw baselines measured in the same run.

    python bench/ingest_and_score.py [--events N] [--people P] [--db sqlite|postgres] [--url URL]

1. Import N events (default 5,000,000) from a CSV file through ``import_events``, the path the
   CLI and agencies use (read, judge columnar, write per batch), into a fresh registry.
2. Insert the same rows in one transaction into a table with the same columns and indexes:
   SQLite with raw ``executemany``; PostgreSQL with raw binary ``COPY``, twice: pre-encoded
   bytes (the server's own ingest speed) and from Python rows with psycopg's ``write_row``.
3. Score the whole population as of today through ``population_scores``, and time a raw
   ``SELECT person_id, SUM(points) ... GROUP BY person_id`` with the same date filter over the
   same stored entries (SQLite: also a DuckDB group-by over them in memory).

``--db postgres`` starts a throwaway cluster the way the tests do (``tests/pg.py``), unless
``--url postgresql://...`` names an empty database to use. It prints events/s and the ratios
(ours / raw; lower is better, 1.0 = as fast as raw). Timings depend on the machine and on
what else runs; compare ratios, not seconds.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from sqlalchemy import create_engine, func, select, text

import pg_baseline
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.population import population_scores
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.sim.town import build_town
from socialcredit.store.bulk import ENTRY_COLUMNS
from socialcredit.store.schema import entries, metadata

# Every 50th entry gets a change (contested, withdrawn, or active with an early end), after the
# plain scoring, so that scoring is timed again with the join to the newest changes.
CHANGES_SQL = """
INSERT INTO entry_changes (entry_id, status, ends_on, reason, actor, recorded_at)
SELECT id,
       CASE id % 3 WHEN 0 THEN 'contested' WHEN 1 THEN 'withdrawn' ELSE 'active' END,
       CASE id % 3 WHEN 2 THEN date(occurred_on, '+60 days') END,
       'benchmark', 'benchmark', recorded_at
FROM entries WHERE id % 50 = 0
"""

RAW_TABLE_SQL = (
    "SELECT person_id, SUM(points) FROM {table} "
    "WHERE occurred_on <= ? AND counts_until > ? GROUP BY person_id"
)


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build_files(folder: Path, people: int, events: int, today: date, registry: Registry) -> None:
    seconds, town = timed(
        lambda: build_town(
            registry.in_force(today),
            people_count=people,
            today=today,
            events_target=events,
            noise_rate=0,
        )
    )
    say(f"town: {town.people.height:,} people, {town.events.height:,} events in {seconds:.1f} s")
    town.people.write_parquet(folder / "people.parquet")
    town.events.with_columns(pl.col("occurred_on").cast(pl.String)).write_csv(folder / "events.csv")


def raw_sqlite_insert(path: Path, rows: list[tuple[Any, ...]]) -> float:
    """Same columns and indexes (the schema's own DDL), same pragmas, one executemany."""
    engine = create_engine(f"sqlite:///{path}")
    metadata.create_all(engine, tables=[entries])
    engine.dispose()
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-262144"):
        connection.execute(f"PRAGMA {pragma}")
    marks = ", ".join("?" for _ in ENTRY_COLUMNS)
    sql = f"INSERT INTO entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({marks})"
    started = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany(sql, rows)
    connection.execute("COMMIT")
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


def stored_rows(registry: Registry) -> list[tuple[Any, ...]]:
    """The stored entries as raw text tuples, in the order the file had them."""
    columns = ", ".join(ENTRY_COLUMNS)
    with registry.database.read() as connection:
        driver = connection.connection.driver_connection
        return list(driver.execute(f"SELECT {columns} FROM entries ORDER BY occurred_on"))


def raw_group_by(registry: Registry, day: date, table: str = "entries") -> tuple[float, int]:
    """The raw SQL group-by; ``entries NOT INDEXED`` is the same query with the better plan."""
    with registry.database.read() as connection:
        driver = connection.connection.driver_connection
        sql = RAW_TABLE_SQL.format(table=table)
        seconds, rows = timed(
            lambda: driver.execute(sql, (day.isoformat(), day.isoformat())).fetchall()
        )
    return seconds, len(rows)


def duckdb_group_by(registry: Registry, day: date) -> tuple[float, float]:
    with registry.database.read() as connection:
        frame = pl.DataFrame(
            [
                tuple(r)
                for r in connection.execute(
                    select(
                        entries.c.person_id,
                        entries.c.points,
                        entries.c.occurred_on,
                        entries.c.counts_until,
                    )
                )
            ],
            schema=["person_id", "points", "occurred_on", "counts_until"],
            orient="row",
        )
    database = duckdb.connect()
    database.register("frame", frame)
    load_seconds, _ = timed(lambda: database.execute("CREATE TABLE e AS SELECT * FROM frame"))
    sql = (
        "SELECT person_id, SUM(points) FROM e WHERE occurred_on <= $1 AND counts_until > $1 "
        "GROUP BY person_id"
    )
    seconds, _ = timed(lambda: database.execute(sql, [day]).fetchall())
    return seconds, load_seconds


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.out or tempfile.mkdtemp(prefix="scbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "registry.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    registry = Registry.open(f"sqlite:///{database}", load_settings())
    init_registry(registry, [])
    today = registry.clock.today()
    build_files(folder, args.people, args.events, today, registry)
    people_seconds, _ = timed(lambda: import_people(registry, folder / "people.parquet"))
    say(f"people imported in {people_seconds:.1f} s")
    import_seconds, result = timed(lambda: import_events(registry, folder / "events.csv"))
    say(f"events imported in {import_seconds:.1f} s: {result.as_dict()}")
    rows = stored_rows(registry)
    raw_path = folder / "raw.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{raw_path}{suffix}").unlink(missing_ok=True)
    raw_seconds = raw_sqlite_insert(raw_path, rows)
    say(f"raw executemany of {len(rows):,} rows in {raw_seconds:.1f} s")
    score_seconds, scores = timed(lambda: population_scores(registry, as_of=today))
    group_seconds, groups = raw_group_by(registry, today)
    scan_seconds, _ = raw_group_by(registry, today, "entries NOT INDEXED")
    duck_seconds, duck_load = duckdb_group_by(registry, today)
    with registry.database.write() as connection:
        changes = connection.execute(text(CHANGES_SQL)).rowcount
    changed_seconds, _ = timed(lambda: population_scores(registry, as_of=today))
    registry.close()
    events = result.accepted
    return {
        "machine": _machine(),
        "database": "sqlite",
        "events": events,
        "people": scores.height,
        "import": {
            "seconds": round(import_seconds, 2),
            "events_per_s": round(events / import_seconds),
            "raw_executemany_seconds": round(raw_seconds, 2),
            "raw_events_per_s": round(events / raw_seconds),
            "ratio": round(import_seconds / raw_seconds, 2),
        },
        "score": {
            "seconds": round(score_seconds, 2),
            "people": scores.height,
            "raw_group_by_seconds": round(group_seconds, 2),
            "raw_groups": groups,
            "ratio_to_raw_sql": round(score_seconds / group_seconds, 2),
            "raw_not_indexed_seconds": round(scan_seconds, 2),
            "ratio_to_raw_not_indexed": round(score_seconds / scan_seconds, 2),
            "duckdb_seconds": round(duck_seconds, 3),
            "duckdb_load_seconds": round(duck_load, 2),
            "ratio_to_duckdb": round(score_seconds / duck_seconds, 1),
            "with_changes": {
                "changes": changes,
                "seconds": round(changed_seconds, 2),
                "ratio_to_raw_sql": round(changed_seconds / group_seconds, 2),
            },
        },
        "folder": str(folder),
    }


def _machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def _best_of(times: int, function: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``times`` runs (the first warms the caches for both sides alike)."""
    runs = [timed(function) for _ in range(times)]
    return min(runs, key=lambda run: run[0])


def _postgres_on(url: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.out or tempfile.mkdtemp(prefix="scbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    registry = Registry.open(url, load_settings())
    init_registry(registry, [])
    with registry.database.read() as connection:
        if connection.execute(select(func.count()).select_from(entries)).scalar_one():
            raise SystemExit(f"{url}: the benchmark needs an empty database")
    today = registry.clock.today()
    build_files(folder, args.people, args.events, today, registry)
    people_seconds, _ = timed(lambda: import_people(registry, folder / "people.parquet"))
    say(f"people imported in {people_seconds:.1f} s")
    with pg_baseline.Stopwatch().running() as parts:
        import_seconds, result = timed(lambda: import_events(registry, folder / "events.csv"))
    say(f"events imported in {import_seconds:.1f} s: {result.as_dict()}")
    pg_baseline.analyze(url)
    raw = pg_baseline.raw_copy(url)
    say(f"raw COPY of {raw['rows']:,} rows: pre-encoded {raw['pre_encoded']:.1f} s, "
        f"from Python rows {raw['python_rows']:.1f} s")  # fmt: skip
    score_seconds, scores = _best_of(2, lambda: population_scores(registry, as_of=today))
    group_seconds, groups = min(pg_baseline.raw_group_by(url, today) for _ in range(2))
    registry.close()
    events = result.accepted
    return {
        "machine": _machine(),
        "database": "postgresql",
        "events": events,
        "people": scores.height,
        "import": {
            "seconds": round(import_seconds, 2),
            "events_per_s": round(events / import_seconds),
            "raw_copy_seconds": round(raw["pre_encoded"], 2),
            "raw_events_per_s": round(events / raw["pre_encoded"]),
            "ratio": round(import_seconds / raw["pre_encoded"], 2),
            "raw_copy_python_rows_seconds": round(raw["python_rows"], 2),
            "ratio_to_python_rows": round(import_seconds / raw["python_rows"], 2),
            # Where the import's time went (the rest: reading and judging the rows).
            "parts_seconds": {name: round(value, 2) for name, value in parts.seconds.items()},
            "copy_ratio": round(parts.seconds.get("copy", 0.0) / raw["pre_encoded"], 2),
        },
        "score": {
            "seconds": round(score_seconds, 2),
            "people": scores.height,
            "raw_group_by_seconds": round(group_seconds, 2),
            "raw_groups": groups,
            "ratio_to_raw_sql": round(score_seconds / group_seconds, 2),
        },
        "folder": str(folder),
    }


def run_postgres(args: argparse.Namespace) -> dict[str, Any]:
    if args.url:
        return _postgres_on(args.url, args)
    with pg_baseline.throwaway_cluster() as url:
        return _postgres_on(url, args)


def _print_sqlite(report: dict[str, Any]) -> None:
    imp, score = report["import"], report["score"]
    print(
        f"import  {report['events']:>10,} events  ours {imp['seconds']:7.2f} s "
        f"({imp['events_per_s']:,}/s)  raw executemany {imp['raw_executemany_seconds']:7.2f} s "
        f"({imp['raw_events_per_s']:,}/s)  ratio {imp['ratio']:.2f}  (goal <= 2)"
    )
    print(
        f"score   {report['people']:>10,} people  ours {score['seconds']:7.2f} s  "
        f"raw SQL group-by {score['raw_group_by_seconds']:7.2f} s  ratio "
        f"{score['ratio_to_raw_sql']:.2f}  (goal <= 2)  same SQL with NOT INDEXED "
        f"{score['raw_not_indexed_seconds']:.2f} s, ratio {score['ratio_to_raw_not_indexed']:.2f}"
        f"  DuckDB in memory "
        f"{score['duckdb_seconds']:.3f} s (load {score['duckdb_load_seconds']:.1f} s)"
    )
    changed = score["with_changes"]
    print(
        f"score   after {changed['changes']:,} status changes and early ends: ours "
        f"{changed['seconds']:.2f} s, ratio to the raw group-by {changed['ratio_to_raw_sql']:.2f}"
    )


def _print_postgres(report: dict[str, Any]) -> None:
    imp, score = report["import"], report["score"]
    print(
        f"import  {report['events']:>10,} events  ours {imp['seconds']:7.2f} s "
        f"({imp['events_per_s']:,}/s)  raw binary COPY {imp['raw_copy_seconds']:7.2f} s "
        f"({imp['raw_events_per_s']:,}/s)  ratio {imp['ratio']:.2f}  (goal <= 2)  "
        f"raw COPY from Python rows {imp['raw_copy_python_rows_seconds']:.2f} s, "
        f"ratio {imp['ratio_to_python_rows']:.2f}"
    )
    parts = imp["parts_seconds"]
    print(
        f"        of which: entries write {parts.get('entries_write', 0):.2f} s: its COPY of "
        f"the entries and their notices {parts.get('copy', 0):.2f} s in a helper thread "
        f"({imp['copy_ratio']:.2f}x raw COPY), while the main thread hashed their leaves "
        f"({parts.get('hashing', 0):.2f} s); ledger appends {parts.get('ledger', 0):.2f} s, "
        f"other effects {parts.get('effects', 0):.2f} s; the rest is reading, classifying "
        "and judging (the next batch is judged while the server writes)"
    )
    print(
        f"score   {report['people']:>10,} people  ours {score['seconds']:7.2f} s  "
        f"raw SQL group-by {score['raw_group_by_seconds']:7.2f} s  ratio "
        f"{score['ratio_to_raw_sql']:.2f}  (goal <= 2)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--people", type=int, default=670_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--url", help="postgresql://... of an empty database (with --db postgres)")
    parser.add_argument("--out", help="work folder (default: a new temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    report = run_postgres(args) if args.db == "postgres" else run_sqlite(args)
    if args.json:
        print(json.dumps(report, indent=2))
    elif args.db == "postgres":
        _print_postgres(report)
    else:
        _print_sqlite(report)


if __name__ == "__main__":
    main()
