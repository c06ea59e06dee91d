"""Rendering a page: who is looking, in which language, the template and the headers.

Templates are Jinja2 with autoescaping on for every template (names, grounds, evidence and
purposes are user-provided text) and ``StrictUndefined`` (a misspelt variable fails the page
in tests instead of printing nothing). Every page answer is ``no-store`` (it may hold
personal data) and carries a strict Content-Security-Policy: no script at all, styles and
images from this site only, no framing.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from socialcredit.api.sessions import session_cookie
from socialcredit.services import users
from socialcredit.services.registry import Registry
from socialcredit.services.users import SessionInfo, User
from socialcredit.web import i18n
from socialcredit.web.access import ROLE_HOME
from socialcredit.web.forms import anonymous_token, set_form_cookie
from socialcredit.web.messages import MESSAGES

__all__ = [
    "PAGE_HEADERS",
    "Viewer",
    "language_of",
    "optional_viewer",
    "registry_of",
    "remember_language",
    "render",
    "viewer_of",
]

TEMPLATES = Path(__file__).with_name("templates")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Vary": "Cookie, Accept-Language",
}
LANG_COOKIE_SECONDS = 365 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page: an account (with its portal session, if it came with one)."""

    user: User | None = None
    session: SessionInfo | None = None


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def viewer_of(request: Request) -> Viewer:
    """The account the authorisation dependency found (pages for logged-in roles), or the one
    ``optional_viewer`` looked up (public pages), else nobody."""
    principal = getattr(request.state, "principal", None)
    if principal is not None:
        return Viewer(principal.user, principal.session)
    found: Viewer | None = getattr(request.state, "viewer", None)
    return found or Viewer()


def optional_viewer(request: Request) -> Viewer:
    """On a public page: the logged-in account, if the browser holds a live session (a
    blocking database read: call it from a sync handler, which runs in the thread pool)."""
    viewer = viewer_of(request)
    cookie = session_cookie(request)
    if viewer.user is None and cookie is not None:
        session = users.verify_session(registry_of(request), cookie)
        if session is not None:
            viewer = Viewer(session.user, session)
        request.state.viewer = viewer
    return viewer


def language_of(request: Request) -> tuple[str, bool]:
    """The page language, and whether ``?lang=`` chose it (then it is remembered)."""
    chosen = i18n.known_language(request.query_params.get("lang"))
    if chosen is not None:
        return chosen, True
    remembered = i18n.known_language(request.cookies.get(i18n.LANG_COOKIE))
    if remembered is not None:
        return remembered, False
    return i18n.from_accept_language(request.headers.get("accept-language")), False


@jinja2.pass_context
def _when(context: jinja2.runtime.Context, moment: datetime | str | None) -> str:
    """A moment in the registry's time zone, to the minute (stored moments are UTC)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(context["zone"]).strftime("%Y-%m-%d %H:%M")


def _day(moment: date | datetime) -> str:
    return moment.date().isoformat() if isinstance(moment, datetime) else moment.isoformat()


@functools.cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = _when
    environment.filters["day"] = _day
    return environment


def _nav(t: i18n.Translator, user: User | None) -> list[tuple[str, str]]:
    role = None if user is None else user.role
    by_role: dict[str | None, list[tuple[str, str]]] = {
        None: [("/", "nav.home")],
        "clerk": [("/clerk", "nav.search"), ("/clerk/contests", "nav.review")],
        "resident": [
            ("/me", "nav.me"),
            ("/me/access-log", "nav.access_log"),
            ("/me/notices", "nav.notices"),
            ("/me/consents", "nav.consents"),
        ],
        "agency": [("/agency/contests", "nav.agency_queue"), ("/agency/upload", "nav.upload")],
        "verifier": [("/verifier", "nav.verifier")],
        "admin": [("/admin", "nav.dashboard")],
        "auditor": [("/auditor", "nav.audit"), ("/admin", "nav.dashboard")],
    }
    items = by_role.get(role, []) + [
        ("/catalogue", "nav.catalogue"),
        ("/check-a-statement", "nav.check"),
    ]
    return [(href, t(key)) for href, key in items]


def _switch(request: Request, language: str, user: User | None) -> dict[str, str]:
    """The link to the other language: back to this page (a GET), or the account's home."""
    other = "zh" if language == "en" else "en"
    if request.method == "GET":
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        here = request.url.path + (f"?{urlencode(query)}" if query else "")
    else:
        here = "/" if user is None else ROLE_HOME.get(user.role, "/")
    return {
        "href": "/language?" + urlencode({"to": other, "next": here}),
        "tag": i18n.HTML_LANG[other],
        "label": i18n.LANG_LABEL[other],
    }


def render(
    request: Request,
    template: str,
    *,
    title: str,
    status: int = 200,
    public_form: bool = False,
    viewer: Viewer | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` as an HTML answer. ``title`` is a message key. Forms on the page
    carry the session's CSRF token, or with ``public_form`` the pre-session one."""
    language, chosen = language_of(request)
    t = i18n.Translator(language)
    viewer = viewer or viewer_of(request)
    session_csrf = "" if viewer.session is None else viewer.session.csrf
    anonymous, new_token = anonymous_token(request) if public_form else ("", False)
    html = (
        _environment()
        .get_template(template)
        .render(
            t=t,
            lang=language,
            html_lang=i18n.HTML_LANG[language],
            known=MESSAGES,
            zone=registry_of(request).clock.zone,
            viewer=viewer,
            nav=_nav(t, viewer.user),
            current=request.url.path,
            switch=_switch(request, language, viewer.user),
            title=t(title),
            csrf=anonymous if public_form else session_csrf,
            session_csrf=session_csrf,
            **context,
        )
    )
    response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
    if chosen:
        remember_language(response, language)
    if new_token:
        set_form_cookie(response, anonymous)
    return response


def remember_language(response: Response, language: str) -> None:
    response.set_cookie(
        i18n.LANG_COOKIE,
        language,
        max_age=LANG_COOKIE_SECONDS,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
