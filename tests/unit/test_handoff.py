"""quick_handoffs: a short GIL switch interval while writers overlap, the old one after."""

import sys
import threading

import pytest

from socialcredit.store.handoff import HANDOFF_INTERVAL_S, quick_handoffs


@pytest.fixture(autouse=True)
def default_interval():
    saved = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    yield
    sys.setswitchinterval(saved)


def test_the_interval_is_short_inside_and_restored_after():
    with quick_handoffs():
        assert sys.getswitchinterval() == pytest.approx(HANDOFF_INTERVAL_S, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_overlapping_writers_restore_it_only_when_the_last_one_leaves():
    """Two imports in two threads: the first out must not restore the interval under the
    second, and the second out must not 'restore' the first one's short interval."""
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, float] = {}

    def first() -> None:
        with quick_handoffs():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with quick_handoffs():
            second_in.set()
            first_out.wait(5)
            seen["after the first left"] = sys.getswitchinterval()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert seen["after the first left"] == pytest.approx(HANDOFF_INTERVAL_S, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_a_failing_writer_restores_it_too():
    with pytest.raises(ValueError, match="boom"), quick_handoffs():
        raise ValueError("boom")
    assert sys.getswitchinterval() == pytest.approx(0.005, abs=2e-6)


def test_a_longer_interval_than_the_current_one_is_not_set():
    sys.setswitchinterval(0.0001)
    with quick_handoffs(0.001):
        assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
    assert sys.getswitchinterval() == pytest.approx(0.0001, abs=2e-6)
