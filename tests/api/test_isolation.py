"""A resident never receives another person's data, whatever way the ID is written."""

import pytest
from tests.api.conftest import Town
from tests.api.requests import call
from tests.conftest import LI_NA, ZHANG_JIAN, person

from socialcredit.api.auth import route_table

UNREGISTERED = person(sequence=555)


def person_routes(town: Town) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for (method, _endpoint), path in route_table(town.client.app).items()
        if "{person_id}" in path
    )


def test_the_person_scoped_routes_are_the_ones_we_think(town: Town):
    assert [(method, path.rsplit("}", 1)[1]) for method, path in person_routes(town)] == [
        ("GET", ""),
        ("GET", "/access-log"),
        ("GET", "/consents"),
        ("GET", "/notices"),
        ("GET", "/statement"),
        ("POST", "/consents"),
        ("POST", "/consents/revoke"),
    ]


@pytest.mark.parametrize(
    "other",
    [LI_NA, LI_NA.lower(), f"  {LI_NA} ", UNREGISTERED, "not-an-id", ZHANG_JIAN[:-1] + "0"],
    ids=["other", "lowercase", "padded", "unregistered", "invalid", "bad-check-char"],
)
def test_resident_gets_nothing_about_anyone_else(town: Town, other: str):
    before = len(town.access_rows(LI_NA))
    for method, path in person_routes(town):
        response = call(town, method, path, "resident", person_id=other)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "not-your-record"
        for secret in ("李娜", LI_NA, "PUBLIC-FIGHT", "score", "grade"):
            assert secret not in response.text, (path, secret)
    # Refused before any lookup: nothing was read, so nothing was logged for her.
    assert len(town.access_rows(LI_NA)) == before


def test_resident_reads_own_record_written_any_way(town: Town):
    for written in (ZHANG_JIAN, ZHANG_JIAN.lower(), f" {ZHANG_JIAN}"):
        for method, path in person_routes(town):
            response = call(town, method, path, "resident", person_id=written)
            assert response.status_code == 200, (written, path, response.text)


def test_resident_may_not_ask_checks_or_stats(town: Town):
    body = {"person_id": LI_NA, "policy": "management-position", "purpose": "hiring"}
    assert town.post("/api/v1/checks", "resident", json=body).status_code == 403
    assert town.get("/api/v1/stats", "resident").status_code == 403
