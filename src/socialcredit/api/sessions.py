"""The session cookie of the portal, and its CSRF check (used by the web pages and the API).

The cookie holds a random session id (the database keeps only its SHA-256); it is
``Secure`` (sent over HTTPS only), ``HttpOnly`` (no script can read it) and ``SameSite=Lax``
(not sent on cross-site form posts). Every state-changing request made with the cookie must
also carry the session's CSRF token, in the ``X-CSRF-Token`` header or a ``csrf_token`` form
field: a page of another site can make the browser send the cookie, but cannot read the token.
"""

from datetime import datetime

from fastapi import Request, Response

from socialcredit.services.users import NewSession, SessionInfo, csrf_matches

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "SESSION_COOKIE",
    "clear_session_cookie",
    "csrf_ok",
    "session_cookie",
    "set_session_cookie",
]

SESSION_COOKIE = "sc_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def set_session_cookie(
    response: Response, session: NewSession, *, now: datetime | None = None
) -> None:
    """Give the browser a new session (after login: always a new id, never the old one).

    With ``now`` (the registry's clock) the lifetime is also sent as ``Max-Age``, which
    browsers prefer to ``Expires``: right even when the registry's clock is pinned or the
    browser's is off.
    """
    max_age = None if now is None else max(0, int((session.expires_at - now).total_seconds()))
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        max_age=max_age,
        expires=session.expires_at,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


async def csrf_ok(request: Request, session: SessionInfo) -> bool:
    """Safe methods pass; others need the session's token in the header or the form."""
    if request.method in SAFE_METHODS:
        return True
    submitted = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if submitted is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette keeps it: the endpoint reads the same form
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    return csrf_matches(session, submitted)
