"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"}}``.

Operating errors of the services (``SocialCreditError``) keep their stable code and get the
HTTP status of their kind; FastAPI's validation errors, Starlette's 404/405 and anything
unexpected are turned into the same shape. A response never carries a traceback: an
unexpected error is logged here with its traceback and answered ``500 internal``.
"""

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from sqlalchemy import exc as sqlalchemy_exc
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from socialcredit.domain.errors import (
    CatalogueInvalidError,
    InputError,
    InvalidPersonIdError,
    NoCatalogueError,
    NoConsentError,
    NotFoundError,
    RefusedError,
    SocialCreditError,
    UnknownPersonError,
    UnknownPolicyError,
    UnreadableInputError,
)
from socialcredit.domain.invariant import InvariantViolation
from socialcredit.services.idempotency import IdempotencyConflict

__all__ = ["ApiError", "error_body", "error_response", "install_error_handlers"]

LOGGER = logging.getLogger("socialcredit.api")

# Most specific first: the first class an error is an instance of decides its status.
_STATUS: tuple[tuple[type[SocialCreditError], int], ...] = (
    (InvalidPersonIdError, 400),
    (UnknownPersonError, 404),
    (UnknownPolicyError, 404),
    (NotFoundError, 404),
    (NoConsentError, 403),  # the person has not let this organisation ask: not permitted
    (NoCatalogueError, 422),
    (RefusedError, 422),
    (IdempotencyConflict, 409),
    (CatalogueInvalidError, 422),
    (UnreadableInputError, 422),
    (InputError, 400),
    (SocialCreditError, 400),
)

# Refusals of the due-process services share their classes (``RefusedError``, 422 above) but
# not their meaning: the stable code says whether the caller may not (403), the thing is
# missing (404) or it is in the wrong state for the step (409). Consulted before the classes.
_CODE_STATUS: dict[str, int] = {
    "not-your-record": 403,  # a resident, about someone else's entry
    "not-your-agency": 403,  # an agency, about another agency's entry
    "not-permitted": 403,  # a role that may not take this step (e.g. an agency deciding)
    "not-allowed": 403,  # a role that may not record consent
    "unknown-entry": 404,
    "no-contest": 404,  # the entry was never contested
    "not-contestable": 409,  # already contested, overturned or withdrawn
    "wrong-state": 409,  # the contest is not waiting for this step
    "not-withdrawable": 409,  # already withdrawn or overturned
    "attachment-too-large": 413,
}

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "invalid-request",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


class ApiError(Exception):
    """An answer of the API adapter itself (authentication, authorisation, limits)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


def error_body(code: str, message: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": dict(details or {})}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def status_of(error: SocialCreditError) -> int:
    by_code = _CODE_STATUS.get(error.code)
    if by_code is not None:
        return by_code
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400  # unreachable: SocialCreditError is the last entry


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_response(error.status, error.code, error.message, error.details, error.headers)


async def _service_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, SocialCreditError)
    details: dict[str, Any] = {}
    if isinstance(error, CatalogueInvalidError):
        details["problems"] = error.problems
    return error_response(status_of(error), error.code, error.message, details)


def _validation_problems(error: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, without echoing the input back (it may be large or personal)."""
    return [
        {
            "loc": [str(part) for part in problem.get("loc", ())],
            "message": str(problem.get("msg", "")),
            "type": str(problem.get("type", "")),
        }
        for problem in list(error.errors())[:50]
    ]


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = _validation_problems(error)
    first = problems[0] if problems else {"loc": [], "message": "invalid request"}
    where = ".".join(first["loc"])
    message = f"{where}: {first['message']}" if where else first["message"]
    return error_response(422, "invalid-request", message, {"errors": problems})


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    status = error.status_code
    code = getattr(error, "code", None) or _HTTP_CODES.get(status, f"http-{status}")
    message = error.detail if isinstance(error.detail, str) else code.replace("-", " ")
    if status == 404 and message == "Not Found":
        message = "no such resource"
    headers = dict(error.headers or {})
    if status == 405:
        allowed = _allowed_methods(request)
        if allowed:
            headers["Allow"] = allowed
        if message == "Method Not Allowed":
            message = "this resource does not answer that method"
    return error_response(status, code, message, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method some route answers on this path. Starlette names only those of the first
    route that matched the path, but one path may have a route per method (GET and POST)."""
    path = request.scope.get("path", "")
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        template = context.path
        if template is not None and compile_path(str(template))[0].match(path):
            methods.update(context.methods or ())
    return ", ".join(sorted(methods))


# Driver messages of a database that is busy or unreachable (as opposed to a broken schema);
# PostgreSQL's deadlock and serialization failures are worth a retry too.
_UNAVAILABLE = (
    "locked", "busy", "connect", "connection", "server closed", "timeout", "unable to",
    "deadlock", "could not serialize",
)  # fmt: skip
# Raised past SQLAlchemy by the bulk paths' driver cursors, or by an exhausted pool.
_DRIVER_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.OperationalError,
    psycopg.OperationalError,
    sqlalchemy_exc.TimeoutError,
)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, (OperationalError, *_DRIVER_ERRORS))
    text = str(getattr(error, "orig", None) or error).lower()
    if not any(word in text for word in _UNAVAILABLE):
        return await _unexpected(request, error)
    LOGGER.warning("database unavailable on %s %s: %s", request.method, request.url.path, text)
    return error_response(
        503,
        "unavailable",
        "the database is not answering; try again shortly",
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    kind = "invariant violated" if isinstance(error, InvariantViolation) else "unexpected error"
    LOGGER.error("%s on %s %s", kind, request.method, request.url.path, exc_info=error)
    return error_response(500, "internal", "an internal error occurred; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(SocialCreditError, _service_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    for kind in _DRIVER_ERRORS:
        app.add_exception_handler(kind, _database_error)
    app.add_exception_handler(Exception, _unexpected)
