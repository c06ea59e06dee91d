"""Pages for anyone: the front page, logging in and out, the language switch, the stylesheet.

Logging in takes the account's name and its token (``socialcredit users add`` prints it once;
only its argon2 hash is stored). Every login issues a new session id and revokes the one the
browser came with, so a session id planted before login is worthless (session fixation).
"""

import functools
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from socialcredit.api.sessions import clear_session_cookie, session_cookie, set_session_cookie
from socialcredit.services import users
from socialcredit.web.access import ROLE_HOME
from socialcredit.web.forms import check_form_token, field, safe_next
from socialcredit.web.i18n import known_language
from socialcredit.web.pages.common import translator
from socialcredit.web.render import optional_viewer, registry_of, remember_language, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

STYLESHEET = Path(__file__).parents[1] / "static" / "portal.css"


@router.get("/")
def home(request: Request) -> HTMLResponse:
    viewer = optional_viewer(request)
    role_home = "/" if viewer.user is None else ROLE_HOME.get(viewer.user.role, "/")
    return render(request, "home.html", title="home.title", viewer=viewer, role_home=role_home)


def _login_page(
    request: Request, *, next_page: str, name: str = "", error: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "login.html",
        title="login.title",
        status=status,
        public_form=True,
        next=next_page,
        name=name,
        error=error,
    )


@router.get("/login")
def login_form(request: Request, next: str = "") -> HTMLResponse:
    optional_viewer(request)
    return _login_page(request, next_page=safe_next(next) or "")


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    check_form_token(request, form)
    name = field(form, "name", limit=128)
    token = field(form, "token", limit=200)
    next_page = safe_next(field(form, "next", limit=2000)) or ""
    session = None
    if name and token:
        session = await run_in_threadpool(
            users.login, registry_of(request), name, token, replacing=session_cookie(request)
        )
    if session is None:
        # One answer for every failure: which of name and token was wrong is not said.
        error = translator(request)("login.failed")
        return _login_page(request, next_page=next_page, name=name, error=error, status=401)
    target = next_page or ROLE_HOME.get(session.user.role, "/")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, session, now=registry_of(request).clock.now())
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    cookie = session_cookie(request)
    if cookie is not None:
        await run_in_threadpool(users.revoke_session, registry_of(request), cookie)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/language")
def language(request: Request, to: str = "en", next: str = "/") -> Response:
    """Switch the portal's language (remembered in a cookie) and go back to the page."""
    response = RedirectResponse(safe_next(next) or "/", status_code=303)
    remember_language(response, known_language(to) or "en")
    return response


@functools.cache
def _stylesheet() -> bytes:
    return STYLESHEET.read_bytes()


@router.get("/static/portal.css")
async def stylesheet() -> Response:
    return Response(
        _stylesheet(),
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=3600"},
    )
