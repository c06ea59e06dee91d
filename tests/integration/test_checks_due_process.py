"""Checks by verifiers: consent unless mandated, refused attempts logged, adverse-action notices
(issue 4, items 6 and 8), on both databases."""

from pathlib import Path

import pytest
from tests.conftest import EVENTS_HEADER, FIXTURES, LI_NA, ZHANG_JIAN, write_csv

from socialcredit.domain.errors import RefusedError
from socialcredit.services import standing
from socialcredit.services.access import Actor, list_access
from socialcredit.services.consent import grant_consent, revoke_consent
from socialcredit.services.events import import_events
from socialcredit.services.notices import list_notices
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

BANK = Actor("teller-1", "verifier", "Rongcheng Rural Commercial Bank")
BUREAU = Actor("hr-1", "verifier", "Forestry Bureau")
CLERK = Actor("clerk-1", "clerk", "Social Credit Management Office")


@pytest.fixture
def town(make_registry, database_url: str, people_file: Path, tmp_path: Path) -> Registry:
    registry = make_registry(database_url, [FIXTURES / "example-mandated.yaml"])
    import_people(registry, people_file)
    import_events(
        registry,
        write_csv(
            tmp_path / "e.csv",
            EVENTS_HEADER,
            [f"public-security,P1,{LI_NA},PUBLIC-FIGHT,2026-07-01,"],
        ),
    )
    return registry


def test_verifier_needs_consent_and_a_refused_attempt_is_logged(town: Registry):
    with pytest.raises(RefusedError) as refused:
        standing.check(town, LI_NA, "management-position", purpose="loan", actor=BANK)
    assert refused.value.code == "no-consent"
    ((_id, attempt),) = list_access(town, LI_NA)
    assert (attempt.action, attempt.organisation, attempt.purpose) == (
        "check-refused",
        "Rongcheng Rural Commercial Bank",
        "loan",
    )
    grant_consent(town, LI_NA, "Rongcheng Rural Commercial Bank", "loan", CLERK)
    answer = standing.check(town, LI_NA, "management-position", purpose="loan", actor=BANK)
    assert answer.eligible is False
    with pytest.raises(RefusedError):  # consent is for one purpose only
        standing.check(town, LI_NA, "management-position", purpose="mortgage", actor=BANK)
    revoke_consent(town, LI_NA, "Rongcheng Rural Commercial Bank", "loan", CLERK)
    with pytest.raises(RefusedError):
        standing.check(town, LI_NA, "management-position", purpose="loan", actor=BANK)


def test_mandated_policy_needs_no_consent(town: Registry):
    answer = standing.check(
        town, ZHANG_JIAN, "civil-service-promotion", purpose="promotion", actor=BUREAU
    )
    assert answer.eligible is True
    assert list_notices(town, ZHANG_JIAN) == []


def test_not_eligible_sends_an_adverse_action_notice(town: Registry):
    grant_consent(town, LI_NA, "Forestry Bureau", "hiring", CLERK)
    answer = standing.check(town, LI_NA, "management-position", purpose="hiring", actor=BUREAU)
    assert answer.reasons == ({"requirement": "not_blacklisted", "wanted": True, "actual": False},)
    notice = next(n for n in list_notices(town, LI_NA) if n.kind == "adverse-action")
    assert notice.detail is not None
    assert (notice.detail["verifier"], notice.detail["policy"]) == (
        "Forestry Bureau",
        "management-position",
    )
    assert "contest" in notice.body
