"""A valid request for every page of the portal, so that tests can walk the route table.

Each entry builds the request a browser would send (form fields, files, the CSRF token of the
client's session or, on public forms, its pre-session token) and, where the page acts on
something, first sets that something up through the services (a contest to decide, a rejects
file to download), so that the allowed role's answer is the page's success.
"""

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.api.conftest import BANK
from tests.conftest import ZHANG_JIAN, recent
from tests.web.conftest import ANON, Portal, browser, log_in

from socialcredit.services.access import LOCAL, Actor
from socialcredit.services.contests import ContestError, answer_contest, open_contest
from socialcredit.web.forms import FORM_COOKIE
from socialcredit.web.rejects import new_rejects_file

__all__ = ["PAGE_REQUESTS", "Call", "call", "prepare"]

AGENCY_ACTOR = Actor("traffic-desk", "agency", "traffic-police", "traffic-police")


@dataclass(frozen=True)
class Call:
    params: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None  # a form (POST), CSRF token added by ``call``
    files: Callable[[], dict[str, Any]] | None = None
    setup: Callable[[Portal], dict[str, str]] | None = None  # returns path parameters
    fresh_session: bool = False  # the page ends the session: use a session of its own


def _contested(portal: Portal) -> dict[str, str]:
    """Zhang Jian's entry TP-1 contested (a walk over every page may have done it already)."""
    with contextlib.suppress(ContestError):
        open_contest(portal.registry, "traffic-police", "TP-1", grounds="not me", actor=LOCAL)
    return {}


def _verified(portal: Portal) -> dict[str, str]:
    """... and the agency has verified it: the contest waits for a review officer."""
    _contested(portal)
    with contextlib.suppress(ContestError):
        answer_contest(portal.registry, "traffic-police", "TP-1", "verified", actor=AGENCY_ACTOR)
    return {}


def _rejects(portal: Portal) -> dict[str, str]:
    agency = portal.accounts["agency"]
    made = new_rejects_file(portal.registry.database.url, agency.id)
    made.path.write_text("row,reason,message\n", encoding="utf-8")
    return {"token": made.token}


def _events_file() -> dict[str, Any]:
    text = f"agency,event_id,person_id,rule,occurred_on\ntraffic-police,WEB-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(3)}\n"
    return {"file": ("events.csv", io.BytesIO(text.encode()), "text/csv")}


PAGE_REQUESTS: dict[tuple[str, str], Call] = {
    ("GET", "/"): Call(),
    ("GET", "/login"): Call(),
    ("POST", "/login"): Call(data={}),  # filled in by ``call``: a fresh browser logs in
    ("GET", "/language"): Call(params={"to": "zh", "next": "/catalogue"}),
    ("GET", "/static/portal.css"): Call(),
    ("GET", "/catalogue"): Call(),
    ("GET", "/check-a-statement"): Call(),
    ("POST", "/check-a-statement"): Call(data={"token": "SCS1.not.valid"}),
    ("POST", "/logout"): Call(data={}, fresh_session=True),
    ("GET", "/clerk"): Call(),
    ("GET", "/clerk/people/{person_id}"): Call(),
    ("GET", "/clerk/people/{person_id}/statement.pdf"): Call(),
    ("POST", "/clerk/people/{person_id}/contests"): Call(
        data={"entry": "traffic-police/TP-1", "grounds": "he was abroad that day"}
    ),
    ("GET", "/clerk/contests"): Call(),
    ("POST", "/clerk/contests/decide"): Call(
        data={
            "agency": "traffic-police",
            "event_id": "TP-1",
            "decision": "upheld",
            "reason": "the camera shows him",
        },
        setup=_verified,
    ),  # fmt: skip
    ("POST", "/clerk/contests/sweep"): Call(data={}),
    ("GET", "/me"): Call(),
    ("GET", "/me/statement.pdf"): Call(),
    ("GET", "/me/access-log"): Call(),
    ("GET", "/me/notices"): Call(),
    ("POST", "/me/contests"): Call(
        data={"entry": "traffic-police/TP-1", "grounds": "I was abroad that day"}
    ),
    ("GET", "/me/consents"): Call(),
    ("POST", "/me/consents/grant"): Call(data={"organisation": "Weihai Bank", "purpose": "loan"}),
    ("POST", "/me/consents/revoke"): Call(data={"organisation": BANK, "purpose": "promotion"}),
    ("GET", "/agency/contests"): Call(),
    ("POST", "/agency/contests/answer"): Call(
        data={"event_id": "TP-1", "answer": "verified", "reason": "camera 7 shows it"},
        setup=_contested,
    ),
    ("GET", "/agency/upload"): Call(),
    ("POST", "/agency/upload"): Call(data={"encoding": "utf-8"}, files=_events_file),
    ("GET", "/agency/rejects/{token}"): Call(setup=_rejects),
    ("GET", "/verifier"): Call(),
    ("POST", "/verifier"): Call(data={"grant": "0", "person_id": ZHANG_JIAN}),
    ("GET", "/admin"): Call(),
    ("GET", "/admin/plots/grades.png"): Call(),
    ("GET", "/admin/plots/entries.png"): Call(),
    ("GET", "/auditor"): Call(params={"person_id": ZHANG_JIAN}),
}


