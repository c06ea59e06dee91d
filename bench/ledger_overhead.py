"""Benchmark: the cost of the tamper-evident ledger on imports, measured in the same run.

    python bench/ledger_overhead.py [--events N] [--people P] [--rounds R] [--out DIR]

Builds one synthetic town (people and events files), then imports it into fresh SQLite
registries, alternately with the setting ``ledger`` off and on (``--rounds`` pairs, default 2,
so that drift in the machine's load hits both alike), through the path the CLI uses. With the
ledger on every accepted entry, person change and rejected row becomes a leaf in its batch's
transaction. It prints the median import times and the ratio on/off (goal: at most 1.2).

On a machine others share, the load moves by more than the ledger costs between two imports;
so the runs with the ledger on also time the ledger's own calls (``store.ledger``'s write API,
and the wait for leaves hashed in a helper thread), and the *attributed* ratio
``on / (on - ledger)`` compares an import with itself, under the same load. As information it
also times signing a checkpoint and verifying the whole registry afterwards.
Timings depend on the machine and on what else runs; compare ratios, not seconds.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest_and_score import build_files, say, timed  # the same town as the ingest benchmark
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.ledger import create_checkpoint
from socialcredit.services.ledger_verify import verify_registry
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store import bulk
from socialcredit.store import ledger as store_ledger


def _fresh(folder: Path, name: str, ledger: bool) -> Registry:
    database = folder / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    settings = load_settings(ledger=ledger, key_dir=str(folder / f"{name}.keys"))
    registry = Registry.open(f"sqlite:///{database}", settings)
    init_registry(registry, [])
    return registry


class _LedgerClock:
    """Time the import waits for the ledger's write API (it is called through the modules):
    the outermost of nested calls only, in the importing thread only. Leaves hashed in a
    helper thread while SQLite inserts cost the import only the wait for them, if any."""

    PARTS = (
        (store_ledger, "begin"),
        (store_ledger, "record_inserted"),
        (store_ledger, "hash_batch"),
        (store_ledger, "append_batch"),
        (bulk, "_leaves_hashed"),
    )

    def __init__(self) -> None:
        self.seconds = 0.0
        self._depth = 0
        self.originals = [getattr(module, name) for module, name in self.PARTS]

    def _timed(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self._depth or threading.current_thread() is not threading.main_thread():
                return function(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self._depth -= 1

        return wrapper

    def __enter__(self) -> "_LedgerClock":
        for (module, name), original in zip(self.PARTS, self.originals, strict=True):
            setattr(module, name, self._timed(original))
        return self

    def __exit__(self, *_: object) -> None:
        for (module, name), original in zip(self.PARTS, self.originals, strict=True):
            setattr(module, name, original)


def _import(folder: Path, ledger: bool, round_number: int) -> dict[str, Any]:
    name = f"{'on' if ledger else 'off'}-{round_number}"
    registry = _fresh(folder, name, ledger)
    people_seconds, _ = timed(lambda: import_people(registry, folder / "people.parquet"))
    with _LedgerClock() as clock:
        events_seconds, result = timed(lambda: import_events(registry, folder / "events.csv"))
    say(
        f"ledger {'on ' if ledger else 'off'} round {round_number}: people {people_seconds:.1f} s, "
        f"events {events_seconds:.1f} s ({result.accepted:,} accepted)"
    )
    run: dict[str, Any] = {
        "people": people_seconds,
        "events": events_seconds,
        "in_ledger": clock.seconds,
    }
    if ledger and round_number == 1:
        run["checkpoint"], checkpoint = timed(lambda: create_checkpoint(registry))
        run["leaves"] = checkpoint.size
        run["verify"], report = timed(lambda: verify_registry(registry))
        run["verified_ok"] = report.ok
    registry.close()
    return run


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.out or tempfile.mkdtemp(prefix="scledger-"))
    folder.mkdir(parents=True, exist_ok=True)
    probe = _fresh(folder, "probe", ledger=False)
    build_files(folder, args.people, args.events, probe.clock.today(), probe)
    probe.close()
    runs: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for round_number in range(1, args.rounds + 1):
        for ledger in (False, True) if round_number % 2 else (True, False):
            runs[ledger].append(_import(folder, ledger, round_number))

    def median(ledger: bool, step: str) -> float:
        return statistics.median(r[step] for r in runs[ledger])

    first_on = runs[True][0]
    attributed = [r["events"] / (r["events"] - r["in_ledger"]) for r in runs[True]]
    return {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "events": args.events,
        "people": args.people,
        "rounds": args.rounds,
        "events_import": {
            "off_seconds": round(median(False, "events"), 2),
            "on_seconds": round(median(True, "events"), 2),
            "ratio": round(median(True, "events") / median(False, "events"), 3),
            "in_ledger_seconds": round(median(True, "in_ledger"), 2),
            "attributed_ratio": round(statistics.median(attributed), 3),
        },
        "people_import": {
            "off_seconds": round(median(False, "people"), 2),
            "on_seconds": round(median(True, "people"), 2),
            "ratio": round(median(True, "people") / median(False, "people"), 3),
        },
        "leaves": first_on["leaves"],
        "checkpoint_seconds": round(first_on["checkpoint"], 3),
        "verify_seconds": round(first_on["verify"], 1),
        "verified_ok": first_on["verified_ok"],
        "folder": str(folder),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=2, help="pairs of imports (off and on)")
    parser.add_argument("--out", help="work folder (default: a new temporary folder)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    started = time.perf_counter()
    report = run(args)
    say(f"benchmark took {time.perf_counter() - started:.0f} s")
    if args.json:
        print(json.dumps(report, indent=2))
        return
    events, people = report["events_import"], report["people_import"]
    print(
        f"events import {report['events']:>10,}  ledger off {events['off_seconds']:7.2f} s  "
        f"on {events['on_seconds']:7.2f} s  ratio {events['ratio']:.3f}  (goal <= 1.2)"
    )
    print(
        f"              of which in the ledger {events['in_ledger_seconds']:.2f} s: attributed "
        f"ratio {events['attributed_ratio']:.3f} (the same import, with and without that time)"
    )
    print(
        f"people import {report['people']:>10,}  ledger off {people['off_seconds']:7.2f} s  "
        f"on {people['on_seconds']:7.2f} s  ratio {people['ratio']:.3f}"
    )
    print(
        f"then: {report['leaves']:,} leaves, checkpoint {report['checkpoint_seconds']:.3f} s, "
        f"verify {report['verify_seconds']:.1f} s ({'ok' if report['verified_ok'] else 'NOT OK'})"
    )


if __name__ == "__main__":
    sys.exit(main())
