"""Group commit: small writes from concurrent threads share one write transaction.

Every read of a person's data writes an access-log row and its leaf before the answer goes
out. Alone, each such write is a transaction of its own (lock the log head, insert, append
the leaf, update the tree, commit): most of a policy check's time. Under load many threads
wait for the same write lock anyway, so the first to arrive writes everything that is waiting
in one transaction, and every caller returns only once its own row is committed (or raises
the error that transaction raised). A caller alone writes alone: nothing is delayed to wait
for company, and nothing is acknowledged before it is durable.

This is the batching of databases' group commit and of TigerBeetle's batched requests,
within one process; several processes (server workers) still serialise on the database.
"""

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from socialcredit.domain.invariant import invariant
from socialcredit.store.db import Database

__all__ = ["MAX_GROUP_ITEMS", "GroupCommit"]

# The most items one transaction takes (bounds its size and the time a caller may wait for
# others' rows); more waiting callers go in the next transaction.
MAX_GROUP_ITEMS = 256

Item = TypeVar("Item")


@dataclass(slots=True)
class _Waiter(Generic[Item]):
    item: Item
    done: bool = False
    error: BaseException | None = None


class GroupCommit(Generic[Item]):
    """``submit(item)`` writes ``item`` with ``write(connection, items)`` in a transaction
    shared with the items other threads submitted meanwhile."""

    def __init__(
        self,
        database: Database,
        write: Callable[[Connection, Sequence[Item]], None],
        max_items: int = MAX_GROUP_ITEMS,
    ) -> None:
        self._database = database
        self._write = write
        self._max_items = max_items
        self._changed = threading.Condition()
        self._queue: list[_Waiter[Item]] = []
        self._writing = False

    def submit(self, item: Item) -> None:
        """Write ``item``; returns once it is committed, raises what its transaction raised."""
        # Inside a write transaction of its own this thread would wait for a leader that
        # waits for that transaction's lock: a deadlock. Such a caller is a bug.
        invariant(
            not self._database.holds_write(),
            "group commit from inside a write transaction (it would deadlock)",
        )
        waiter = _Waiter(item)
        with self._changed:
            self._queue.append(waiter)
        while True:
            with self._changed:
                while self._writing and not waiter.done:
                    self._changed.wait()
                if waiter.done:
                    break
                # Nobody is writing and this caller's item is still waiting: it leads.
                self._writing = True
                group = self._queue[: self._max_items]
                del self._queue[: self._max_items]
            self._commit(group)
        if waiter.error is not None:
            raise waiter.error

    def _commit(self, group: list[_Waiter[Item]]) -> None:
        error: BaseException | None = None
        try:
            with self._database.write() as connection:
                self._write(connection, [waiter.item for waiter in group])
        except BaseException as raised:  # every caller of the group gets it, then re-raises
            error = raised
        finally:
            with self._changed:
                for waiter in group:
                    waiter.done, waiter.error = True, error
                self._writing = False
                self._changed.notify_all()