def _client(portal: Portal, who: str, request: Call) -> Any:
    if not request.fresh_session or who == ANON:
        return portal.client(who)
    client = browser(portal.app)  # logging out must not end the role's shared session
    log_in(client, portal.accounts[who].name, portal.tokens[who])
    return client


def _form_token(portal: Portal, client: Any, who: str, public: bool) -> str:
    """The token a page of this client would have put in the form."""
    if public:
        if not client.cookies.get(FORM_COOKIE):
            client.get("/login")
        return str(client.cookies.get(FORM_COOKIE))
    return "" if who == ANON else portal.session_csrf(client)


def _login(portal: Portal) -> tuple[Any, dict[str, str]]:
    """A fresh browser on the login form, and the form a user fills in (as the clerk)."""
    client = browser(portal.app)
    client.get("/login")
    account = portal.accounts["clerk"]
    token = str(client.cookies.get(FORM_COOKIE))
    return client, {"csrf_token": token, "name": account.name, "token": portal.tokens["clerk"]}


def prepare(portal: Portal, method: str, path: str) -> dict[str, str]:
    """Set up what the page acts on, once per portal (not once per role); its path names."""
    if (method, path) not in portal.prepared:
        setup = PAGE_REQUESTS[(method, path)].setup
        portal.prepared[(method, path)] = setup(portal) if setup else {}
    return portal.prepared[(method, path)]


def call(
    portal: Portal,
    method: str,
    path: str,
    who: str,
    *,
    csrf: str | None = None,
    drop_csrf: bool = False,
    person_id: str = ZHANG_JIAN,
) -> Any:
    """Make the valid request of a page as ``who``; ``csrf`` replaces the form's token and
    ``drop_csrf`` leaves it out."""
    from socialcredit.web.access import PAGE_ACCESS

    request = PAGE_REQUESTS[(method, path)]
    url = path.replace("{person_id}", person_id).format(**prepare(portal, method, path))
    client = _client(portal, who, request)
    if method == "GET":
        return client.get(url, params=request.params)
    if path == "/login":  # logging in would replace the role's session: a fresh browser
        client, data = _login(portal)
    else:
        public = PAGE_ACCESS[(method, path)].public
        data = {**(request.data or {}), "csrf_token": _form_token(portal, client, who, public)}
    if csrf is not None:
        data["csrf_token"] = csrf
    if drop_csrf:
        del data["csrf_token"]
    files = request.files() if request.files else None
    return client.post(url, data=data, files=files, params=request.params)
