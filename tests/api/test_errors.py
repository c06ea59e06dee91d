"""One JSON error shape everywhere: every route, every kind of failure, never a traceback."""

from pathlib import Path

import pytest
from tests.api.conftest import API, ROLES, TestClient, Town
from tests.api.errors import assert_error
from tests.api.requests import call
from tests.conftest import person

from socialcredit.api.auth import route_table
from socialcredit.api.permissions import ROUTE_ACCESS


def routes(town: Town) -> list[tuple[str, str]]:
    return sorted({(method, path) for (method, _), path in route_table(town.client.app).items()})


def allowed_role(route: tuple[str, str]) -> str | None:
    access = ROUTE_ACCESS[route]
    if access.public:
        return None
    return next(role for role in ROLES if role in access.roles or role in access.self_roles)


def test_unknown_routes(town: Town):
    for method in ("GET", "POST", "DELETE"):
        for path in ("/nope", f"{API}/nope", f"{API}/people", f"{API}/people/x/y/z"):
            assert_error(town.client.request(method, path), 404, "not-found")


def test_wrong_method_on_every_route(town: Town):
    for method, path in routes(town):
        url = path.replace("{person_id}", "371082198403051239")
        wrong = "PUT" if method != "PUT" else "DELETE"
        response = town.client.request(wrong, url, headers=town.auth("admin"))
        assert_error(response, 405, "method-not-allowed")
        assert method in response.headers["allow"]


def test_no_credentials_and_wrong_role_on_every_protected_route(town: Town):
    for route in routes(town):
        access = ROUTE_ACCESS[route]
        if access.public:
            continue
        assert_error(call(town, *route, None), 401, "unauthenticated")
        for refused in [role for role in ROLES if not access.admits(role)][:1]:
            assert_error(call(town, *route, refused), 403, "forbidden")


def test_bad_tokens(town: Town):
    for header in ("Bearer", "Bearer sc_1_short", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000):
        response = town.get(f"{API}/me", headers={"Authorization": header})
        error = assert_error(response, 401)
        assert error["code"] in ("unauthenticated", "invalid-token")
    stolen = town.tokens["clerk"]
    forged = stolen[:-4] + ("AAAA" if not stolen.endswith("AAAA") else "BBBB")
    assert_error(town.get(f"{API}/me", headers={"Authorization": f"Bearer {forged}"}), 401)
    other_id = "sc_999_" + stolen.split("_", 2)[2]
    assert_error(town.get(f"{API}/me", headers={"Authorization": f"Bearer {other_id}"}), 401)


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"events": "x"}', b"", b"\xff\xfe"])
def test_bad_json_on_every_json_route(town: Town, body: bytes):
    # The routes whose documented body is JSON (uploads and forms are tested elsewhere).
    paths = town.get(f"{API}/openapi.json").json()["paths"]
    json_routes = [
        (method, path)
        for method, path in routes(town)
        if "application/json"
        in paths.get(path, {}).get(method.lower(), {}).get("requestBody", {}).get("content", {})
    ]
    assert ("POST", f"{API}/checks") in json_routes and ("POST", f"{API}/events") in json_routes
    for method, path in json_routes:
        response = town.client.request(
            method,
            path,
            content=body,
            headers={**town.auth(allowed_role((method, path))), "content-type": "application/json"},
        )
        error = assert_error(response, 422, "invalid-request")
        assert error["details"]["errors"], error


def test_unknown_fields_are_refused(town: Town):
    body = {"person_id": "x", "policy": "p", "purpose": "q", "score_please": True}
    assert_error(town.post(f"{API}/checks", "verifier", json=body), 422, "invalid-request")


def test_person_routes_refuse_invalid_and_unknown_ids(town: Town):
    person_routes = [route for route in routes(town) if "{person_id}" in route[1]]
    unknown = person(sequence=777)
    for route in person_routes:
        assert_error(call(town, *route, "clerk", person_id="12345"), 400, "invalid-person-id")
        assert_error(call(town, *route, "clerk", person_id=unknown), 404, "unregistered-person")


def test_bad_query_values(town: Town):
    zhang = "371082198403051239"
    assert_error(town.get(f"{API}/people/{zhang}?as_of=yesterday", "clerk"), 422)
    assert_error(town.get(f"{API}/people/{zhang}?as_of=1999-01-01", "clerk"), 422, "no-catalogue")
    assert_error(town.get(f"{API}/people/{zhang}/statement?format=doc", "clerk"), 422)
    assert_error(town.get(f"{API}/people/{zhang}/access-log?limit=0", "clerk"), 422)
    assert_error(
        town.get(f"{API}/people/{zhang}/access-log?cursor=zzz", "clerk"), 400, "invalid-cursor"
    )
    assert_error(town.get(f"{API}/stats?months=0", "admin"), 422)
    assert_error(
        town.get(f"{API}/people/{zhang}", "clerk", params={"purpose": " "}), 422, "invalid-request"
    )


def test_an_unexpected_error_is_500_internal_and_logged(
    town: Town, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    from socialcredit.api.routes import people

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(people.standing, "score", explode)
    # Answer as a server would (the client would otherwise re-raise the server's exception).
    client = TestClient(
        town.client.app, base_url="https://testserver", raise_server_exceptions=False
    )
    response = client.get(f"{API}/people/371082198403051239", headers=town.auth("clerk"))
    error = assert_error(response, 500, "internal")
    assert "secret internals" not in response.text and "RuntimeError" not in response.text
    assert error["details"] == {}
    logged = [
        record
        for record in caplog.records
        if record.name == "socialcredit.api"
        and record.levelname == "ERROR"
        and record.exc_info
        and "secret internals" in str(record.exc_info[1])
    ]
    assert logged, "the server logs what it does not tell the client"


def test_healthz_answers_503_when_the_database_does_not(
    town: Town, monkeypatch: pytest.MonkeyPatch
):
    from socialcredit.api.routes import meta

    assert town.get("/healthz").json() == {"status": "ok", "database": "ok"}
    monkeypatch.setattr(meta, "database_answers", lambda registry: False)
    assert_error(town.get("/healthz"), 503, "unavailable")


def test_a_database_that_went_away_is_503(town: Town, tmp_path: Path):
    """The registry's database is swapped for one that cannot be opened, under the app."""
    from socialcredit.store.db import Database

    (tmp_path / "gone.db").mkdir()  # a folder where the file should be: cannot be opened
    town.registry.database = Database(f"sqlite:///{tmp_path / 'gone.db'}")
    assert_error(town.get("/healthz"), 503, "unavailable")
    error = assert_error(town.get(f"{API}/people/371082198403051239", "clerk"), 503, "unavailable")
    assert "database" in error["message"]
