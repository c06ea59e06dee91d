"""Consent and purpose (issue 4, item 6): a verifier checks a person only with that person's
consent for that organisation and purpose, unless the policy is mandated.

The state of a consent is its latest append-only row; every refusal is checked by its code.
"""

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import LI_NA, NOW, ZHANG_JIAN, person
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.domain.errors import SocialCreditError
from socialcredit.domain.policy import find_policy
from socialcredit.services.access import Actor, list_access
from socialcredit.services.consent import (
    grant_consent,
    has_consent,
    list_consents,
    require_consent,
    revoke_consent,
)
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store.schema import consents

BANK = "Rongcheng Rural Commercial Bank"
LOAN = "loan application"
TELLER = Actor("bank-teller-7", "verifier", BANK)
CLERK = Actor("clerk-1", "clerk", "Social Credit Management Office")
ZHANG = Actor("zhang", "resident", person_id=ZHANG_JIAN)


def _code(call: Callable[[], Any]) -> str:
    with pytest.raises(SocialCreditError) as refusal:
        call()
    return refusal.value.code


@pytest.fixture
def people(registry: Registry, people_file: Path) -> Registry:
    import_people(registry, people_file)
    return registry


def _rows(registry: Registry) -> int:
    with registry.database.read() as connection:
        return int(connection.execute(select(func.count()).select_from(consents)).scalar_one())


def test_grant_then_revoke_the_latest_row_wins(people: Registry):
    granted = grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert (granted.action, granted.status) == ("grant", "recorded")
    assert has_consent(people, ZHANG_JIAN, BANK, LOAN)
    assert not has_consent(people, ZHANG_JIAN, BANK, "mortgage")
    assert not has_consent(people, ZHANG_JIAN, "Another Bank", LOAN)
    assert not has_consent(people, LI_NA, BANK, LOAN)
    revoked = revoke_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert (revoked.action, revoked.status) == ("revoke", "recorded")
    assert not has_consent(people, ZHANG_JIAN, BANK, LOAN)
    again = grant_consent(people, ZHANG_JIAN, BANK, LOAN, CLERK)
    assert again.status == "recorded" and has_consent(people, ZHANG_JIAN, BANK, LOAN)
    assert _rows(people) == 3  # append-only: every change is a row


def test_repeating_a_change_changes_nothing(people: Registry):
    grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG).status == "unchanged"
    revoke_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert revoke_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG).status == "unchanged"
    assert _rows(people) == 2


def test_revoking_a_consent_never_given_is_refused(people: Registry):
    grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    code = _code(lambda: revoke_consent(people, ZHANG_JIAN, "Rongcheng Rural Bank", LOAN, ZHANG))
    assert code == "not-found"
    assert has_consent(people, ZHANG_JIAN, BANK, LOAN)


def test_organisation_and_purpose_match_after_white_space_is_tidied(people: Registry):
    grant_consent(
        people, ZHANG_JIAN, "  Rongcheng Rural\n Commercial  Bank ", " loan   application", ZHANG
    )
    assert has_consent(people, ZHANG_JIAN, BANK, LOAN)
    assert [(c.organisation, c.purpose) for c in list_consents(people, ZHANG_JIAN)] == [
        (BANK, LOAN)
    ]


def test_consent_is_known_as_of_a_moment(database_url: str, people: Registry):
    grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)  # at NOW
    later = Registry.open(database_url, load_settings({}, now="2026-12-01T09:00:00+08:00"))
    try:
        revoke_consent(later, ZHANG_JIAN, BANK, LOAN, ZHANG)
        before, between = (
            later.clock.create("Asia/Shanghai", text).now()
            for text in ("2026-11-27T11:59:59+08:00", "2026-11-30T00:00:00+08:00")
        )
        assert not has_consent(later, ZHANG_JIAN, BANK, LOAN, at=before)
        assert has_consent(later, ZHANG_JIAN, BANK, LOAN, at=between)
        assert not has_consent(later, ZHANG_JIAN, BANK, LOAN)
    finally:
        later.close()


def test_list_shows_current_state_and_is_logged(people: Registry):
    grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    grant_consent(people, ZHANG_JIAN, BANK, "mortgage", ZHANG)
    revoke_consent(people, ZHANG_JIAN, BANK, "mortgage", CLERK)
    listed = list_consents(people, ZHANG_JIAN, actor=CLERK, purpose="resident asked at the hall")
    assert [c.as_dict() | {"since": None} for c in listed] == [
        {
            "organisation": BANK,
            "purpose": LOAN,
            "state": "granted",
            "since": None,
            "actor": "zhang",
        },
        {
            "organisation": BANK,
            "purpose": "mortgage",
            "state": "revoked",
            "since": None,
            "actor": "clerk-1",
        },
    ]
    [(_, access)] = list_access(people, ZHANG_JIAN)
    assert (access.actor, access.action, access.purpose) == (
        "clerk-1",
        "consents",
        "resident asked at the hall",
    )


