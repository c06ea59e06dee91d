"""Logging in and out of the portal: fresh session ids (no fixation), logout that ends the
session, cookie attributes, one answer for every failed login, no open redirects."""

from dataclasses import replace
from datetime import timedelta

from tests.web.conftest import Portal, browser, csrf_of, log_in

from socialcredit.api.sessions import SESSION_COOKIE
from socialcredit.services import users
from socialcredit.services.clock import Clock


def test_a_session_id_planted_before_login_is_not_the_one_after(portal: Portal):
    # An attacker's own live session, and an id nobody issued, both planted in the browser.
    attacker = users.create_session(portal.registry, portal.accounts["auditor"])
    for planted in (attacker.cookie, "planted-by-someone-else-0123456789abcdefghij"):
        client = browser(portal.app)
        client.cookies.set(SESSION_COOKIE, planted, domain="testserver.local")
        answer = log_in(client, portal.accounts["clerk"].name, portal.tokens["clerk"])
        assert answer.status_code == 303 and answer.headers["location"] == "/clerk"
        issued = answer.cookies[SESSION_COOKIE]
        assert issued and issued != planted
        session = users.verify_session(portal.registry, issued)
        assert session is not None and session.user.name == portal.accounts["clerk"].name
        assert users.verify_session(portal.registry, planted) is None  # revoked or never was
        client.close()


def test_each_login_issues_a_new_session(portal: Portal):
    client = browser(portal.app)
    first = log_in(client, portal.accounts["resident"].name, portal.tokens["resident"])
    second = log_in(client, portal.accounts["resident"].name, portal.tokens["resident"])
    assert first.cookies[SESSION_COOKIE] != second.cookies[SESSION_COOKIE]
    assert users.verify_session(portal.registry, first.cookies[SESSION_COOKIE]) is None


def test_the_session_cookie_is_secure_httponly_lax_with_a_lifetime(portal: Portal):
    answer = log_in(browser(portal.app), portal.accounts["clerk"].name, portal.tokens["clerk"])
    header = next(
        value for name, value in answer.headers.multi_items()
        if name == "set-cookie" and value.startswith(f"{SESSION_COOKIE}=")
    )  # fmt: skip
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/", "Max-Age=28800"):
        assert attribute.lower() in header.lower(), header


def test_logout_ends_the_session(portal: Portal):
    client = browser(portal.app)
    log_in(client, portal.accounts["clerk"].name, portal.tokens["clerk"])
    cookie = client.cookies[SESSION_COOKIE]
    page = client.get("/clerk")
    assert page.status_code == 200
    answer = client.post("/logout", data={"csrf_token": portal.session_csrf(client)})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert users.verify_session(portal.registry, cookie) is None
    replayed = browser(portal.app)  # someone who copied the cookie before the logout
    replayed.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local")
    again = replayed.get("/clerk")
    assert again.status_code == 303 and again.headers["location"].startswith("/login")


def test_an_expired_session_goes_back_to_the_login_form(portal: Portal):
    client = portal.client("clerk")
    later = Clock.create(
        "Asia/Shanghai", (portal.registry.clock.now() + timedelta(hours=9)).isoformat()
    )
    portal.app.state.registry = replace(portal.registry, clock=later)
    answer = client.get("/clerk/contests")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fclerk%2Fcontests"


def test_a_failed_login_says_nothing_about_which_part_was_wrong(portal: Portal):
    clerk = portal.accounts["clerk"]
    answers = [
        log_in(browser(portal.app), clerk.name, portal.tokens["auditor"]),  # another's token
        log_in(browser(portal.app), "nobody", portal.tokens["clerk"]),
        log_in(browser(portal.app), clerk.name, "sc_1_" + "x" * 43),
        log_in(browser(portal.app), clerk.name, ""),
    ]
    for answer in answers:
        assert answer.status_code == 401
        assert "do not match an active account" in answer.text
        assert SESSION_COOKIE not in answer.cookies
    users.revoke_user(portal.registry, clerk.name)
    revoked = log_in(browser(portal.app), clerk.name, portal.tokens["clerk"])
    assert revoked.status_code == 401


def test_login_goes_back_to_the_page_asked_for_and_nowhere_else(portal: Portal):
    client = browser(portal.app)
    first = client.get("/clerk/contests?x=1")
    assert first.headers["location"] == "/login?next=%2Fclerk%2Fcontests%3Fx%3D1"
    form = client.get(first.headers["location"])
    assert 'name="next" value="/clerk/contests?x=1"' in form.text
    clerk = portal.accounts["clerk"]
    base = {"csrf_token": csrf_of(form.text), "name": clerk.name, "token": portal.tokens["clerk"]}
    assert (
        client.post("/login", data={**base, "next": "/clerk/contests?x=1"}).headers["location"]
        == "/clerk/contests?x=1"
    )
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        answer = client.post("/login", data={**base, "next": evil})
        assert answer.headers["location"] == "/clerk", evil
    assert (
        client.get("/language", params={"to": "zh", "next": "//evil.example"}).headers["location"]
        == "/"
    )
