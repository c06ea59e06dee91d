"""Verifiers get an answer, not a record; within their grant; at a bounded rate."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.api.conftest import API, BANK, Town
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN, person

from socialcredit.api.app import create_app
from socialcredit.services.registry import Registry

CHECKS = f"{API}/checks"


def ask(town: Town, person_id: str, policy: str, purpose: str, **extra: str):
    body = {"person_id": person_id, "policy": policy, "purpose": purpose, **extra}
    return town.post(CHECKS, "verifier", json=body)


def test_an_answer_and_nothing_more(town_any_db: Town):
    town = town_any_db
    yes = ask(town, ZHANG_JIAN, "civil-service-promotion", "promotion")
    assert yes.status_code == 200 and yes.json() == {"eligible": True, "reasons": []}
    no = ask(town, LI_NA, "management-position", "hiring").json()
    assert no == {
        "eligible": False,
        "reasons": [{"requirement": "not_blacklisted", "wanted": True, "actual": False}],
    }
    for leak in ("score", "entries", "970", "PUBLIC-FIGHT", "李娜"):
        assert leak not in str(no)
    logged = town.access_rows(LI_NA)[-1]
    assert (logged.actor, logged.role, logged.organisation, logged.action, logged.purpose) == (
        "bank-teller",
        "verifier",
        BANK,
        "check",
        "hiring",
    )


@pytest.mark.parametrize(
    ("policy", "purpose"),
    [
        ("management-position", "promotion"),  # a granted purpose, but of another policy
        ("civil-service-promotion", "hiring"),
        ("civil-service-promotion", "Promotion"),  # purposes match exactly
        ("civil-service-promotion", "promotion and curiosity"),
        ("no-such-policy", "promotion"),
    ],
)
def test_outside_the_grant_is_refused_before_any_read(town: Town, policy: str, purpose: str):
    before = len(town.access_rows(ZHANG_JIAN))
    error = assert_error(ask(town, ZHANG_JIAN, policy, purpose), 403, "not-granted")
    assert {"policy": "civil-service-promotion", "purpose": "promotion"} in error["details"][
        "granted"
    ]
    assert len(town.access_rows(ZHANG_JIAN)) == before


def test_refusals_of_the_question_itself(town: Town):
    assert_error(
        ask(town, "12345", "civil-service-promotion", "promotion"), 400, "invalid-person-id"
    )
    unknown = person(sequence=901)
    assert_error(
        ask(town, unknown, "civil-service-promotion", "promotion"), 404, "unregistered-person"
    )
    assert_error(ask(town, ZHANG_JIAN, "civil-service-promotion", " "), 422, "invalid-request")
    past = ask(town, ZHANG_JIAN, "civil-service-promotion", "promotion", as_of="2020-01-01")
    assert_error(past, 422, "no-catalogue")


def test_a_granted_policy_missing_from_the_catalogue_is_404(town: Town):
    from socialcredit.services import users

    granted = users.Grant("civil-service-promotion", "promotion")
    stale = users.User(
        999, "ghost", "verifier", None, None, "x", town.accounts["verifier"].created_at
    )
    assert not stale.may_check(granted.policy, granted.purpose)  # no grants: refused


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_429_with_retry_after(make_town: Callable[..., Town]):
    clock = FakeClock()
    town = make_town(verifier_checks_per_minute=2, app_options={"rate_clock": clock})
    assert ask(town, ZHANG_JIAN, "civil-service-promotion", "promotion").status_code == 200
    # Refused questions count too: asking is what is limited.
    assert ask(town, ZHANG_JIAN, "civil-service-promotion", "hiring").status_code == 403
    limited = ask(town, LI_NA, "management-position", "hiring")
    error = assert_error(limited, 429, "rate-limited")
    assert "2 checks per minute" in error["message"]
    assert int(limited.headers["retry-after"]) == 30  # one token comes back every 30 s
    assert len([r for r in town.access_rows(LI_NA) if r.action == "check"]) == 0
    clock.now += 29
    assert ask(town, LI_NA, "management-position", "hiring").status_code == 429
    clock.now += 1
    assert ask(town, LI_NA, "management-position", "hiring").status_code == 200
    assert ask(town, LI_NA, "management-position", "hiring").status_code == 429


def test_rate_limit_is_per_account(make_town: Callable[..., Town]):
    from socialcredit.services import users

    town = make_town(verifier_checks_per_minute=1, app_options={"rate_clock": FakeClock()})
    other = users.add_user(
        town.registry,
        "school",
        "verifier",
        organisation=BANK,
        grants=[users.Grant("civil-service-promotion", "promotion")],
    )
    body = {"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
    assert town.post(CHECKS, "verifier", json=body).status_code == 200
    assert town.post(CHECKS, "verifier", json=body).status_code == 429
    second = town.client.post(CHECKS, json=body, headers={"Authorization": f"Bearer {other.token}"})
    assert second.status_code == 200


def test_the_rate_limit_holds_across_server_processes(
    make_town: Callable[..., Town], make_registry: Callable[..., Registry], database_url: str
):
    """Two apps over one database, as ``serve --workers 2`` runs: an account's checks are
    counted once, whichever process answers."""
    clock = FakeClock()
    town = make_town(database_url, verifier_checks_per_minute=2, app_options={"rate_clock": clock})
    other = make_registry(database_url, verifier_checks_per_minute=2)
    second = TestClient(create_app(other, rate_clock=clock), base_url="https://testserver")
    body = {"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
    headers = town.auth("verifier")
    answers = [
        client.post(CHECKS, json=body, headers=headers).status_code
        for client in (town.client, second, town.client, second)
    ]
    second.close()
    assert answers == [200, 200, 429, 429]


def test_without_the_persons_consent_the_check_is_refused(town: Town):
    from socialcredit.services import consent
    from socialcredit.services.access import LOCAL

    consent.revoke_consent(town.registry, LI_NA, BANK, "hiring", LOCAL)
    error = assert_error(ask(town, LI_NA, "management-position", "hiring"), 403, "no-consent")
    assert "eligible" not in error["message"]
    # The attempt is in her access log, so that she sees who tried.
    assert town.access_rows(LI_NA)[-1].action == "check-refused"
