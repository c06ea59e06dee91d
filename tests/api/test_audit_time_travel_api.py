"""The auditors' access-log search over HTTP (issue 4, item 7), and ``known_at`` on score,
statement and checks (item 9): the answer as the registry knew it at a moment."""

from collections.abc import Callable
from typing import Any

import pytest
from tests.api.conftest import API, BANK, TestClient, Town
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN

from socialcredit.api import create_app
from socialcredit.services.access import Actor
from socialcredit.services.corrections import withdraw_entry

SEARCH = f"{API}/audit/access"
POLICE = Actor("ps-desk", "agency", "public-security", agency="public-security")


def test_search_filters_pages_and_logs(make_town: Callable[..., Town]):
    town = make_town(api_max_page_size=1)
    town.get(f"{API}/people/{ZHANG_JIAN}", "clerk", headers={"X-Purpose": "counter enquiry"})
    check = {"person_id": LI_NA, "policy": "management-position", "purpose": "hiring"}
    town.post(f"{API}/checks", "verifier", json=check)

    def search(role: str = "auditor", **params: str) -> Any:
        response = town.get(SEARCH, role, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    found = search(actor="bank-teller")
    assert [(r["person_id"], r["action"]) for r in found["items"]] == [(LI_NA, "check")]
    assert found["items"][0]["organisation"] == BANK and found["next_cursor"] is None
    by_person = search(person=ZHANG_JIAN.lower(), action="score")
    assert by_person["items"][0]["purpose"] == "counter enquiry"
    # Timestamps without an offset are read in the registry's zone (the clock is pinned at noon).
    assert search(since="2026-11-27T12:00", actor="bank-teller")["items"]
    assert search(until="2026-11-27T12:00", actor="bank-teller")["items"] == []
    assert search(since="2026-11-27T04:00Z", actor="bank-teller")["items"]
    # Newest first, a page at a time.
    first = search()
    second = search(cursor=first["next_cursor"])
    assert first["items"][0]["id"] > second["items"][0]["id"]
    # The search is a read of the people shown: the auditor is in their logs now.
    row = town.access_rows(LI_NA)[-1]
    assert (row.actor, row.action, row.purpose) == ("auditor-chen", "access-log",
                                                   "audit of the access log")  # fmt: skip
    search("admin", person=LI_NA, purpose="quarterly review")
    assert town.access_rows(LI_NA)[-1].purpose == "quarterly review"


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"person": "12345"}, 400, "invalid-person-id"),
        ({"since": "yesterday"}, 400, "invalid-input"),
        ({"since": "2026-11-27T12:00", "until": "2026-11-27T11:00"}, 400, "invalid-input"),
        ({"until": "0001-01-01T00:00"}, 400, "invalid-input"),
        ({"cursor": "eyJrIjoiY29udGVzdHMiLCJwIjoxfQ"}, 400, "invalid-cursor"),
        ({"limit": "0"}, 422, "invalid-request"),
    ],
)
def test_search_refusals(town: Town, params: dict[str, str], status: int, code: str):
    assert_error(town.get(SEARCH, "auditor", params=params), status, code)


def test_known_at_answers_as_the_registry_knew_it(
    town_any_db: Town, make_registry: Callable[..., Any]
):
    town = town_any_db
    # A week on, the police withdraw Li Na's fight (recorded 2026-12-04 10:00 in Rongcheng).
    registry = make_registry(town.registry.database.url, [], now="2026-12-04T10:00:00+08:00")
    withdraw_entry(registry, "public-security", "PS-1", reason="wrong person", actor=POLICE)
    client = TestClient(create_app(registry), base_url="https://testserver")
    week_on = Town(registry, client, town.tokens, town.accounts)
    score_url = f"{API}/people/{LI_NA}"

    def score(known_at: str | None = None) -> tuple[int, bool]:
        params = {} if known_at is None else {"known_at": known_at}
        answer = week_on.get(score_url, "clerk", params=params).json()
        return answer["score"], answer["blacklisted"]

    assert score() == (1000, False)
    assert score("2026-12-01") == (970, True)  # a date: its midnight in Rongcheng
    assert score("2026-12-04T09:59:59") == (970, True)  # no offset: Rongcheng time
    assert score("2026-12-04T10:00:00") == (1000, False)
    assert score("2026-12-04T01:59:59Z") == (970, True)
    statement = week_on.get(f"{score_url}/statement", "clerk",
                            params={"known_at": "2026-12-01T08:00"}).json()  # fmt: skip
    fight = next(e for e in statement["entries"] if e["event_id"] == "PS-1")
    assert (fight["status"], fight["counts"], statement["score"]) == ("active", True, 970)
    # What did the employer see on 1 December? "Not eligible", as it was told then.
    check = {"person_id": LI_NA, "policy": "management-position", "purpose": "hiring"}
    then = week_on.post(f"{API}/checks", "verifier", json={**check, "known_at": "2026-12-01"})
    assert then.json()["eligible"] is False
    assert week_on.post(f"{API}/checks", "verifier", json=check).json()["eligible"] is True
    asked = [row for row in week_on.access_rows(LI_NA) if row.action == "check"][-2]
    assert "2026-11-30T16:00:00+00:00" in str(asked.detail)  # known_at logged, in UTC


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "0001-01-01T00:00", "1 Dec"])
def test_invalid_known_at_is_400(town: Town, bad: str):
    url = f"{API}/people/{ZHANG_JIAN}"
    for path in (url, f"{url}/statement"):
        error = assert_error(town.get(path, "clerk", params={"known_at": bad}), 400)
        assert error["code"] == "invalid-input" and "known_at" in error["message"]
    body = {"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
    refused = town.post(f"{API}/checks", "verifier", json={**body, "known_at": bad})
    assert_error(refused, 400, "invalid-input")
