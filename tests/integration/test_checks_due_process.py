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


def test_entry_notices_name_their_entry_and_are_read_as_letters(town: Registry):
    """An import stores an entry notice as a reference to its entry only; reading writes the
    texts out from the entry, with the blacklist window."""
    from sqlalchemy import select

    from socialcredit.domain.invariant import InvariantViolation
    from socialcredit.services.notices import entry_notice_text, stored_texts
    from socialcredit.store.schema import entries, notices

    with town.database.read() as connection:
        stored = connection.execute(select(notices).where(notices.c.person_id == LI_NA)).one()
        entry_id = connection.execute(
            select(entries.c.id).where(entries.c.event_id == "P1")
        ).scalar_one()
    assert (stored.kind, stored.subject, stored.body, stored.detail) == ("entry", None, None, None)
    assert stored.entry_id == entry_id
    (notice,) = list_notices(town, LI_NA)
    assert notice.subject == "New entry PUBLIC-FIGHT from public-security / 新的信用记录"
    assert "reported event P1 of 2026-07-01 under rule PUBLIC-FIGHT: -30 points" in notice.body
    assert "blacklisted until 2027-07-01 列入名单至2027-07-01" in notice.body
    assert "grade no better than" not in notice.body  # PUBLIC-FIGHT caps nothing
    assert notice.detail is not None and notice.detail["blacklist_until"] == "2027-07-01"
    assert notice.detail["grade_cap"] is None and notice.detail["catalogue_version"]
    capped = {**notice.detail, "grade_cap": "C", "blacklist_until": None}
    _, body = entry_notice_text(capped)
    assert "grade no better than C while it counts 计分期间等级不高于C" in body
    assert "blacklisted" not in body and "如有异议" in body
    # Only entry notices may be stored without their texts: anything else is a bug.
    with pytest.raises(InvariantViolation, match="only entry notices"):
        stored_texts("contest", None, None, {"agency": "x"})


def test_each_adverse_entry_of_a_batch_gets_a_notice_naming_it(
    make_registry, database_url: str, people_file: Path, tmp_path: Path
):
    """Many entries in one batch, some duplicates, some positive: every negative one has one
    notice with its own entry id, also when the batch had to be settled against the store."""
    from sqlalchemy import select

    from socialcredit.store.schema import entries, notices

    registry = make_registry(database_url)
    import_people(registry, people_file)
    first = [f"traffic-police,T{n},{LI_NA},TRAFFIC-RED-LIGHT,2026-06-{n:02d}," for n in (1, 3)]
    import_events(registry, write_csv(tmp_path / "a.csv", EVENTS_HEADER, first))
    rows = [
        *first,  # duplicates now: the batch is settled against the store
        *(f"traffic-police,T{n},{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-06-{n:02d}," for n in (2, 4)),
        f"forestry-bureau,F1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,2026-06-05,",
    ]
    result = import_events(registry, write_csv(tmp_path / "b.csv", EVENTS_HEADER, rows))
    assert (result.accepted, result.duplicates) == (3, 2)
    with registry.database.read() as connection:
        ids = dict(connection.execute(select(entries.c.event_id, entries.c.id)).all())
        noticed = connection.execute(select(notices.c.person_id, notices.c.entry_id)).all()
    assert sorted(noticed) == sorted(
        [(LI_NA, ids["T1"]), (LI_NA, ids["T3"]), (ZHANG_JIAN, ids["T2"]), (ZHANG_JIAN, ids["T4"])]
    )
    texts = {n.detail["event_id"]: n.body for n in list_notices(registry, ZHANG_JIAN) if n.detail}
    assert set(texts) == {"T2", "T4"} and "2026-06-04" in texts["T4"]


def test_a_person_sees_their_own_notices_of_every_kind_newest_first_and_no_one_elses(
    town: Registry, tmp_path: Path
):
    """Entry notices are found through the person's entries, the others by person: together,
    newest first, paged, and never another person's (both indexes, both databases)."""
    grant_consent(town, LI_NA, "Forestry Bureau", "hiring", CLERK)
    standing.check(town, LI_NA, "management-position", purpose="hiring", actor=BUREAU)
    later = [
        f"traffic-police,T9,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-07-02,",
        f"traffic-police,T8,{LI_NA},TRAFFIC-RED-LIGHT,2026-07-03,",
    ]
    import_events(town, write_csv(tmp_path / "later.csv", EVENTS_HEADER, later))
    li_na = list_notices(town, LI_NA)
    assert [(n.kind, (n.detail or {}).get("event_id")) for n in li_na] == [
        ("entry", "T8"),
        ("adverse-action", None),
        ("entry", "P1"),
    ]
    assert {n.person_id for n in li_na} == {LI_NA}
    assert [n.id for n in li_na] == sorted((n.id for n in li_na), reverse=True)
    zhang = list_notices(town, ZHANG_JIAN)
    assert [(n.kind, n.detail and n.detail["event_id"]) for n in zhang] == [("entry", "T9")]
    first = list_notices(town, LI_NA, limit=2)
    rest = list_notices(town, LI_NA, limit=2, before_id=first[-1].id)
    assert [n.id for n in first + rest] == [n.id for n in li_na]
    if town.database.is_sqlite:  # the plan, not a time: no notice is found by a scan
        from socialcredit.services.notices import _person_notices

        with town.database.read() as connection:
            query = _person_notices(connection, LI_NA, None).limit(5)
            sql = str(query.compile(connection, compile_kwargs={"literal_binds": True}))
            plan = [row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
        assert not any(step.startswith("SCAN notices") for step in plan), plan
