"""Idempotency keys: a retried request gets the first answer instead of being done twice.

An agency that lost the answer to a submission (a timeout, a dropped connection) sends it again
with the same ``Idempotency-Key``. The first request reserves the key (per account), does the
work and stores its answer; a retry with the same body gets that stored answer back; the same
key with another body is refused, and so is a retry while the first is still running. Events
have their own key, ``(agency, event_id)``, so even without this a resubmission adds nothing;
the idempotency key makes the *answer* repeatable (the first call's "accepted" instead of the
second call's "duplicate").
"""

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from socialcredit.domain.errors import InputError, SocialCreditError
from socialcredit.services.registry import Registry
from socialcredit.store.schema import idempotency_keys

__all__ = [
    "IdempotencyConflict",
    "StoredAnswer",
    "check_key",
    "complete",
    "release",
    "reserve",
]

KEY = re.compile(r"[\x21-\x7e]{1,128}", re.ASCII)  # printable ASCII without spaces
_RUNNING = 0  # the status of a reserved key whose first request has not answered yet
# A reservation this old belongs to a request that died with its process (a bulk import of
# the largest allowed file takes minutes, not hours): a retry may take it over.
STALE_AFTER = timedelta(hours=1)


class IdempotencyConflict(SocialCreditError):
    """The key is held by another request body, or its first request is still running."""

    code = "idempotency-conflict"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status: int
    body: str


def check_key(key: str) -> str:
    if not KEY.fullmatch(key):
        raise InputError(
            "Idempotency-Key must be 1 to 128 printable ASCII characters without spaces",
            code="invalid-idempotency-key",
        )
    return key


def reserve(registry: Registry, user_id: int, key: str, request_sha256: str) -> StoredAnswer | None:
    """Reserve ``key`` for this request (``None``), or return the first request's answer."""
    check_key(key)
    where = (idempotency_keys.c.user_id == user_id) & (idempotency_keys.c.key == key)
    try:
        with registry.database.write() as connection:
            row = connection.execute(select(idempotency_keys).where(where)).first()
            if row is None:
                connection.execute(
                    insert(idempotency_keys).values(
                        user_id=user_id,
                        key=key,
                        request_sha256=request_sha256,
                        status=_RUNNING,
                        response="",
                        recorded_at=registry.clock.now(),
                    )
                )
                return None
    except IntegrityError:  # PostgreSQL: another request reserved it between select and insert
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} is in use by a request that has not finished",
            code="idempotency-key-in-use",
        ) from None
    if row.request_sha256 != request_sha256:
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} was used for a different request",
            code="idempotency-key-reused",
        )
    if row.status == _RUNNING and row.recorded_at > registry.clock.now() - STALE_AFTER:
        raise IdempotencyConflict(
            f"Idempotency-Key {key!r} is in use by a request that has not finished",
            code="idempotency-key-in-use",
        )
    if row.status == _RUNNING:
        return None  # a stale reservation of this same request: do the work now
    return StoredAnswer(row.status, row.response)


def complete(registry: Registry, user_id: int, key: str, status: int, body: str) -> None:
    """Store the answer of the request that reserved ``key``."""
    with registry.database.write() as connection:
        connection.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.user_id == user_id, idempotency_keys.c.key == key)
            .values(status=status, response=body)
        )


def release(registry: Registry, user_id: int, key: str) -> None:
    """Free a reserved key whose request failed, so that a retry does the work."""
    with registry.database.write() as connection:
        connection.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.user_id == user_id,
                idempotency_keys.c.key == key,
                idempotency_keys.c.status == _RUNNING,
            )
        )
