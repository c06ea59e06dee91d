"""Consents and notices over HTTP (issue 4, items 1 and 6): the person or a clerk grants and
revokes, and the verifier's check follows; notices are listed newest first, paged."""

from collections.abc import Callable

from tests.api.conftest import API, BANK, Town
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN

CHECK = {"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
PROMOTION = {"organisation": BANK, "purpose": "promotion"}


def consents(town: Town, role: str = "resident") -> list[tuple[str, str, str]]:
    page = town.get(f"{API}/people/{ZHANG_JIAN}/consents", role).json()
    return [(c["organisation"], c["purpose"], c["state"]) for c in page["items"]]


def test_revoke_then_grant_decides_the_verifiers_check(town_any_db: Town):
    town = town_any_db
    url = f"{API}/people/{ZHANG_JIAN}/consents"
    assert town.post(f"{API}/checks", "verifier", json=CHECK).status_code == 200
    revoked = town.post(f"{url}/revoke", "resident", json=PROMOTION)
    assert revoked.json() == {"id": ZHANG_JIAN, **PROMOTION, "action": "revoke",
                              "status": "recorded"}  # fmt: skip
    assert (BANK, "promotion", "revoked") in consents(town)
    assert_error(town.post(f"{API}/checks", "verifier", json=CHECK), 403, "no-consent")
    # The clerk enters the signed form again; white space in a form does not matter.
    granted = town.post(url, "clerk", json={"organisation": f" {BANK}\n", "purpose": "promotion"})
    assert (granted.json()["status"], granted.json()["organisation"]) == ("recorded", BANK)
    again = town.post(url, "resident", json=PROMOTION)
    assert again.json()["status"] == "unchanged"
    answer = town.post(f"{API}/checks", "verifier", json=CHECK)
    assert answer.json() == {"eligible": True, "reasons": []}


def test_consent_refusals(town: Town):
    url = f"{API}/people/{ZHANG_JIAN}/consents"
    never = {"organisation": "Weihai Housing Office", "purpose": "tenancy"}
    assert_error(town.post(f"{url}/revoke", "resident", json=never), 404, "not-found")
    assert_error(town.post(url, "resident", json={"organisation": " ", "purpose": "x"}), 422)
    assert_error(town.post(url, "resident", json={"organisation": "x"}), 422, "invalid-request")
    other = f"{API}/people/{LI_NA}/consents"
    assert_error(town.post(other, "resident", json=never), 403, "not-your-record")
    assert_error(town.post(other, "verifier", json=never), 403, "forbidden")


def test_consents_page(make_town: Callable[..., Town]):
    town = make_town(api_max_page_size=1)
    url = f"{API}/people/{ZHANG_JIAN}/consents"
    first = town.get(url, "clerk").json()
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = town.get(url, "clerk", params={"cursor": first["next_cursor"]}).json()
    assert second["next_cursor"] is None
    assert [c["purpose"] for c in first["items"] + second["items"]] == ["hiring", "promotion"]


def test_notices_newest_first_paged_and_logged(make_town: Callable[..., Town]):
    town = make_town(api_max_page_size=1)
    # An ineligible answer makes an adverse-action notice, after the entry's own.
    body = {"person_id": LI_NA, "policy": "management-position", "purpose": "hiring"}
    assert town.post(f"{API}/checks", "verifier", json=body).json()["eligible"] is False
    url = f"{API}/people/{LI_NA}/notices"
    first = town.get(url, "clerk").json()
    assert [n["kind"] for n in first["items"]] == ["adverse-action"]
    assert first["items"][0]["deliveries"] == [] and first["next_cursor"]
    second = town.get(url, "clerk", params={"cursor": first["next_cursor"]}).json()
    assert [n["kind"] for n in second["items"]] == ["entry"]
    assert "PUBLIC-FIGHT" in second["items"][0]["body"] and second["next_cursor"] is None
    rows = [row for row in town.access_rows(LI_NA) if row.action == "notices"]
    assert [(row.actor, row.purpose) for row in rows] == [("clerk-wang", "office enquiry")] * 2
    assert_error(town.get(url, "clerk", params={"cursor": "e30"}), 400, "invalid-cursor")
    mine = town.get(f"{API}/people/{ZHANG_JIAN}/notices", "resident").json()["items"]
    assert {n["person_id"] for n in mine} == {ZHANG_JIAN}
