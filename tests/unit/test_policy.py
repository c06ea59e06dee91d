"""Policy checks in ``socialcredit.domain.policy``: a verifier gets yes/no with reasons.

How: the policies of the DESIGN.md example catalogue (plus one without requirements) are checked
against hand-made standings; each unmet requirement must come back as exactly one reason
``{"requirement", "wanted", "actual"}`` with the documented values. ``find_policy`` must refuse an
unknown code with ``UnknownPolicyError`` (code ``unknown-policy``). A hypothesis property checks
every grade / blacklist / requirement combination against the rule written out here.
"""

import json
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.catalogue import Catalogue, Policy, parse_catalogue
from socialcredit.domain.errors import RefusedError, UnknownPolicyError
from socialcredit.domain.policy import Answer, Reason, check_policy, find_policy
from socialcredit.domain.scoring import Entry, Standing, standing_on

GRADES = ("AAA", "AA", "A+", "A", "B", "C", "D")


def _document(policies: list[dict[str, Any]]) -> dict[str, Any]:
    mins = (1050, 1030, 1010, 960, 850, 600)
    grades: list[dict[str, Any]] = [
        {"grade": g, "min": m} for g, m in zip(GRADES, mins, strict=False)
    ]
    grades.append({"grade": "D"})
    return {
        "version": "2026.1",
        "effective_from": "2026-01-01",
        "base_score": 1000,
        "grades": grades,
        "agencies": [{"code": "public-security", "name": "Public Security Bureau"}],
        "rules": [],
        "policies": policies,
    }


CATALOGUE: Catalogue = parse_catalogue(
    _document(
        [
            {
                "code": "civil-service-promotion",
                "title": "Promotion in the civil service",
                "requires": {"min_grade": "A"},
            },
            {
                "code": "management-position",
                "title": "Appointment to a management position",
                "requires": {"min_grade": "C", "not_blacklisted": True},
            },
            {
                "code": "deposit-free-rental",
                "title": "Deposit-free bike rental",
                "requires": {"not_blacklisted": True},
            },
            {"code": "library-card", "title": "Library card"},
            {"code": "explicitly-open", "title": "Open to all", "requires": {}},
        ]
    )
)
PROMOTION = CATALOGUE.policies["civil-service-promotion"]
MANAGEMENT = CATALOGUE.policies["management-position"]
RENTAL = CATALOGUE.policies["deposit-free-rental"]
LIBRARY = CATALOGUE.policies["library-card"]


def standing(grade: str, blacklisted: bool = False, score: int = 1000) -> Standing:
    return Standing(
        as_of=date(2026, 3, 1),
        catalogue_version="2026.1",
        base_score=1000,
        score=score,
        grade=grade,
        blacklisted=blacklisted,
        points_counted=score - 1000,
    )


# --- min_grade --------------------------------------------------------------------------------


@pytest.mark.parametrize("grade", ["AAA", "AA", "A+", "A"])
def test_min_grade_met(grade: str) -> None:
    answer = check_policy(CATALOGUE, PROMOTION, standing(grade))
    assert answer == Answer(policy="civil-service-promotion", eligible=True, reasons=())


@pytest.mark.parametrize("grade", ["B", "C", "D"])
def test_min_grade_unmet_gives_one_reason(grade: str) -> None:
    answer = check_policy(CATALOGUE, PROMOTION, standing(grade))
    assert answer.policy == "civil-service-promotion"
    assert answer.eligible is False
    assert answer.reasons == (Reason("min_grade", "A", grade),)
    assert answer.reasons[0].as_dict() == {
        "requirement": "min_grade",
        "wanted": "A",
        "actual": grade,
    }


def test_min_grade_compares_by_position_not_by_text() -> None:
    # "A+" sorts after "A" as text but is the better grade.
    assert check_policy(CATALOGUE, PROMOTION, standing("A+")).eligible
    assert not check_policy(CATALOGUE, PROMOTION, standing("B")).eligible


# --- not_blacklisted --------------------------------------------------------------------------


def test_not_blacklisted_met() -> None:
    assert check_policy(CATALOGUE, RENTAL, standing("D", blacklisted=False)).eligible


def test_not_blacklisted_unmet_gives_its_reason() -> None:
    answer = check_policy(CATALOGUE, RENTAL, standing("AAA", blacklisted=True))
    assert answer.eligible is False
    assert answer.reasons == (Reason("not_blacklisted", True, False),)
    as_dict = answer.reasons[0].as_dict()
    assert as_dict == {"requirement": "not_blacklisted", "wanted": True, "actual": False}
    assert as_dict["wanted"] is True and as_dict["actual"] is False  # booleans, not strings
    assert json.dumps(as_dict) == (
        '{"requirement": "not_blacklisted", "wanted": true, "actual": false}'
    )


