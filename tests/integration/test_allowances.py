"""Verifier check allowances in the database (``store.allowances``), on SQLite and PostgreSQL:
a token bucket per account that every server process draws on."""

import threading

import pytest

from socialcredit.services.check_allowances import take_check
from socialcredit.services.registry import Registry
from socialcredit.store.allowances import take_token

PER_S = 1 / 30  # two a minute


def _take(registry: Registry, now_s: float, key: int = 1) -> float:
    with registry.database.write() as connection:
        return take_token(connection, key, 2.0, PER_S, now_s)


def test_a_bucket_gives_its_capacity_then_one_token_per_interval(registry: Registry):
    assert [_take(registry, 1000.0) for _ in range(2)] == [0.0, 0.0]
    assert _take(registry, 1000.0) == pytest.approx(30.0)  # empty: the next in 30 s
    assert _take(registry, 1029.0) == pytest.approx(1.0)  # a refusal takes nothing
    assert _take(registry, 1030.0) == 0.0
    assert _take(registry, 1030.0) == pytest.approx(30.0)


def test_a_full_bucket_holds_no_more_than_its_capacity(registry: Registry):
    _take(registry, 1000.0)
    assert [_take(registry, 1_000_000.0) for _ in range(3)][2] == pytest.approx(30.0)


def test_a_clock_that_went_back_refills_nothing(registry: Registry):
    _take(registry, 1000.0)
    _take(registry, 1000.0)
    assert _take(registry, 900.0) == pytest.approx(30.0)  # not a negative refill, no token
    assert _take(registry, 1030.0) == 0.0  # the bucket still counts from when it was empty


def test_each_key_has_its_own_bucket(registry: Registry):
    _take(registry, 1000.0, key=1)
    _take(registry, 1000.0, key=1)
    assert _take(registry, 1000.0, key=1) > 0
    assert _take(registry, 1000.0, key=2) == 0.0


def test_processes_taking_at_once_share_one_bucket(
    make_registry, database_url: str, registry: Registry
):
    """Eight threads, each with its own registry (as server processes have), take 5 checks
    each from an allowance of 10 a minute at the same moment: exactly 10 are allowed."""
    workers = [make_registry(database_url) for _ in range(8)]
    start = threading.Barrier(len(workers))
    allowed: list[int] = []

    def ask(worker: Registry) -> None:
        start.wait()
        allowed.append(sum(take_check(worker, 7, 10, 5000.0) == 0.0 for _ in range(5)))

    threads = [threading.Thread(target=ask, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == len(workers) and sum(allowed) == 10
