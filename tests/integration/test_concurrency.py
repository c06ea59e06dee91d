"""Agencies submitting at once over HTTP while clerks and verifiers read (issue 6).

A real server (``socialcredit serve``, uvicorn, two worker processes) on a free port. Agency
clients send overlapping batches: two accounts of one agency share a key range (some keys with
other content: conflicts), one account sends twice at once, another agency sends its own.
Clerks read scores and statements and a verifier asks policy checks until the agencies are
done; the load is bounded by the number of batches, never by a clock.

Afterwards nothing was lost or doubled: every key sent is stored exactly once, with one of the
contents sent for it; each import's counters equal the rows it stored; no key was accepted by
two answers; balances equal the sum of entries; and no request got a 500. On SQLite with a
short busy timeout, and while the test itself holds the write lock now and then, writers get
503 with ``Retry-After``; the clients retry and the same holds. Same on PostgreSQL.
"""

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from tests.conftest import EXAMPLE_CATALOGUE, PEOPLE_HEADER, person, write_csv
from tests.integration.consistency import assert_balances, assert_consistent, event_keys

from socialcredit.services import consent, users
from socialcredit.services.access import LOCAL
from socialcredit.services.catalogue import init_registry
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import httpx

API = "/api/v1"
BANK = "Rongcheng Rural Commercial Bank"
PEOPLE = [person(date(1960 + n, 1 + n % 12, 1 + n % 28), 2 * n + 1) for n in range(40)]
KEYS = 400  # per agency
BATCH = 40
MAX_ATTEMPTS = 600  # per request; a 503 is retried, never counted as an answer
START_ATTEMPTS = 300  # polls of a starting server (each waits 0.1 s)


def _today() -> date:
    """The server runs on the real clock (a pinned one would keep idempotency keys stale)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _event(agency: str, n: int, other: bool = False) -> dict[str, str]:
    prefix = "TP" if agency == "traffic-police" else "PS"
    rule = "TRAFFIC-RED-LIGHT" if agency == "traffic-police" else "PUBLIC-FIGHT"
    return {
        "event_id": f"{prefix}-{n}",
        "person_id": PEOPLE[n % len(PEOPLE)],
        "rule": rule,
        "occurred_on": (_today() - timedelta(days=1 + n % 150)).isoformat(),
        "evidence": "other account" if other else f"case {n}",
    }


def _batches(agency: str, numbers: list[int], conflicting: int = 0) -> list[list[dict[str, str]]]:
    events = [_event(agency, n, other=conflicting > 0 and n % conflicting == 0) for n in numbers]
    return [events[i : i + BATCH] for i in range(0, len(events), BATCH)]


@dataclass
class Log:
    """What the clients saw: every status, the final answers, and the 503s' Retry-After."""

    statuses: Counter[int] = field(default_factory=Counter)
    answers: list[dict[str, Any]] = field(default_factory=list)
    retry_after: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server_may_vanish: bool = False  # a test kills the server: no answer means retry
    unanswered: int = 0

    def saw(self, response: httpx.Response) -> None:
        with self.lock:
            self.statuses[response.status_code] += 1
            if response.status_code == 503:
                self.retry_after.append(response.headers.get("Retry-After"))


