"""Group commit (store.group_commit): concurrent small writes share a transaction, every
caller returns only once its own item is committed, and a failed transaction fails exactly
the callers whose items it held."""

import threading
import time
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, func, select
from tests.conftest import ZHANG_JIAN

from socialcredit.services.access import Actor, record_access
from socialcredit.services.ledger_verify import verify_registry
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store.group_commit import GroupCommit
from socialcredit.store.schema import access_log

BANK = Actor("teller-1", "verifier", "Rongcheng Rural Commercial Bank")


class Recorder:
    """A write function that can hold its first transaction open and fail on ``bad``."""

    def __init__(self) -> None:
        self.groups: list[list[str]] = []
        self.release = threading.Event()
        self.entered = threading.Event()
        self.first = True

    def __call__(self, connection: Connection, items: Sequence[str]) -> None:
        if self.first:
            self.first = False
            self.entered.set()
            assert self.release.wait(30), "the test never released the first transaction"
        if "bad" in items:
            raise ValueError(f"refused group {list(items)}")
        self.groups.append(list(items))


def _queued(committer: GroupCommit[str], count: int) -> None:
    """Wait until ``count`` callers are queued behind the open transaction (synchronisation,
    not a timing assertion)."""
    for _ in range(3000):
        if len(committer._queue) >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} callers never queued")


def _submit(committer: GroupCommit[str], item: str, errors: dict[str, BaseException]) -> None:
    try:
        committer.submit(item)
    except BaseException as error:  # recorded for the assertions
        errors[item] = error


def test_waiting_callers_share_a_transaction_and_a_failure_fails_only_them(registry: Registry):
    recorder = Recorder()
    committer: GroupCommit[str] = GroupCommit(registry.database, recorder, max_items=2)
    errors: dict[str, BaseException] = {}
    first = threading.Thread(target=_submit, args=(committer, "a", errors))
    first.start()
    assert recorder.entered.wait(30)
    others = [threading.Thread(target=_submit, args=(committer, n, errors)) for n in "bcde"]
    for thread in others[:2]:
        thread.start()
    _queued(committer, 2)
    bad = threading.Thread(target=_submit, args=(committer, "bad", errors))
    bad.start()
    _queued(committer, 3)
    for thread in others[2:]:
        thread.start()
    _queued(committer, 5)
    recorder.release.set()
    for thread in [first, *others, bad]:
        thread.join(30)
    written = [item for group in recorder.groups for item in group]
    assert recorder.groups[0] == ["a"]  # alone when it came: written alone, not delayed
    assert all(len(group) <= 2 for group in recorder.groups)  # max_items bounds a group
    # The queue is served in arrival order, two at a time: [b, c], [bad, d], [e].
    assert recorder.groups[1:] == [["b", "c"], ["e"]]
    assert sorted(written) == ["a", "b", "c", "e"]
    assert set(errors) == {"bad", "d"}  # the group that failed, and nobody else
    assert str(errors["d"]) == "refused group ['bad', 'd']"


def test_concurrent_access_rows_are_each_written_once_with_their_leaves(
    registry: Registry, people_file
):
    import_people(registry, people_file)
    threads_n, rows_n = 12, 15

    def reader(number: int) -> None:
        for index in range(rows_n):
            record_access(registry, BANK, ZHANG_JIAN, "check", f"reader {number} row {index}")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with registry.database.read() as connection:
        purposes = [row[0] for row in connection.execute(select(access_log.c.purpose))]
        count = connection.execute(select(func.count()).select_from(access_log)).scalar_one()
    assert count == threads_n * rows_n == len(set(purposes))
    report = verify_registry(registry)
    assert report.ok, report.findings
    assert report.records["access_log"] == threads_n * rows_n


def test_an_error_reaches_a_caller_alone(registry: Registry):
    def refuse(connection: Connection, items: Sequence[str]) -> None:
        raise RuntimeError("disk full")

    committer: GroupCommit[str] = GroupCommit(registry.database, refuse)
    with pytest.raises(RuntimeError, match="disk full"):
        committer.submit("x")
    # The committer is free again: the next caller is not stuck behind the failed one.
    with pytest.raises(RuntimeError, match="disk full"):
        committer.submit("y")


def test_a_write_inside_a_write_transaction_is_refused_as_a_bug(registry: Registry):
    """It would wait for a leader that waits for this transaction's lock."""
    from socialcredit.domain.invariant import InvariantViolation

    committer: GroupCommit[str] = GroupCommit(registry.database, Recorder())
    with registry.database.write(), pytest.raises(InvariantViolation, match="deadlock"):
        committer.submit("x")
    assert not registry.database.holds_write()
