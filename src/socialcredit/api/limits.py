"""Bounds on what a client can make the server do: body size and the verifiers' check rate.

``BodyLimit`` refuses a request whose declared ``Content-Length`` is over the limit before
reading a byte of it, and stops one that sends more than it declared (or no length at all,
chunked) as soon as the count passes the limit: the body is never read whole into memory to
find out. ``RateLimiter`` is a token bucket per account, kept in the database: a verifier may
ask ``per_minute`` checks per minute, in bursts of at most that many, whichever server
process answers.
"""

import math
import time
from collections.abc import Callable, Collection

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit.api.errors import error_response
from socialcredit.services.check_allowances import take_check
from socialcredit.services.registry import Registry

__all__ = ["BodyLimit", "BodyTooLarge", "RateLimiter", "SecurityHeaders", "retry_after"]


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when the body passes the limit (FastAPI re-raises HTTP errors
    met while parsing a body, so this arrives at the error handlers as a 413)."""

    code = "too-large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class BodyLimit:
    """Pure ASGI middleware: at most ``limit`` body bytes, ``upload_limit`` on upload paths."""

    def __init__(
        self, app: ASGIApp, *, limit: int, upload_limit: int, upload_paths: Collection[str]
    ) -> None:
        self.app = app
        self.limit = limit
        self.upload_limit = upload_limit
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"] in self.upload_paths else self.limit
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            response = error_response(
                413, "too-large", f"the request body of {declared} bytes is over {limit}"
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # A malformed length is the server's business (uvicorn refuses it); count instead.
            return int(value) if value.isdigit() else None
    return None


class SecurityHeaders:
    """``nosniff`` everywhere; ``no-store`` on the API, whose answers hold personal data."""

    def __init__(self, app: ASGIApp, *, private_prefix: str) -> None:
        self.app = app
        self.private_prefix = private_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith(self.private_prefix)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"x-content-type-options", b"nosniff"))
                if private:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class RateLimiter:
    """Verifier checks per account: ``per_minute`` tokens, refilled evenly over a minute.

    Counted in the database (``services.check_allowances``), so that every server process
    draws on the same bucket: with ``--workers N`` a verifier still gets ``per_minute``, not N
    times it. ``clock``: Unix seconds, the same in every process (tests move it by hand).
    """

    def __init__(
        self, registry: Registry, per_minute: int, *, clock: Callable[[], float] = time.time
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._registry = registry
        self._clock = clock

    def acquire(self, key: int) -> float:
        """Take one check: 0.0 when allowed, else the seconds until one is."""
        return take_check(self._registry, key, self.per_minute, self._clock())


def retry_after(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))