def _send(client: httpx.Client, log: Log, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, retried after each 503 (a short pause, not the whole Retry-After), and,
    while the server may be killed, after a request that got no answer at all."""
    for _ in range(MAX_ATTEMPTS):
        try:
            response = client.request(method, path, **kwargs)
        except httpx.TransportError:
            if not log.server_may_vanish:
                raise
            with log.lock:
                log.unanswered += 1
            time.sleep(0.1)
            continue
        log.saw(response)
        if response.status_code != 503:
            return response
        time.sleep(random.uniform(0.01, 0.05))
    raise AssertionError(f"{method} {path}: no answer but 503 after {MAX_ATTEMPTS} attempts")


def _agency(base: str, token: str, batches: list[list[dict[str, str]]], log: Log) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        for batch in batches:
            response = _send(client, log, "POST", f"{API}/events", json={"events": batch})
            assert response.status_code == 200, response.text
            with log.lock:
                log.answers.append(response.json())


def _reader(base: str, token: str, role: str, done: threading.Event, log: Log) -> None:
    rng = random.Random(role)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        while not done.is_set():
            who = rng.choice(PEOPLE)
            if role == "verifier":
                body = {"person_id": who, "policy": "management-position", "purpose": "hiring"}
                response = _send(client, log, "POST", f"{API}/checks", json=body)
            else:
                path = f"{API}/people/{who}" + rng.choice(["", "/statement"])
                response = _send(client, log, "GET", path, headers={"X-Purpose": "case review"})
            assert response.status_code == 200, response.text


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """``socialcredit serve`` with two workers, in its own process group."""

    command: list[str]
    env: dict[str, str]
    base: str
    token: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        for _ in range(START_ATTEMPTS):
            if self.process.poll() is not None:
                break
            try:
                headers = {"Authorization": f"Bearer {self.token}"}
                if httpx.get(f"{self.base}{API}/me", headers=headers).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"the server did not start:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL to uvicorn and its workers (the group this test started), as a crash."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def _serve(url: str, folder: Path, token: str, **settings: str) -> Server:
    port = _free_port()
    env = {**os.environ, "SOCIALCREDIT_VERIFIER_CHECKS_PER_MINUTE": "100000"}
    env.update({f"SOCIALCREDIT_{name.upper()}": value for name, value in settings.items()})
    command = [sys.executable, "-m", "socialcredit", "--db", url, "serve", "--port", str(port)]
    command += ["--workers", "2", "--no-access-log"]
    server = Server(command, env, f"http://127.0.0.1:{port}", token, folder / "server.log")
    server.start()
    return server


def _town(url: str, folder: Path) -> tuple[Registry, dict[str, str]]:
    registry = Registry.open(url, load_settings({}))
    init_registry(registry, [EXAMPLE_CATALOGUE])
    rows = [f"{pid},居民{n},城西街道,false" for n, pid in enumerate(PEOPLE)]
    import_people(registry, write_csv(folder / "people.csv", PEOPLE_HEADER, rows))
    for pid in PEOPLE:
        consent.grant_consent(registry, pid, BANK, "hiring", LOCAL)
    grant = users.Grant("management-position", "hiring")
    accounts: dict[str, dict[str, Any]] = {
        "traffic-a": {"role": "agency", "agency": "traffic-police"},
        "traffic-b": {"role": "agency", "agency": "traffic-police"},
        "security": {"role": "agency", "agency": "public-security"},
        "clerk": {"role": "clerk"},
        "verifier": {"role": "verifier", "organisation": BANK, "grants": [grant]},
    }
    tokens = {
        name: users.add_user(registry, name, spec.pop("role"), **spec).token
        for name, spec in accounts.items()
    }
    return registry, tokens


@pytest.fixture
def town(database_url: str, tmp_path: Path) -> Iterator[tuple[Registry, dict[str, str]]]:
    registry, tokens = _town(database_url, tmp_path)
    yield registry, tokens
    registry.close()


@pytest.fixture
def sqlite_town(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Registry, dict[str, str]]]:
    registry, tokens = _town(sqlite_url, tmp_path)
    yield registry, tokens
    registry.close()


def _hold_the_sqlite_write_lock(url: str, done: threading.Event, held: list[int]) -> None:
    """Now and then take SQLite's one write lock for a while: writers then must get 503."""
    path = make_url(url).database or ""
    rng = random.Random(7)
    while not done.is_set():
        connection = sqlite3.connect(path, isolation_level=None, timeout=30)
        connection.execute("BEGIN IMMEDIATE")
        held.append(1)
        time.sleep(rng.uniform(0.2, 0.4))
        connection.execute("ROLLBACK")
        connection.close()
        time.sleep(rng.uniform(0.3, 0.8))


def _run_load(
    server: Server, tokens: dict[str, str], log: Log, extra: list[Callable[[threading.Event], None]]
) -> None:
    numbers = list(range(KEYS))
    shuffled = random.Random(11).sample(numbers, len(numbers))
    writers = [
        lambda: _agency(server.base, tokens["traffic-a"], _batches("traffic-police", numbers), log),
        lambda: _agency(
            server.base, tokens["traffic-b"], _batches("traffic-police", shuffled, 37), log
        ),
        lambda: _agency(
            server.base, tokens["traffic-a"], _batches("traffic-police", numbers[::-1]), log
        ),
        lambda: _agency(server.base, tokens["security"], _batches("public-security", numbers), log),
    ]
    done = threading.Event()
    readers = [
        lambda: _reader(server.base, tokens["clerk"], "clerk", done, log),
        lambda: _reader(server.base, tokens["clerk"], "clerk-2", done, log),
        lambda: _reader(server.base, tokens["verifier"], "verifier", done, log),
    ]
    failures: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:
            failures.append(error)

    started = [threading.Thread(target=guarded, args=(job,)) for job in writers]
    others = [threading.Thread(target=guarded, args=(job,)) for job in readers]
    others += [threading.Thread(target=guarded, args=(lambda j=j: j(done),)) for j in extra]
    for thread in [*started, *others]:
        thread.start()
    for thread in started:
        thread.join()
    done.set()
    for thread in others:
        thread.join()
    if failures:
        raise failures[0]


def _check_store(registry: Registry, log: Log) -> None:
    keys = event_keys(registry)
    assert len(keys) == len(set(keys)) == 2 * KEYS  # every key sent, stored once
    accepted: Counter[tuple[str, str]] = Counter()
    for answer in log.answers:
        assert answer["submitted"] == answer["accepted"] + answer["duplicates"] + answer["rejected"]
        for row in answer["rows"]:
            assert row["outcome"] in ("accepted", "duplicate") or row["code"] == "conflict", row
            if row["outcome"] == "accepted":
                accepted[row["event_id"]] += 1
    assert max(accepted.values()) == 1  # no key accepted by two answers
    with registry.database.read() as connection:
        evidence = dict(connection.execute(text("SELECT event_id, evidence FROM entries")).all())
    for n in range(0, KEYS, 37):  # sent with two contents: one of them is stored
        assert evidence[f"TP-{n}"] in (f"case {n}", "other account")
    assert_consistent(registry)
    assert_balances(registry, PEOPLE, _today())


@pytest.mark.slow
def test_agencies_clerks_and_verifiers_at_once_lose_and_double_nothing(
    town, database_url, tmp_path
):  # type: ignore[no-untyped-def]
    registry, tokens = town
    server = _serve(database_url, tmp_path, tokens["clerk"])
    log = Log()
    try:
        _run_load(server, tokens, log, [])
    finally:
        server.stop()
    assert log.statuses[500] == 0, server.log_tail()
    assert all(value is not None and int(value) >= 1 for value in log.retry_after)
    _check_store(registry, log)


@pytest.mark.slow
def test_a_saturated_sqlite_answers_503_with_retry_after_and_loses_nothing(
    sqlite_town, sqlite_url, tmp_path
):  # type: ignore[no-untyped-def]
    registry, tokens = sqlite_town
    server = _serve(sqlite_url, tmp_path, tokens["clerk"], sqlite_busy_timeout_ms="50")
    log = Log()
    held: list[int] = []
    try:
        _run_load(
            server, tokens, log, [lambda done: _hold_the_sqlite_write_lock(sqlite_url, done, held)]
        )
    finally:
        server.stop()
    assert held, "the test should have held the write lock at least once"
    assert log.statuses[500] == 0, server.log_tail()
    assert log.statuses[503] > 0
    assert all(value is not None and int(value) >= 1 for value in log.retry_after)
    _check_store(registry, log)


def _kill_and_restart(
    server: Server, log: Log, kills: list[int]
) -> Callable[[threading.Event], None]:
    """SIGKILL the server twice while agencies submit, each time after a random number of
    answers, and start it again on the same port."""
    rng = random.Random(2026)

    def run(done: threading.Event) -> None:
        for _ in range(2):
            target = len(log.answers) + rng.randrange(3, 12)
            while not done.is_set() and len(log.answers) < target:
                time.sleep(0.01)
            if done.is_set():
                return
            time.sleep(rng.uniform(0.0, 0.3))  # inside some request's transaction, or between
            server.kill()
            kills.append(len(log.answers))
            server.start()

    return run


@pytest.mark.slow
def test_a_server_killed_during_concurrent_submissions_loses_and_doubles_nothing(
    town, database_url, tmp_path
):  # type: ignore[no-untyped-def]
    registry, tokens = town
    server = _serve(database_url, tmp_path, tokens["clerk"])
    log = Log(server_may_vanish=True)
    kills: list[int] = []
    try:
        _run_load(server, tokens, log, [_kill_and_restart(server, log, kills)])
    finally:
        server.stop()
    assert kills, "the server should have been killed during the load"
    assert log.statuses[500] == 0, server.log_tail()
    _check_store(registry, log)
