"""Imports running at once never lose or double a row (issue 6), on SQLite and PostgreSQL.

Threads play agencies submitting at the same moment: two agencies, and the same agency twice
with overlapping files. On PostgreSQL the race the bulk merge must survive is also staged
exactly: another transaction holds one of our keys uncommitted while our merge runs, then
commits (duplicate or conflict) or rolls back (accepted).
"""

import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import insert, text
from sqlalchemy.exc import OperationalError
from tests.conftest import (
    EVENTS_HEADER,
    FIXTURES,
    PEOPLE_HEADER,
    TODAY,
    person,
    recent,
    write_csv,
)
from tests.integration.consistency import (
    assert_balances,
    assert_consistent,
    entry_count,
    event_keys,
)

from socialcredit.services import imports
from socialcredit.services.events import import_events
from socialcredit.services.models import EventImportResult
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.bulk import PEOPLE_WRITES_LOCK
from socialcredit.store.schema import entries

PEOPLE = [person(date(1960 + n % 40, 1 + n % 12, 1 + n % 28), 2 * n + 1) for n in range(60)]
RULES = {"traffic-police": "TRAFFIC-RED-LIGHT", "public-security": "PUBLIC-FIGHT"}


def _people_file(path: Path, names: str = "人") -> Path:
    rows = [f"{pid},{names}{n},城西街道,false" for n, pid in enumerate(PEOPLE)]
    return write_csv(path, PEOPLE_HEADER, rows)


def _event(agency: str, n: int, evidence: str = "") -> str:
    who = PEOPLE[n % len(PEOPLE)]
    return (
        f"{agency},{agency[:2].upper()}-{n},{who},{RULES[agency]},{recent(1 + n % 300)},{evidence}"
    )


def _events_file(path: Path, agency: str, numbers: range, conflicting: range = range(0)) -> Path:
    rows = [_event(agency, n, "other" if n in conflicting else "") for n in numbers]
    return write_csv(path, EVENTS_HEADER, rows)


def _run_all(jobs: list[Callable[[], object]]) -> list[object]:
    """Run ``jobs`` in threads released at the same moment; re-raise the first failure."""
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = jobs[index]()
        except BaseException as error:  # reported in the test's thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def town(make_registry: Callable[..., Registry], database_url: str, tmp_path: Path) -> str:
    registry = make_registry(database_url)
    import_people(registry, _people_file(tmp_path / "people.csv"))
    return database_url


def test_agencies_submitting_at_once_lose_and_double_nothing(
    town: str, make_registry: Callable[..., Registry], tmp_path: Path
):
    files = [
        _events_file(tmp_path / "a.csv", "traffic-police", range(4000)),
        _events_file(tmp_path / "b.csv", "traffic-police", range(2000, 6000), range(5000, 5100)),
        _events_file(tmp_path / "c.csv", "public-security", range(4000)),
        _events_file(tmp_path / "d.csv", "traffic-police", range(4000)),  # a, once more
        _events_file(
            tmp_path / "e.csv", "traffic-police", range(5000, 5100)
        ),  # b's, other evidence
    ]
    # Small batches: each import is many transactions that interleave with the others'.
    registries = [make_registry(town, batch_rows=1000) for _ in files]
    jobs = [lambda r=r, f=f: import_events(r, f) for r, f in zip(registries, files, strict=True)]
    results = [r for r in _run_all(jobs) if isinstance(r, EventImportResult)]

    registry = registries[0]
    keys = event_keys(registry)
    assert len(keys) == len(set(keys)) == 6000 + 4000  # traffic 0..5999, security 0..3999
    assert sum(r.accepted for r in results) == len(keys)
    assert sum(r.rejected for r in results) == 100  # 5000..5099 sent with two contents
    assert all(r.submitted == r.accepted + r.duplicates + r.rejected for r in results)
    assert {reason for r in results for reason in r.reasons} <= {"conflict"}
    assert_consistent(registry)
    assert_balances(registry, PEOPLE[:10], TODAY)


