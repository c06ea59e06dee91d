"""How many policy checks a verifier account may still ask: a token bucket per account in the
database, shared by every server process (``store.allowances``).

``per_minute`` tokens, refilled evenly over a minute: bursts of at most that many, and that
many a minute in the long run, however many processes serve the API. A check's token is taken
in the access log's group transactions (``access.share_access_transaction``): a write
transaction of its own per check cost a fifth of the API's check throughput on SQLite.
"""

from dataclasses import dataclass

from sqlalchemy import Connection

from socialcredit.services.access import share_access_transaction
from socialcredit.services.registry import Registry
from socialcredit.store import allowances

__all__ = ["take_check"]


@dataclass(slots=True)
class _Take:
    """One check to count, and (once its transaction committed) how long it must wait."""

    lock_order: int  # the account's id: the row it locks
    per_minute: int
    now_s: float
    wait_s: float = 0.0

    def write(self, connection: Connection) -> None:
        capacity, per_second = float(self.per_minute), self.per_minute / 60.0
        self.wait_s = allowances.take_token(
            connection, self.lock_order, capacity, per_second, self.now_s
        )


def take_check(registry: Registry, account_id: int, per_minute: int, now_s: float) -> float:
    """Count one check of ``account_id``: 0.0 when allowed, else the seconds until it is."""
    take = _Take(account_id, per_minute, now_s)
    share_access_transaction(registry, take)
    return take.wait_s