def test_only_the_person_or_the_office_records_consent(people: Registry):
    assert _code(lambda: grant_consent(people, ZHANG_JIAN, BANK, LOAN, TELLER)) == "not-allowed"
    auditor = Actor("audit-1", "auditor")
    assert _code(lambda: grant_consent(people, ZHANG_JIAN, BANK, LOAN, auditor)) == "not-allowed"
    li_na = Actor("lina", "resident", person_id=LI_NA)
    assert _code(lambda: grant_consent(people, ZHANG_JIAN, BANK, LOAN, li_na)) == "not-allowed"
    assert _code(lambda: revoke_consent(people, ZHANG_JIAN, BANK, LOAN, li_na)) == "not-allowed"
    assert _rows(people) == 0


def test_refusals_of_bad_people_and_bad_text(people: Registry):
    nobody = person(sequence=9)
    assert _code(lambda: grant_consent(people, nobody, BANK, LOAN, CLERK)) == "unregistered-person"
    assert _code(lambda: grant_consent(people, "12345", BANK, LOAN, CLERK)) == "invalid-person-id"
    assert _code(lambda: grant_consent(people, ZHANG_JIAN, "  ", LOAN, CLERK)) == "invalid-input"
    assert (
        _code(lambda: grant_consent(people, ZHANG_JIAN, BANK, "x" * 201, CLERK)) == "invalid-input"
    )
    assert _code(lambda: list_consents(people, nobody)) == "unregistered-person"
    assert _rows(people) == 0


def test_require_consent_for_verifiers(people: Registry):
    policy = find_policy(people.in_force(people.clock.today()), "management-position")
    refuse = lambda actor, purpose=LOAN: _code(  # noqa: E731
        lambda: require_consent(people, actor, ZHANG_JIAN, policy, purpose)
    )
    assert refuse(TELLER) == "no-consent"
    grant_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert require_consent(people, TELLER, ZHANG_JIAN, policy, LOAN) == "consent"
    assert refuse(TELLER, "mortgage") == "no-consent"  # another purpose
    assert refuse(Actor("other", "verifier", "Weihai City Bank")) == "no-consent"
    assert refuse(Actor("orphan", "verifier", None)) == "no-consent"
    revoke_consent(people, ZHANG_JIAN, BANK, LOAN, ZHANG)
    assert refuse(TELLER) == "no-consent"
    # The person and the office ask without consent; the answer says on what basis.
    assert require_consent(people, ZHANG, ZHANG_JIAN, policy, LOAN) == "not-a-verifier"
    assert require_consent(people, CLERK, ZHANG_JIAN, policy, LOAN) == "not-a-verifier"


def test_a_mandated_policy_needs_no_consent(people: Registry):
    catalogue = people.in_force(people.clock.today())
    promotion = find_policy(catalogue, "civil-service-promotion")
    bureau = Actor("hr-1", "verifier", "Forestry Bureau")
    assert not promotion.mandated
    assert _code(lambda: require_consent(people, bureau, ZHANG_JIAN, promotion, "promotion")) == (
        "no-consent"
    )
    mandated = replace(promotion, mandated=True)
    assert require_consent(people, bureau, ZHANG_JIAN, mandated, "promotion") == "mandated"


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def cli(
    sqlite_registry: Registry,
    people_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    import_people(sqlite_registry, people_file)
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    return runner(capsys, sqlite_registry.database.url)


def test_cli_grant_list_revoke(cli: Callable[..., Run]):
    granted = cli("consent", "grant", ZHANG_JIAN, BANK, LOAN, "--json")
    assert granted.code == 0
    assert granted.document == {
        "id": ZHANG_JIAN,
        "organisation": BANK,
        "purpose": LOAN,
        "action": "grant",
        "status": "recorded",
    }
    listed = cli("consent", "list", ZHANG_JIAN, "--json")
    assert listed.code == 0
    [row] = listed.document["consents"]
    assert (row["organisation"], row["purpose"], row["state"]) == (BANK, LOAN, "granted")
    assert row["actor"].startswith("cli:")
    revoked = cli("consent", "revoke", ZHANG_JIAN, BANK, LOAN, "--json")
    assert revoked.code == 0 and revoked.document["status"] == "recorded"
    human = cli("consent", "list", ZHANG_JIAN)
    assert human.code == 0 and "revoked" in human.out


def test_cli_refusals(cli: Callable[..., Run]):
    refused(cli("consent", "revoke", ZHANG_JIAN, BANK, LOAN, "--json"), 1, "not-found")
    refused(
        cli("consent", "grant", person(sequence=9), BANK, LOAN, "--json"), 1, "unregistered-person"
    )
    refused(cli("consent", "grant", ZHANG_JIAN, " ", LOAN, "--json"), 2, "invalid-input")