def test_imports_at_once_allot_each_yearly_cap_once(
    make_registry: Callable[..., Registry], database_url: str, tmp_path: Path
):
    """Donations are capped at 40 points a year; two imports give each person three of 15 at
    the same moment, in small batches that interleave. Whatever the order, each person gets
    exactly 40 (the first comers in full, then a cut): on PostgreSQL the imports' capped
    writes take turns, or both allotted against the same stored use."""
    catalogue = [FIXTURES / "due-process.yaml"]
    registry = make_registry(database_url, catalogue)
    import_people(registry, _people_file(tmp_path / "people.csv"))

    def gifts(name: str) -> Path:
        rows = [
            f"red-cross,{name}-{n},{PEOPLE[n % len(PEOPLE)]},DONATION,2026-{1 + n // 60:02d}-01,"
            for n in range(3 * len(PEOPLE))
        ]
        return write_csv(tmp_path / f"{name}.csv", EVENTS_HEADER, rows)

    files = [gifts("A"), gifts("B")]
    registries = [make_registry(database_url, catalogue, batch_rows=20) for _ in files]
    jobs = [lambda r=r, f=f: import_events(r, f) for r, f in zip(registries, files, strict=True)]
    results = [r for r in _run_all(jobs) if isinstance(r, EventImportResult)]

    assert [r.accepted for r in results] == [3 * len(PEOPLE)] * 2
    with registry.database.read() as connection:
        given = connection.execute(
            text(
                "SELECT person_id, sum(points), sum(points + points_cut), count(*) FROM entries"
                " WHERE rule = 'DONATION' GROUP BY person_id"
            )
        ).all()
    assert sorted(tuple(row) for row in given) == [(p, 40, 90, 6) for p in sorted(PEOPLE)]
    assert_consistent(registry)
    assert_balances(registry, PEOPLE[:10], TODAY)


def test_the_same_people_imported_at_once_are_added_once(
    town: str, make_registry: Callable[..., Registry], tmp_path: Path
):
    newcomers = [person(date(1970, 5, 1 + n), 2 * n + 1) for n in range(25)]
    path = write_csv(
        tmp_path / "new.csv",
        PEOPLE_HEADER,
        [f"{pid},新{n},崖头街道,yes" for n, pid in enumerate(newcomers)],
    )
    registries = [make_registry(town) for _ in range(4)]
    results = _run_all([lambda r=r: import_people(r, path) for r in registries])
    assert sum(r.added for r in results) == 25  # type: ignore[attr-defined]
    assert sum(r.unchanged for r in results) == 75  # type: ignore[attr-defined]
    assert_consistent(registries[0])


def test_a_people_import_that_read_a_stale_register_settles_against_the_current_one(
    town: str,
    make_registry: Callable[..., Registry],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """Import X reads the register, import Y changes it, then X writes: X must see Y's work."""
    renamed = _people_file(tmp_path / "renamed.csv", names="新名")
    first, second = make_registry(town), make_registry(town)
    fetch = imports.PeopleLookup.fetch
    interleaved: list[object] = []

    def fetch_then_let_another_import_run(self: imports.PeopleLookup, ids):  # type: ignore[no-untyped-def]
        stored = fetch(self, ids)
        if self.registry is first and not interleaved:
            interleaved.append(import_people(second, renamed))
        return stored

    monkeypatch.setattr(imports.PeopleLookup, "fetch", fetch_then_let_another_import_run)
    result = import_people(first, renamed)
    assert interleaved[0].updated == len(PEOPLE)  # type: ignore[attr-defined]
    assert (result.updated, result.unchanged) == (0, len(PEOPLE))
    assert_consistent(first)


# --- PostgreSQL: the exact race of READ COMMITTED -----------------------------------------


def _wait_until_blocked(url: str, worker: threading.Thread) -> bool:
    """Poll until a backend of ``url``'s database waits on a lock (True) or ``worker`` ended."""
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as watcher:
        while worker.is_alive():
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            ).fetchone()
            if waiting and waiting[0] > 0:
                return True
            time.sleep(0.02)
    return False


def _held_entry(event_id: str, person_id: str, evidence: str | None) -> dict[str, object]:
    return {
        "agency": "traffic-police",
        "event_id": event_id,
        "person_id": person_id,
        "rule": "TRAFFIC-RED-LIGHT",
        "occurred_on": date.fromisoformat(recent(10)),
        "evidence": evidence,
        "catalogue_version": "2026.1",
        "points": -5,
        "counts_until": date.fromisoformat(recent(10)).replace(year=TODAY.year + 1),
        "recorded_at": datetime.now(UTC),
    }


