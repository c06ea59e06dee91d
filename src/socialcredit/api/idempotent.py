"""Answer a request once per ``Idempotency-Key``: a retry gets the stored first answer."""

import hashlib
import json
from collections.abc import Callable
from typing import Any

from fastapi import Response

from socialcredit.services import idempotency
from socialcredit.services.registry import Registry
from socialcredit.services.users import User

__all__ = ["REPLAYED_HEADER", "answer_once", "request_digest"]

REPLAYED_HEADER = "Idempotent-Replayed"


def request_digest(*parts: str | bytes) -> str:
    """SHA-256 over what makes two requests the same request."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def answer_once(
    registry: Registry,
    user: User,
    key: str | None,
    digest: str,
    work: Callable[[], dict[str, Any]],
) -> Response:
    """Do ``work`` and answer its document; with a key, at most once per (account, key).

    Only successful answers are kept: a request that failed releases its key, so that the
    retry does the work (events are keyed by (agency, event_id), so nothing is doubled).
    """
    if key is None:
        return Response(_json(work()), media_type="application/json")
    stored = idempotency.reserve(registry, user.id, key, digest)
    if stored is not None:
        return Response(
            stored.body,
            status_code=stored.status,
            media_type="application/json",
            headers={REPLAYED_HEADER: "true"},
        )
    try:
        body = _json(work())
    except BaseException:
        idempotency.release(registry, user.id, key)
        raise
    idempotency.complete(registry, user.id, key, 200, body)
    return Response(body, media_type="application/json")
