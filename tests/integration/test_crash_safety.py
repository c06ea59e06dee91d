"""An events import killed with SIGKILL at random moments leaves a consistent store (issue 6).

The real command line runs in a subprocess on a 50,000-row file in batches of 1,000 (fifty
transactions) and is killed, again and again, at seeded random moments: while starting, while
judging a batch, in the middle of a batch's transaction, between batches. After every kill:

- no half batch: each import's counters equal the rows it stored (entries, rejections), and
  it counted whole batches only;
- no key twice, and ``score == base + raw SUM(points)`` for a sample of people;

and at the end one more run finishes the import: every valid key is stored exactly once.
The loop is bounded by the number of kills; no assertion depends on how long anything took.
"""

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import EVENTS_HEADER, NOW, PEOPLE_HEADER, TODAY, person, recent, write_csv
from tests.integration.consistency import (
    assert_balances,
    assert_consistent,
    entry_count,
    event_keys,
    import_rows,
)

from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

ROWS = 50_000
BATCH = 1_000
KILLS = 12
SEED = 20261127
PEOPLE = [
    person(date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 2 * (n // 600) + 1) for n in range(500)
]
AGENCY_RULES = [("traffic-police", "TRAFFIC-RED-LIGHT"), ("public-security", "PUBLIC-FIGHT")]
HANG_GUARD_SECONDS = 600  # only stops a hung child; never decides pass or fail


def _events_file(path: Path) -> set[tuple[str, str]]:
    """A file with rejects (unknown rule) and in-file duplicates; returns the valid keys."""
    rows: list[str] = []
    valid: set[tuple[str, str]] = set()
    for n in range(ROWS):
        if n % 101 == 100:  # the same row again, 50 rows later: a duplicate (or the same reject)
            rows.append(rows[n - 50])
            continue
        agency, rule = AGENCY_RULES[n % 2]
        if n % 97 == 0:
            rule = "NO-SUCH-RULE"
        else:
            valid.add((agency, f"E{n}"))
        who = PEOPLE[n % len(PEOPLE)]
        rows.append(f"{agency},E{n},{who},{rule},{recent(1 + n % 330)},case {n}")
    write_csv(path, EVENTS_HEADER, rows)
    return valid


def _start(url: str, path: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SOCIALCREDIT_BATCH_ROWS": str(BATCH), "SOCIALCREDIT_NOW": NOW}
    command = [sys.executable, "-m", "socialcredit", "--db", url, "events", "import", str(path)]
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*command, "--json"], env=env, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL
        )


def _newest_import(registry: Registry) -> tuple[int, int]:
    with registry.database.read() as connection:
        row = connection.execute(
            text("SELECT id, submitted FROM imports WHERE kind = 'events' ORDER BY id DESC")
        ).first()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def _kill_at_a_random_moment(
    registry: Registry, child: subprocess.Popen[bytes], rng: random.Random
) -> str:
    """SIGKILL ``child`` after a random number of rows (or a random delay); returns when."""
    known, _ = _newest_import(registry)
    if rng.random() < 0.25:  # any time from start-up on: reading, judging, the first batch
        moment = rng.uniform(0.0, 4.0)
        while child.poll() is None and moment > 0:
            time.sleep(0.01)
            moment -= 0.01
        when = "at a random delay"
    else:  # past a random number of rows, then a little more: inside or between batches
        target = rng.randrange(0, ROWS)
        while child.poll() is None:
            newest, submitted = _newest_import(registry)
            if newest > known and submitted >= target:
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
        when = f"after row {target}"
    if child.poll() is not None:
        return f"{when}: finished before the kill"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=HANG_GUARD_SECONDS)
    return when


def _assert_whole_batches(registry: Registry) -> None:
    for row in import_rows(registry):
        if row["kind"] == "events":
            assert row["submitted"] % BATCH == 0 or row["submitted"] == ROWS, row


@pytest.mark.slow
def test_an_import_killed_again_and_again_stays_consistent_and_finishes(
    make_registry: Callable[..., Registry], database_url: str, tmp_path: Path
):
    registry = make_registry(database_url)
    import_people(
        registry,
        write_csv(
            tmp_path / "people.csv",
            PEOPLE_HEADER,
            [f"{pid},居民{n},城西街道,false" for n, pid in enumerate(PEOPLE)],
        ),
    )
    path = tmp_path / "events.csv"
    valid = _events_file(path)
    rng = random.Random(SEED)
    log = tmp_path / "children.log"
    for _ in range(KILLS):
        child = _start(database_url, path, log)
        _kill_at_a_random_moment(registry, child, rng)
        assert child.returncode is not None
        assert_consistent(registry)
        _assert_whole_batches(registry)
        assert entry_count(registry) <= len(valid)
        assert_balances(registry, rng.sample(PEOPLE, 8), TODAY)

    final = _start(database_url, path, log)
    assert final.wait(timeout=HANG_GUARD_SECONDS) == 0, log.read_text()[-2000:]
    keys = event_keys(registry)
    assert len(keys) == len(set(keys)) == len(valid)
    assert set(keys) == valid
    assert_consistent(registry)
    last = import_rows(registry)[-1]
    assert last["finished"] and last["submitted"] == ROWS
    assert sum(r["accepted"] for r in import_rows(registry) if r["kind"] == "events") == len(valid)
    assert_balances(registry, rng.sample(PEOPLE, 20), TODAY)