@pytest.mark.parametrize(
    ("held_evidence", "commit", "expected"),
    [
        (None, True, (1, 1, 0)),  # same content committed first: ours is a duplicate
        ("other", True, (1, 0, 1)),  # other content committed first: ours is a conflict
        (None, False, (2, 0, 0)),  # the holder rolled back: ours goes in
    ],
)
def test_a_key_held_by_an_uncommitted_transaction_is_settled_after_it_ends(
    make_registry: Callable[..., Registry],
    postgres_url: str,
    tmp_path: Path,
    held_evidence: str | None,
    commit: bool,
    expected: tuple[int, int, int],
):
    registry = make_registry(postgres_url)
    import_people(registry, _people_file(tmp_path / "people.csv"))
    path = write_csv(
        tmp_path / "events.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,TP-1,{PEOPLE[0]},TRAFFIC-RED-LIGHT,{recent(10)},",
            f"traffic-police,TP-2,{PEOPLE[1]},TRAFFIC-RED-LIGHT,{recent(10)},",
        ],
    )
    outcome: list[EventImportResult] = []
    importer = make_registry(postgres_url)
    worker = threading.Thread(target=lambda: outcome.append(import_events(importer, path)))
    holder = registry.database.engine.connect()
    transaction = holder.begin()
    holder.execute(insert(entries).values(**_held_entry("TP-1", PEOPLE[0], held_evidence)))
    worker.start()
    blocked = _wait_until_blocked(postgres_url, worker)
    (transaction.commit if commit else transaction.rollback)()
    holder.close()
    worker.join()
    assert blocked, "the merge should wait for the transaction holding TP-1"
    result = outcome[0]
    assert (result.accepted, result.duplicates, result.rejected) == expected
    assert entry_count(registry) == 2
    assert_consistent(registry)


def test_people_writers_wait_for_each_other_and_settle_in_turn(
    make_registry: Callable[..., Registry], postgres_url: str, tmp_path: Path
):
    """Both imports read the register before either writes; the second must not add again."""
    registry = make_registry(postgres_url)
    path = _people_file(tmp_path / "people.csv")
    conninfo = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as gate:  # holds the people writers' lock
        gate.execute("SELECT pg_advisory_xact_lock(%s)", (PEOPLE_WRITES_LOCK,))
        results: list[object] = []
        workers = [
            threading.Thread(target=lambda r=r: results.append(import_people(r, path)))
            for r in (make_registry(postgres_url), make_registry(postgres_url))
        ]
        for worker in workers:
            worker.start()
        with psycopg.connect(conninfo, autocommit=True) as watcher:
            while any(w.is_alive() for w in workers):
                row = watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()
                if row and row[0] == 2:
                    break
                time.sleep(0.02)
        gate.rollback()  # let them go
    for worker in workers:
        worker.join()
    assert sorted((r.added, r.unchanged) for r in results) == [  # type: ignore[attr-defined]
        (0, len(PEOPLE)),
        (len(PEOPLE), 0),
    ]
    assert_consistent(registry)


def test_a_key_committed_while_the_batch_is_settled_changes_nothing(
    make_registry: Callable[..., Registry],
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    """While the import reads the stored holders of its taken keys, another agency client
    commits a further key of the batch (if it can). The import's answer must still hold:
    with "look, then insert again" that commit would make the second insert come up short."""
    registry = make_registry(postgres_url)
    import_people(registry, _people_file(tmp_path / "people.csv"))
    rows = [_event("traffic-police", n) for n in range(3)]
    first = write_csv(tmp_path / "first.csv", EVENTS_HEADER, rows[:1])
    import_events(registry, first)  # TP-0 is stored: the batch below has a taken key
    other = make_registry(postgres_url)
    fetch = repository.fetch_entry_keys
    attempts: list[str] = []

    def fetch_while_another_client_commits(connection, keys):  # type: ignore[no-untyped-def]
        stored = fetch(connection, keys)
        if not attempts:
            try:
                with other.database.write() as sneaky:
                    sneaky.execute(text("SET LOCAL lock_timeout = '300ms'"))
                    held = _held_entry("TR-2", PEOPLE[2], None)
                    held["occurred_on"] = date.fromisoformat(recent(3))
                    sneaky.execute(insert(entries).values(**held))
                attempts.append("committed")
            except OperationalError:
                attempts.append("waited for our merge")  # the merge already holds TP-2
        return stored

    monkeypatch.setattr(repository, "fetch_entry_keys", fetch_while_another_client_commits)
    result = import_events(registry, write_csv(tmp_path / "all.csv", EVENTS_HEADER, rows))
    assert attempts == ["waited for our merge"]
    assert (result.accepted, result.duplicates, result.rejected) == (2, 1, 0)
    assert entry_count(registry) == 3
    assert_consistent(registry)