# --- combinations -----------------------------------------------------------------------------


def test_both_unmet_gives_two_reasons_in_order() -> None:
    answer = check_policy(CATALOGUE, MANAGEMENT, standing("D", blacklisted=True, score=500))
    assert answer.eligible is False
    assert [reason.as_dict() for reason in answer.reasons] == [
        {"requirement": "min_grade", "wanted": "C", "actual": "D"},
        {"requirement": "not_blacklisted", "wanted": True, "actual": False},
    ]


@pytest.mark.parametrize(
    ("grade", "blacklisted", "requirements"),
    [
        ("C", False, []),
        ("C", True, ["not_blacklisted"]),
        ("D", False, ["min_grade"]),
        ("AAA", True, ["not_blacklisted"]),
    ],
)
def test_management_position_each_requirement_separately(
    grade: str, blacklisted: bool, requirements: list[str]
) -> None:
    answer = check_policy(CATALOGUE, MANAGEMENT, standing(grade, blacklisted))
    assert [reason.requirement for reason in answer.reasons] == requirements
    assert answer.eligible is (not requirements)


@pytest.mark.parametrize("code", ["library-card", "explicitly-open"])
@pytest.mark.parametrize(("grade", "blacklisted"), [("D", True), ("AAA", False), ("C", True)])
def test_no_requirements_means_eligible(code: str, grade: str, blacklisted: bool) -> None:
    answer = check_policy(CATALOGUE, CATALOGUE.policies[code], standing(grade, blacklisted))
    assert answer == Answer(policy=code, eligible=True, reasons=())


def test_check_on_a_computed_standing() -> None:
    fight = Entry(
        agency="public-security",
        event_id="1",
        person_id="11010519491231002X",
        rule="PUBLIC-FIGHT",
        occurred_on=date(2026, 2, 1),
        catalogue_version="2026.1",
        points=-30,
        counts_until=date(2027, 2, 1),
        blacklist_until=date(2027, 2, 1),
    )
    computed = standing_on(CATALOGUE, [fight], date(2026, 3, 1))
    assert (computed.score, computed.grade, computed.blacklisted) == (970, "A", True)
    assert check_policy(CATALOGUE, PROMOTION, computed).eligible
    management = check_policy(CATALOGUE, MANAGEMENT, computed)
    assert management.reasons == (Reason("not_blacklisted", True, False),)


# --- find_policy ------------------------------------------------------------------------------


def test_find_policy_known() -> None:
    assert find_policy(CATALOGUE, "civil-service-promotion") is PROMOTION


@pytest.mark.parametrize(
    "code", ["promotion", "", "CIVIL-SERVICE-PROMOTION", " civil-service-promotion"]
)
def test_find_policy_unknown_refused(code: str) -> None:
    with pytest.raises(UnknownPolicyError) as caught:
        find_policy(CATALOGUE, code)
    error = caught.value
    assert isinstance(error, RefusedError)
    assert error.code == "unknown-policy"
    assert repr(code) in error.message
    assert "2026.1" in error.message
    assert "civil-service-promotion" in error.message  # names the known ones


def test_find_policy_in_a_catalogue_without_policies() -> None:
    empty = parse_catalogue(_document([]))
    with pytest.raises(UnknownPolicyError, match=r"known: none") as caught:
        find_policy(empty, "civil-service-promotion")
    assert caught.value.code == "unknown-policy"


# --- property ---------------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(
    grade=st.sampled_from(GRADES),
    blacklisted=st.booleans(),
    min_grade=st.none() | st.sampled_from(GRADES),
    not_blacklisted=st.booleans(),
)
def test_property_reasons_are_exactly_the_unmet_requirements(
    grade: str, blacklisted: bool, min_grade: str | None, not_blacklisted: bool
) -> None:
    policy = Policy("p", "P", min_grade=min_grade, not_blacklisted=not_blacklisted)
    answer = check_policy(CATALOGUE, policy, standing(grade, blacklisted))
    expected: list[dict[str, Any]] = []
    if min_grade is not None and GRADES.index(grade) > GRADES.index(min_grade):
        expected.append({"requirement": "min_grade", "wanted": min_grade, "actual": grade})
    if not_blacklisted and blacklisted:
        expected.append({"requirement": "not_blacklisted", "wanted": True, "actual": False})
    assert [reason.as_dict() for reason in answer.reasons] == expected
    assert answer.eligible is (not expected)
    assert answer.policy == "p"
