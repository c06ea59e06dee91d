"""Verified API tokens, remembered for a bounded time so that argon2 runs once per token.

Keyed by (database URL, SHA-256 of the token): the token itself is not kept, and a cache
shared by several registries in one process (tests, tools) never mixes their accounts.
"""

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

__all__ = ["TokenCache"]


class _Account(Protocol):
    @property
    def id(self) -> int: ...


A = TypeVar("A", bound=_Account)


class TokenCache(Generic[A]):
    """Bounded in size (the oldest entry goes first) and in time (``ttl`` per entry); safe to
    use from the server's worker threads."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[tuple[str, str], tuple[float, A]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def get(self, key: tuple[str, str]) -> A | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] <= self._clock():
                del self._entries[key]
                return None
            return found[1]

    def put(self, key: tuple[str, str], account: A, ttl: float) -> None:
        with self._lock:
            self._entries[key] = (self._clock() + ttl, account)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def forget_user(self, url: str, user_id: int) -> None:
        """Drop every cached token of one account (it was just revoked)."""
        with self._lock:
            stale = [k for k, (_, a) in self._entries.items() if k[0] == url and a.id == user_id]
            for key in stale:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
