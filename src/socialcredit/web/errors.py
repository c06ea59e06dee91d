"""One error page for the portal, while the API keeps its JSON error shape.

The application's error handlers (``api.errors``) decide the status and code of every failure;
``install_page_errors`` wraps each of them so that a *page* request gets the same status as an
HTML page (and a 401 becomes a redirect to the login form), and every other request gets the
handler's JSON untouched. A request is a page request when it was routed to a page, or when it
was routed nowhere (404, 405), is not under ``/api/`` and the client asks for HTML (a browser).

``PageBodyLimit`` answers a page upload whose declared size is over the request limit with the
HTML error page; the API's ``BodyLimit`` (inside it) would answer JSON.
"""

import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit.web.access import ROLE_HOME

__all__ = ["PageBodyLimit", "install_page_errors", "is_page_request", "render_error"]

LOGGER = logging.getLogger("socialcredit.web")
API_PATHS = ("/api/", "/healthz", "/docs")
Handler = Callable[[Request, Exception], Response | Awaitable[Response]]
# Headers of the JSON answer that still mean something on the HTML one.
KEPT_HEADERS = ("allow", "retry-after")


def is_page_request(request: Request) -> bool:
    if request.url.path.startswith(API_PATHS):
        return False
    endpoint = request.scope.get("endpoint")
    if endpoint is not None:
        return endpoint in request.app.state.page_endpoints
    return "text/html" in request.headers.get("accept", "")


def _login_redirect(request: Request) -> RedirectResponse:
    here = request.url.path
    if request.method == "GET" and request.url.query:
        here += "?" + request.url.query
    target = "/login?" + urlencode({"next": here}) if request.method == "GET" else "/login"
    return RedirectResponse(target, status_code=303)


def render_error(request: Request, status: int, code: str, message: str) -> Response:
    """The HTML error page (never raises: a page that fails to render falls back to text)."""
    from socialcredit.web.messages import MESSAGES
    from socialcredit.web.render import render, viewer_of

    key = f"error.{status}" if f"error.{status}" in MESSAGES else "error.other"
    try:
        viewer = viewer_of(request)
        home = "/" if viewer.user is None else ROLE_HOME.get(viewer.user.role, "/")
        return render(
            request,
            "error.html",
            title=key,
            status=status,
            error_status=status,
            heading=_heading(request, key),
            message=message,
            code=code,
            home=home,
        )
    except Exception:  # the error page itself must not turn one failure into another
        LOGGER.exception("the error page could not be rendered")
        return Response(f"{status} {code}: {message}", status, media_type="text/plain")


def _heading(request: Request, key: str) -> str:
    from socialcredit.web import i18n
    from socialcredit.web.render import language_of

    return i18n.Translator(language_of(request)[0])(key)


def _for_pages(handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, error: Exception) -> Response:
        answer = handler(request, error)
        response = await answer if inspect.isawaitable(answer) else answer
        # A refused request may have had its form read by the CSRF check: close its files.
        await request.close()
        if not is_page_request(request):
            return response
        if response.status_code == 401:
            return _login_redirect(request)
        try:
            body: dict[str, Any] = json.loads(bytes(response.body))["error"]
            code, message = str(body["code"]), str(body["message"])
        except (ValueError, KeyError, TypeError):
            code, message = "error", ""
        page = render_error(request, response.status_code, code, message)
        for name in KEPT_HEADERS:
            if name in response.headers:
                page.headers[name] = response.headers[name]
        return page

    return handle


def install_page_errors(app: FastAPI) -> None:
    """Wrap every installed error handler (``api.errors``) with the page rule above."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _for_pages(handler)


class PageBodyLimit:
    """Pure ASGI middleware: a page request declaring a body over ``limit`` gets the HTML 413
    page before a byte is read; API requests pass on to the API's own ``BodyLimit``."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(API_PATHS):
            await self.app(scope, receive, send)
            return
        declared = next(
            (int(v) for k, v in scope["headers"] if k == b"content-length" and v.isdigit()), None
        )
        if declared is None or declared <= self.limit:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        message = f"the request body of {declared} bytes is over {self.limit}"
        response = render_error(request, 413, "too-large", message)
        await response(scope, receive, send)
