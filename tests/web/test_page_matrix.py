"""Deny by default on the pages too, tested as a full page x role matrix.

Every page route of the application (its route table, less the API's routes) x every role
and anonymous -> the expected status. A page added without a line in ``EXPECTED`` (and in
``web.access.PAGE_ACCESS`` and ``tests/web/pages.py``) fails ``test_every_page_is_in_the_matrix``.
Anonymous visitors of a page that needs an account are sent to the login form; an account of
another role gets the HTML error page with 403.
"""

from pathlib import Path

import pytest
from tests.web.conftest import ANON, ROLES, Portal
from tests.web.pages import PAGE_REQUESTS, call

from socialcredit.api.auth import route_table
from socialcredit.api.permissions import ROUTE_ACCESS
from socialcredit.web.access import PAGE_ACCESS

OK, MOVED, NO, LOGIN = 200, 303, 403, "login"


def _only(*allowed: str, success: int = OK) -> dict[str, int | str]:
    return {ANON: LOGIN, **{role: success if role in allowed else NO for role in ROLES}}


def _everyone(status: int = OK) -> dict[str, int | str]:
    return {ANON: status, **{role: status for role in ROLES}}


EXPECTED: dict[tuple[str, str], dict[str, int | str]] = {
    ("GET", "/"): _everyone(),
    ("GET", "/login"): _everyone(),
    ("POST", "/login"): _everyone(MOVED),
    ("GET", "/language"): _everyone(MOVED),
    ("GET", "/static/portal.css"): _everyone(),
    ("GET", "/catalogue"): _everyone(),
    ("GET", "/check-a-statement"): _everyone(),
    ("POST", "/check-a-statement"): _everyone(),
    ("POST", "/logout"): _only(*ROLES, success=MOVED),
    ("GET", "/clerk"): _only("clerk"),
    ("GET", "/clerk/people/{person_id}"): _only("clerk"),
    ("GET", "/clerk/people/{person_id}/statement.pdf"): _only("clerk"),
    ("POST", "/clerk/people/{person_id}/contests"): _only("clerk", success=MOVED),
    ("GET", "/clerk/contests"): _only("clerk"),
    ("POST", "/clerk/contests/decide"): _only("clerk", success=MOVED),
    ("POST", "/clerk/contests/sweep"): _only("clerk", success=MOVED),
    ("GET", "/me"): _only("resident"),
    ("GET", "/me/statement.pdf"): _only("resident"),
    ("GET", "/me/access-log"): _only("resident"),
    ("GET", "/me/notices"): _only("resident"),
    ("POST", "/me/contests"): _only("resident", success=MOVED),
    ("GET", "/me/consents"): _only("resident"),
    ("POST", "/me/consents/grant"): _only("resident", success=MOVED),
    ("POST", "/me/consents/revoke"): _only("resident", success=MOVED),
    ("GET", "/agency/contests"): _only("agency"),
    ("POST", "/agency/contests/answer"): _only("agency", success=MOVED),
    ("GET", "/agency/upload"): _only("agency"),
    ("POST", "/agency/upload"): _only("agency"),
    ("GET", "/agency/rejects/{token}"): _only("agency"),
    ("GET", "/verifier"): _only("verifier"),
    ("POST", "/verifier"): _only("verifier"),
    ("GET", "/admin"): _only("admin", "auditor"),
    ("GET", "/admin/plots/grades.png"): _only("admin", "auditor"),
    ("GET", "/admin/plots/entries.png"): _only("admin", "auditor"),
    ("GET", "/auditor"): _only("auditor"),
}


def page_routes(portal: Portal) -> set[tuple[str, str]]:
    """Every route the application serves that is not an API route."""
    served = {(method, path) for (method, _endpoint), path in route_table(portal.app).items()}
    return served - set(ROUTE_ACCESS)


def test_every_page_is_in_the_matrix(portal: Portal):
    pages = page_routes(portal)
    assert len(pages) >= 30, "the route table lost the pages: the test would prove little"
    assert pages == set(PAGE_ACCESS), "every page needs its line in web.access.PAGE_ACCESS"
    assert pages == set(EXPECTED), "every page needs its expected answer for every role"
    assert pages == set(PAGE_REQUESTS), "every page needs a valid request in tests/web/pages.py"
    assert not set(PAGE_ACCESS) & set(ROUTE_ACCESS)
    for row in EXPECTED.values():
        assert set(row) == {ANON, *ROLES}


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda route: f"{route[0]} {route[1]}")
def test_page_matrix(portal: Portal, route: tuple[str, str]):
    method, path = route
    answers: dict[str, int | str] = {}
    for who in (ANON, *ROLES):
        response = call(portal, method, path, who)
        status: int | str = response.status_code
        if status == MOVED and response.headers["location"].startswith("/login"):
            status = LOGIN
        answers[who] = status
        if response.status_code == NO:
            assert response.headers["content-type"].startswith("text/html"), response.text
            assert "<h1>Not allowed</h1>" in response.text
    assert answers == EXPECTED[route]


def test_an_unlisted_page_answers_nobody(portal: Portal):
    """A page someone adds without its line in PAGE_ACCESS is denied to every role."""
    from fastapi.responses import HTMLResponse

    @portal.app.get("/forgotten", response_class=HTMLResponse)
    async def forgotten() -> str:
        return "<p>secret</p>"

    portal.app.state.route_paths = None  # the route table is rebuilt with the new page
    for who in ROLES:
        response = portal.client(who).get("/forgotten")
        assert response.status_code == NO and "secret" not in response.text, who
    assert "secret" not in portal.client(ANON).get("/forgotten").text


def test_the_api_keeps_its_json_errors_beside_the_pages(portal: Portal):
    browserish = {"accept": "text/html,application/xhtml+xml"}
    client = portal.client(ANON)
    for path in ("/api/v1/me", "/api/v1/nope", "/healthz/nope"):
        response = client.get(path, headers=browserish)
        assert response.headers["content-type"].startswith("application/json"), path
        assert response.json()["error"]["code"] in ("unauthenticated", "not-found")
    page = client.get("/nope", headers=browserish)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert client.get("/nope").json()["error"]["code"] == "not-found"  # no HTML asked for


def test_every_page_is_documented():
    """docs/portal.md lists every page a person opens (not the stylesheet, images, switch)."""
    text = (Path(__file__).parents[2] / "docs" / "portal.md").read_text(encoding="utf-8")
    plumbing = ("/static/", "/language", "/admin/plots/", "/agency/rejects/", "/clerk/contests/")
    for method, path in PAGE_ACCESS:
        if method == "GET" and not path.startswith(plumbing):
            shown = path.replace("{person_id}", "{id}")
            assert f"`{shown}" in text, f"{path} is not in docs/portal.md"
