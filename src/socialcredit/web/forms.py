"""Reading the portal's forms, and the CSRF token of the forms that come before a session.

Pages of a logged-in account carry the session's CSRF token, checked by the application's
authorisation dependency like every other state-changing request (``api.sessions``). The login
form and the public "check a statement" form have no session yet: they use a double-submitted
token instead, a random value in an ``HttpOnly``, ``Secure``, ``SameSite=Strict`` cookie that the
form repeats in a hidden field. Another site can make a browser send the cookie, but cannot
read it to put it in the form.
"""

import hmac
import re
import secrets

from fastapi import Request, Response
from starlette.datastructures import FormData, UploadFile

from socialcredit.api.errors import ApiError
from socialcredit.api.sessions import CSRF_FIELD

__all__ = [
    "FORM_COOKIE",
    "anonymous_token",
    "check_form_token",
    "field",
    "safe_next",
    "set_form_cookie",
    "uploads",
]

FORM_COOKIE = "sc_form"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}", re.ASCII)
FORM_TOKEN_SECONDS = 24 * 3600


def anonymous_token(request: Request) -> tuple[str, bool]:
    """The browser's pre-session form token, and whether it is new (to be set as a cookie)."""
    existing = request.cookies.get(FORM_COOKIE, "")
    if _TOKEN.fullmatch(existing):
        return existing, False
    return secrets.token_urlsafe(32), True


def set_form_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=FORM_TOKEN_SECONDS,
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )


def check_form_token(request: Request, form: FormData) -> None:
    """Refuse (403 ``csrf-failed``) a public form whose token is not the cookie's."""
    cookie = request.cookies.get(FORM_COOKIE, "")
    submitted = form.get(CSRF_FIELD)
    if (
        not _TOKEN.fullmatch(cookie)
        or not isinstance(submitted, str)
        or not hmac.compare_digest(cookie.encode(), submitted.encode())
    ):
        raise ApiError(403, "csrf-failed", "the form lacks its CSRF token: reload it and retry")


def field(form: FormData, name: str, *, limit: int = 200) -> str:
    """A text field, trimmed; missing or a file counts as empty; longer than ``limit``
    characters is refused (400), never cut silently."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    if len(value) > limit:
        raise ApiError(400, "invalid-input", f"{name}: at most {limit} characters")
    return value


def uploads(form: FormData, name: str) -> list[UploadFile]:
    """The files sent in ``name`` (a browser sends one empty part when none was chosen)."""
    return [
        item
        for item in form.getlist(name)
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]


def safe_next(value: str | None) -> str | None:
    """A path of this site to go to after logging in; anything else (another site, a scheme,
    a protocol-relative ``//host``) is ignored so the login form cannot redirect elsewhere."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return None
    if value.startswith(("//", "/\\")) or any(ord(char) < 0x20 for char in value):
        return None
    return value
