"""The FastAPI application: routers under /api/v1, errors, limits and authorisation wired once.

``create_app(registry, settings)`` is the only way to build it; ``socialcredit serve`` calls it
through ``socialcredit.api.server.app_from_env`` (an import string, so that uvicorn can start
several worker processes, each opening the registry itself).

The web portal builds on this: include its router here and give each of its routes a line in
``permissions.ROUTE_ACCESS``; pages authenticate with the session cookie (``api.sessions``).
"""

import time
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi

from socialcredit import __version__
from socialcredit.api.auth import authorise
from socialcredit.api.errors import install_error_handlers
from socialcredit.api.limits import BodyLimit, RateLimiter, SecurityHeaders
from socialcredit.api.permissions import API, access_for
from socialcredit.api.routes import (
    audit,
    catalogue_change,
    checks,
    consent,
    contests,
    entries,
    events,
    ledger,
    meta,
    notices,
    people,
)
from socialcredit.api.schemas import ErrorBody
from socialcredit.services.registry import Registry
from socialcredit.settings import Settings

__all__ = ["API", "create_app"]

# Every error status an API route may answer, documented on each operation (one shape).
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 415, 422, 429, 500, 503)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": "Error (one shape everywhere)."}
    for status in ERROR_STATUSES
}

DESCRIPTION = """The accountable social-credit registry over HTTP.

Authenticate with `Authorization: Bearer <token>` (tokens come from `socialcredit users add`).
Errors are always `{"error": {"code", "message", "details"}}`. Lists are paged with
`?cursor=&limit=` and answer `{"items", "next_cursor"}`. See docs/api.md.
"""


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """FastAPI's document, plus bearer security on exactly the routes that need a token."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = document.setdefault("components", {})
        components["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "sc_<id>_<secret>"}
        }
        for path, operations in document.get("paths", {}).items():
            for method, operation in operations.items():
                access = access_for(method.upper(), path)
                if access is None or not access.public:
                    operation["security"] = [{"bearer": []}]
        app.openapi_schema = document
        return document

    return build


def create_app(
    registry: Registry,
    settings: Settings | None = None,
    *,
    rate_clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The API over ``registry``; ``settings`` bound the API (default: the registry's)."""
    settings = settings or registry.settings
    app = FastAPI(
        title="socialcredit",
        version=__version__,
        description=DESCRIPTION,
        openapi_url=f"{API}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        dependencies=[Depends(authorise)],
    )
    app.state.registry = registry
    app.state.settings = settings
    app.state.check_limiter = RateLimiter(
        registry, settings.verifier_checks_per_minute, clock=rate_clock
    )
    install_error_handlers(app)
    app.include_router(meta.health_router, responses=ERRORS)
    for router in (events.router, people.router, checks.router, meta.router, ledger.router):
        app.include_router(router, prefix=API, responses=ERRORS)
    for router in (
        contests.router,
        entries.router,
        consent.router,
        notices.router,
        audit.router,
        catalogue_change.router,
    ):
        app.include_router(router, prefix=API, responses=ERRORS)
    app.openapi = _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(SecurityHeaders, private_prefix=API)
    app.add_middleware(
        BodyLimit,
        limit=settings.api_max_request_bytes,
        upload_limit=settings.api_max_upload_bytes,
        upload_paths=(f"{API}/events/bulk",),
    )
    return app
