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


def test_entry_notices_are_stored_as_facts_and_read_as_letters(town: Registry):
    """An import stores an entry notice as its facts only; reading writes the same texts out,
    with the blacklist window, and a merit (positive, no window) gets no notice at all."""
    from sqlalchemy import select

    from socialcredit.domain.invariant import InvariantViolation
    from socialcredit.services.notices import entry_notice_text, stored_texts
    from socialcredit.store.schema import notices

    with town.database.read() as connection:
        stored = connection.execute(select(notices).where(notices.c.person_id == LI_NA)).one()
    assert (stored.kind, stored.subject, stored.body) == ("entry", None, None)
    (notice,) = list_notices(town, LI_NA)
    assert notice.subject == "New entry PUBLIC-FIGHT from public-security / 新的信用记录"
    assert "reported event P1 of 2026-07-01 under rule PUBLIC-FIGHT: -30 points" in notice.body
    assert "blacklisted until 2027-07-01 列入名单至2027-07-01" in notice.body
    assert "grade no better than" not in notice.body  # PUBLIC-FIGHT caps nothing
    assert notice.detail is not None and notice.detail["blacklist_until"] == "2027-07-01"
    assert notice.detail["grade_cap"] is None
    capped = {**notice.detail, "grade_cap": "C", "blacklist_until": None}
    _, body = entry_notice_text(capped)
    assert "grade no better than C while it counts 计分期间等级不高于C" in body
    assert "blacklisted" not in body and "如有异议" in body
    # Only entry notices may be stored without their texts: anything else is a bug.
    with pytest.raises(InvariantViolation, match="only entry notices"):
        stored_texts("contest", None, None, {"agency": "x"})
