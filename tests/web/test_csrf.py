"""CSRF: every form the portal takes is refused (403) without its token or with a wrong one,
and accepted with the right one; a refused form changes nothing in the registry.

Forms of a logged-in account carry the session's token; the public forms (login, checking a
statement) carry the pre-session token of their cookie.
"""

import pytest
from sqlalchemy import func, select
from tests.web.conftest import ANON, ROLES, Portal
from tests.web.pages import call, prepare

from socialcredit.store.schema import metadata
from socialcredit.web.access import PAGE_ACCESS

POSTS = sorted(route for route in PAGE_ACCESS if route[0] == "POST")


def allowed(route: tuple[str, str]) -> str:
    access = PAGE_ACCESS[route]
    return ANON if access.public else next(role for role in ROLES if access.admits(role))


def rows(portal: Portal) -> dict[str, int]:
    """Rows of every table: a refused form must not have written (or even read) anything."""
    with portal.registry.database.read() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in metadata.sorted_tables
        }


def test_every_form_is_covered():
    assert len(POSTS) >= 12
    assert ("POST", "/login") in POSTS and ("POST", "/logout") in POSTS


@pytest.mark.parametrize("route", POSTS, ids=lambda route: route[1])
def test_forms_need_their_csrf_token(portal: Portal, route: tuple[str, str]):
    who = allowed(route)
    portal.client(who)  # logged in before counting: the login itself writes a session
    prepare(portal, *route)
    before = rows(portal)
    for refused in (
        call(portal, *route, who, drop_csrf=True),
        call(portal, *route, who, csrf=""),
        call(portal, *route, who, csrf="x" * 43),
    ):
        assert refused.status_code == 403, (refused.status_code, refused.text[:500])
        assert "csrf-failed" in refused.text and refused.headers["content-type"].startswith(
            "text/html"
        )
    if route != ("POST", "/logout"):  # logging out uses (and ends) a session of its own
        assert rows(portal) == before
    accepted = call(portal, *route, who)
    assert accepted.status_code in (200, 303), accepted.text[:500]


@pytest.mark.parametrize(
    "route", [r for r in POSTS if not PAGE_ACCESS[r].public], ids=lambda route: route[1]
)
def test_another_sessions_token_is_refused(portal: Portal, route: tuple[str, str]):
    who = allowed(route)
    other = next(role for role in ROLES if role != who)
    stolen = portal.session_csrf(portal.client(other))
    assert call(portal, *route, who, csrf=stolen).status_code == 403


def test_the_login_form_token_is_bound_to_its_cookie(portal: Portal):
    from tests.web.conftest import browser, csrf_of

    first, second = browser(portal.app), browser(portal.app)
    token = csrf_of(first.get("/login").text)
    second.get("/login")  # a cookie of its own
    account = portal.accounts["clerk"]
    data = {"csrf_token": token, "name": account.name, "token": portal.tokens["clerk"]}
    assert second.post("/login", data=data).status_code == 403
    assert "sc_session" not in second.cookies
    assert first.post("/login", data=data).status_code == 303
