"""Small helpers of the page tests: posting a form as a role, reading a page's text."""

import re
from html import unescape
from typing import Any

from tests.web.conftest import Portal

__all__ = ["post", "text_of"]


def post(portal: Portal, who: str, path: str, files: Any = None, **form: str) -> Any:
    """Post a form as ``who`` with the session's CSRF token."""
    client = portal.client(who)
    data = {**form, "csrf_token": portal.session_csrf(client)}
    return client.post(path, data=data, files=files)


def text_of(html: str) -> str:
    """The page's main part as plain text, spaces collapsed (for reading what a user sees)."""
    main = html[html.find('<main id="main"') : html.find("</main>")]
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", main))).strip()
