"""Contests, answers, decisions, deadlines and withdrawals (issue 4, items 2-3), on both databases.

Deadlines are tested with a second registry on the same database whose pinned clock is later:
no sleeping. Every refusal is checked by its code.
"""

from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import EVENTS_HEADER, LI_NA, ZHANG_JIAN, write_csv

from socialcredit.domain.errors import RefusedError
from socialcredit.services import standing
from socialcredit.services.access import Actor
from socialcredit.services.contests import (
    answer_contest,
    decide_contest,
    get_contest,
    list_contests,
    open_contest,
    sweep_overdue,
)
from socialcredit.services.corrections import withdraw_entry
from socialcredit.services.events import import_events
from socialcredit.services.notices import list_notices
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

LI_NA_SELF = Actor("li-na", "resident", person_id=LI_NA)
TRAFFIC = Actor("traffic-desk", "agency", "Traffic Police", agency="traffic-police")
FORESTRY = Actor("forestry-desk", "agency", "Forestry Bureau", agency="forestry-bureau")
OFFICER = Actor("officer-an-lin", "clerk", "Social Credit Management Office")


@pytest.fixture
def town(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    import_people(registry, people_file)
    import_events(
        registry,
        write_csv(
            tmp_path / "e.csv",
            EVENTS_HEADER,
            [
                f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,camera 7",
                f"traffic-police,T2,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-02,camera 8",
                f"public-security,P1,{LI_NA},PUBLIC-FIGHT,2026-07-01,",
                f"forestry-bureau,F1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,2026-08-01,",
            ],
        ),
    )
    return registry


def _code(call: Callable[[], object]) -> str:
    with pytest.raises(RefusedError) as caught:
        call()
    return caught.value.code


def _statement_entry(registry: Registry, event_id: str) -> dict:
    statement = standing.statement(registry, LI_NA).as_dict()
    return next(e for e in statement["entries"] if e["event_id"] == event_id)


def test_contest_verified_then_overturned_stops_counting(town: Registry):
    assert standing.score(town, LI_NA).score == 1000 - 5 - 5 - 30
    view = open_contest(town, "traffic-police", "T1", grounds="I was abroad", actor=LI_NA_SELF)
    assert (view.state, view.overdue) == ("awaiting-agency", False)
    entry = _statement_entry(town, "T1")
    assert (entry["status"], entry["counts"]) == ("contested", True)  # still counts, flagged
    answer_contest(town, "traffic-police", "T1", "verified", reason="camera photo", actor=TRAFFIC)
    decided = decide_contest(
        town,
        "traffic-police",
        "T1",
        "overturned",
        reason="the photo shows another car",
        actor=OFFICER,
    )
    assert (decided.state, decided.outcome) == ("closed", "overturned")
    entry = _statement_entry(town, "T1")
    assert (entry["status"], entry["counts"], entry["why"]) == ("overturned", False, "overturned")
    # An overturned entry stops counting for every date, also dates before the decision.
    assert standing.score(town, LI_NA, as_of=town.clock.today()).score == 1000 - 5 - 30
    subjects = [notice.subject for notice in list_notices(town, LI_NA)]
    assert any("overturned" in subject for subject in subjects)
    assert any("Contest opened" in subject for subject in subjects)


def test_contest_upheld_returns_the_entry_to_active(town: Registry):
    open_contest(town, "traffic-police", "T2", grounds="not me")
    answer_contest(town, "traffic-police", "T2", "verified", actor=TRAFFIC)
    decide_contest(town, "traffic-police", "T2", "upheld", reason="photo matches", actor=OFFICER)
    assert _statement_entry(town, "T2")["status"] == "active"
    assert standing.score(town, LI_NA).score == 1000 - 5 - 5 - 30


def test_agency_withdraws_in_answer(town: Registry):
    open_contest(town, "public-security", "P1", grounds="there was no fight")
    view = answer_contest(town, "public-security", "P1", "withdrawn", reason="wrong person")
    assert (view.state, view.outcome) == ("closed", "withdrawn")
    score = standing.score(town, LI_NA)
    assert (score.score, score.blacklisted) == (1000 - 10, False)
    assert _statement_entry(town, "P1")["why"] == "withdrawn"


def test_unanswered_contest_is_overturned_after_the_deadline(
    town: Registry, database_url: str, make_registry
):
    open_contest(town, "traffic-police", "T1", grounds="not me")
    assert sweep_overdue(town) == []
    later = make_registry(database_url, [], now="2027-01-15T09:00:00+08:00")
    assert [view.event_id for view in list_contests(later, overdue=True)] == ["T1"]
    swept = sweep_overdue(later)
    assert [(view.event_id, view.outcome) for view in swept] == [("T1", "overturned")]
    assert "did not answer" in get_contest(later, "traffic-police", "T1").steps[-1]["reason"]
    assert _code(lambda: answer_contest(later, "traffic-police", "T1", "verified")) == (
        "wrong-state"
    )
    assert list_contests(later, overdue=True) == []


def test_refusals_name_their_reason(town: Registry):
    assert _code(lambda: open_contest(town, "traffic-police", "NOPE", grounds="x")) == (
        "unknown-entry"
    )
    assert _code(lambda: open_contest(town, "traffic-police", "T1", grounds="  ")) == (
        "missing-grounds"
    )
    stranger = Actor("zhang", "resident", person_id=ZHANG_JIAN)
    assert (
        _code(lambda: open_contest(town, "traffic-police", "T1", grounds="x", actor=stranger))
        == "not-your-record"
    )
    assert _code(lambda: answer_contest(town, "traffic-police", "T1", "verified")) == ("no-contest")
    open_contest(town, "traffic-police", "T1", grounds="x")
    assert _code(lambda: open_contest(town, "traffic-police", "T1", grounds="again")) == (
        "not-contestable"
    )
    assert _code(lambda: answer_contest(town, "traffic-police", "T1", "maybe")) == (
        "invalid-answer"
    )
    assert (
        _code(lambda: answer_contest(town, "traffic-police", "T1", "verified", actor=FORESTRY))
        == "not-your-agency"
    )
    assert (
        _code(
            lambda: decide_contest(
                town, "traffic-police", "T1", "upheld", reason="r", actor=OFFICER
            )
        )
        == "wrong-state"
    )
    assert (
        _code(
            lambda: decide_contest(
                town, "traffic-police", "T1", "overturned", reason="r", actor=TRAFFIC
            )
        )
        == "not-permitted"
    )
    assert (
        _code(
            lambda: decide_contest(
                town, "traffic-police", "T1", "overturned", reason=" ", actor=OFFICER
            )
        )
        == "missing-reason"
    )
    assert (
        _code(lambda: answer_contest(town, "traffic-police", "T1", "corrected", actor=TRAFFIC))
        == "missing-correction"
    )
    assert _code(
        lambda: answer_contest(
            town, "traffic-police", "T1", "corrected", corrected_by="NOPE", actor=TRAFFIC
        )
    ) == ("invalid-correction")


def test_correction_in_answer_withdraws_the_original(town: Registry, tmp_path: Path):
    open_contest(town, "traffic-police", "T1", grounds="it was on 2026-06-03")
    import_events(
        town,
        write_csv(
            tmp_path / "fix.csv",
            EVENTS_HEADER,
            [f"traffic-police,T1-FIX,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-03,camera 7"],
        ),
    )
    view = answer_contest(
        town,
        "traffic-police",
        "T1",
        "corrected",
        corrected_by="T1-FIX",
        reason="date fixed",
        actor=TRAFFIC,
    )
    assert view.outcome == "corrected"
    original = _statement_entry(town, "T1")
    assert (original["status"], original["counts"]) == ("withdrawn", False)
    assert _statement_entry(town, "T1-FIX")["counts"] is True


def test_agency_withdrawal_outside_a_contest(town: Registry):
    result = withdraw_entry(town, "traffic-police", "T2", reason="duplicate ticket", actor=TRAFFIC)
    assert result["status"] == "withdrawn"
    assert _code(lambda: withdraw_entry(town, "traffic-police", "T2", reason="again")) == (
        "not-withdrawable"
    )
    assert (
        _code(lambda: withdraw_entry(town, "traffic-police", "T1", reason="x", actor=FORESTRY))
        == "not-your-agency"
    )
    assert _code(lambda: withdraw_entry(town, "traffic-police", "T1", reason=" ")) == (
        "missing-reason"
    )
    assert _statement_entry(town, "T2")["why"] == "withdrawn"


def test_known_at_before_the_decision_still_sees_the_entry_counting(
    town: Registry, database_url: str, make_registry
):
    open_contest(town, "traffic-police", "T1", grounds="not me")
    answer_contest(town, "traffic-police", "T1", "verified", actor=TRAFFIC)
    before = town.clock.now()
    later = make_registry(database_url, [], now="2026-12-10T09:00:00+08:00")
    decide_contest(later, "traffic-police", "T1", "overturned", reason="no", actor=OFFICER)
    assert standing.score(later, LI_NA).score == 1000 - 5 - 30
    assert standing.score(later, LI_NA, known_at=before).score == 1000 - 10 - 30
