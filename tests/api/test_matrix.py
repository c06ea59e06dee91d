"""Deny by default, tested as a full role x endpoint matrix.

Every route the application serves (read from its route table) x every role and no
credentials -> the expected status. A route added without a line in ``EXPECTED`` (and in
``permissions.ROUTE_ACCESS``) fails ``test_every_route_is_in_the_matrix``.
"""

import pytest
from tests.api.conftest import API, ROLES, Town
from tests.api.requests import REQUESTS, call

from socialcredit.api.auth import route_table
from socialcredit.api.permissions import ROUTE_ACCESS

ANON = "anonymous"
OK, NO, WHO = 200, 403, 401


def _only(*allowed: str) -> dict[str, int]:
    return {ANON: WHO, **{role: OK if role in allowed else NO for role in ROLES}}


PUBLIC = {ANON: OK, **{role: OK for role in ROLES}}

EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", f"{API}/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", f"{API}/catalogue"): PUBLIC,
    ("GET", f"{API}/me"): _only(*ROLES),
    ("POST", f"{API}/events"): _only("agency"),
    ("POST", f"{API}/events/bulk"): _only("agency"),
    ("GET", f"{API}/people/{{person_id}}"): _only("clerk", "resident"),
    ("GET", f"{API}/people/{{person_id}}/statement"): _only("clerk", "resident"),
    ("GET", f"{API}/people/{{person_id}}/access-log"): _only("clerk", "resident", "auditor"),
    ("POST", f"{API}/checks"): _only("verifier"),
    ("GET", f"{API}/stats"): _only("admin", "auditor"),
    ("GET", f"{API}/keys"): PUBLIC,
    ("GET", f"{API}/checkpoints"): PUBLIC,
    ("GET", f"{API}/proofs/consistency"): PUBLIC,
    ("GET", f"{API}/proofs/inclusion"): _only("clerk", "auditor", "admin"),
    ("POST", f"{API}/statements/verify"): _only(*ROLES),
    # Due process. Contests are scoped by the services: a resident's own, an agency's queue.
    ("POST", f"{API}/contests"): _only("clerk", "resident"),
    ("GET", f"{API}/contests"): _only("agency", "clerk", "resident", "auditor"),
    ("GET", f"{API}/contests/{{agency}}/{{event_id}}"): _only(
        "agency", "clerk", "resident", "auditor"
    ),
    ("POST", f"{API}/contests/{{agency}}/{{event_id}}/answer"): _only("agency", "clerk"),
    ("POST", f"{API}/contests/{{agency}}/{{event_id}}/decision"): _only("clerk", "admin"),
    ("POST", f"{API}/contests/sweep"): _only("admin"),
    ("POST", f"{API}/entries/{{agency}}/{{event_id}}/withdraw"): _only("agency"),
    ("GET", f"{API}/people/{{person_id}}/consents"): _only("clerk", "resident"),
    ("POST", f"{API}/people/{{person_id}}/consents"): _only("clerk", "resident"),
    ("POST", f"{API}/people/{{person_id}}/consents/revoke"): _only("clerk", "resident"),
    ("GET", f"{API}/people/{{person_id}}/notices"): _only("clerk", "resident"),
    ("GET", f"{API}/audit/access"): _only("auditor", "admin"),
    ("POST", f"{API}/catalogue/diff"): _only("admin"),
    ("POST", f"{API}/catalogue"): _only("admin"),
}


def test_every_route_is_in_the_matrix(town: Town):
    served = {(method, path) for (method, _endpoint), path in route_table(town.client.app).items()}
    assert served, "the route table is empty: the test would prove nothing"
    assert served == set(EXPECTED), "every route needs its expected answer for every role"
    assert served == set(ROUTE_ACCESS), "every route needs its line in permissions.ROUTE_ACCESS"
    assert served == set(REQUESTS), "every route needs a valid request in tests/api/requests.py"
    for row in EXPECTED.values():
        assert set(row) == {ANON, *ROLES}


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda route: f"{route[0]} {route[1]}")
def test_role_matrix(town: Town, route: tuple[str, str]):
    method, path = route
    answers = {}
    for who in (ANON, *ROLES):
        response = call(town, method, path, None if who == ANON else who)
        answers[who] = response.status_code
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["code"] in ("unauthenticated", "forbidden"), error
        if response.status_code == WHO:
            assert response.headers["www-authenticate"].startswith("Bearer")
    assert answers == EXPECTED[route]


def test_unlisted_route_is_denied_to_everyone(town: Town):
    """A route someone adds without a permission line answers nobody."""
    app = town.client.app

    @app.get("/api/v1/forgotten")
    async def forgotten() -> dict[str, str]:
        return {"secret": "yes"}

    app.state.route_paths = None  # rebuild the route table with the new route
    assert town.get("/api/v1/forgotten").status_code == 401
    for role in ROLES:
        response = town.get("/api/v1/forgotten", role)
        assert response.status_code == 403, role
        assert "secret" not in response.text
