"""The catalogue model and its validation in ``socialcredit.domain.catalogue``.

How: the example catalogue of DESIGN.md section 3 is copied here as YAML text and read with
``yaml.safe_load`` (as the loader adapter does). Each test changes one thing in a fresh copy and
checks that ``parse_catalogue`` either accepts it or refuses it with a problem line that names the
place (``rules[0] (TRAFFIC-RED-LIGHT): points``) and the stable part of the reason. Also covered:
``check_successor`` (the rules for loading a later version), grade bands at their boundaries, the
digest of equal documents, and a hypothesis property that no damaged document makes the parser
fail with anything other than ``CatalogueInvalidError``.
"""

import copy
from datetime import date, datetime
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.domain.catalogue import Band, Catalogue, check_successor, parse_catalogue
from socialcredit.domain.durations import parse_duration
from socialcredit.domain.errors import CatalogueInvalidError, InputError

EXAMPLE_YAML = """\
version: "2026.1"
effective_from: 2026-01-01
base_score: 1000
grades:
  - {grade: AAA, min: 1050}
  - {grade: AA, min: 1030}
  - {grade: A+, min: 1010}
  - {grade: A, min: 960}
  - {grade: B, min: 850}
  - {grade: C, min: 600}
  - {grade: D}
agencies:
  - {code: traffic-police, name: Municipal Traffic Police Brigade}
  - {code: forestry-bureau, name: Forestry Bureau}
  - {code: public-security, name: Public Security Bureau}
rules:
  - code: TRAFFIC-RED-LIGHT
    title: Running a red light
    category: traffic
    points: -5
    counts_for: P1Y
    reporters: [traffic-police]
    legal_basis: Road Traffic Safety Law, art. 38 and 90
  - code: PUBLIC-FIGHT
    title: Fighting in a public place
    category: public-order
    points: -30
    counts_for: P1Y
    blacklist_for: P1Y
    reporters: [public-security]
    legal_basis: Public Security Administration Punishments Law, art. 26
  - code: WORK-MERIT-ANNUAL
    title: Annual performance rated excellent
    category: public-service
    points: 20
    counts_for: P1Y
    reporters: [forestry-bureau]
    legal_basis: Civil Servants Law, art. 35
    applies_to: public-servants
policies:
  - code: civil-service-promotion
    title: Promotion in the civil service
    requires: {min_grade: A}
  - code: management-position
    title: Appointment to a management position
    requires: {min_grade: C, not_blacklisted: true}
"""

RED = "rules[0] (TRAFFIC-RED-LIGHT)"
FIGHT = "rules[1] (PUBLIC-FIGHT)"
PROMOTION = "policies[0] (civil-service-promotion)"


def example() -> dict[str, Any]:
    """A fresh, mutable copy of the DESIGN.md example document."""
    document = yaml.safe_load(EXAMPLE_YAML)
    assert isinstance(document, dict)
    return document


def problems_of(document: object) -> list[str]:
    """The problem lines ``parse_catalogue`` refuses ``document`` with (it must refuse it)."""
    with pytest.raises(CatalogueInvalidError) as caught:
        parse_catalogue(document)
    assert caught.value.problems, "a refusal must say why"
    return caught.value.problems


def assert_problem(document: object, *needles: str) -> list[str]:
    """Refused, and one problem line contains every needle."""
    problems = problems_of(document)
    assert any(all(needle in line for needle in needles) for line in problems), problems
    return problems


def with_yaml(text: str) -> dict[str, Any]:
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


# --- the example loads ------------------------------------------------------------------------


def test_example_catalogue_loads() -> None:
    catalogue = parse_catalogue(example())
    assert catalogue.version == "2026.1"
    assert catalogue.effective_from == date(2026, 1, 1)
    assert catalogue.base_score == 1000
    assert catalogue.grades == ("AAA", "AA", "A+", "A", "B", "C", "D")
    assert catalogue.bands[0] == Band("AAA", 1050)
    assert catalogue.bands[-1] == Band("D", None)
    assert set(catalogue.agencies) == {"traffic-police", "forestry-bureau", "public-security"}
    assert catalogue.agencies["traffic-police"].name == "Municipal Traffic Police Brigade"
    assert list(catalogue.rules) == ["TRAFFIC-RED-LIGHT", "PUBLIC-FIGHT", "WORK-MERIT-ANNUAL"]


def test_example_rules_carry_their_fields() -> None:
    catalogue = parse_catalogue(example())
    red = catalogue.rules["TRAFFIC-RED-LIGHT"]
    assert (red.title, red.category, red.points) == ("Running a red light", "traffic", -5)
    assert red.counts_for == parse_duration("P1Y")
    assert red.reporters == ("traffic-police",)
    assert red.legal_basis == "Road Traffic Safety Law, art. 38 and 90"
    assert red.applies_to == "everyone"  # the default
    assert red.grade_cap is None and red.blacklist_for is None
    fight = catalogue.rules["PUBLIC-FIGHT"]
    assert fight.blacklist_for == parse_duration("P1Y")
    merit = catalogue.rules["WORK-MERIT-ANNUAL"]
    assert merit.points == 20 and merit.applies_to == "public-servants"


def test_example_policies() -> None:
    catalogue = parse_catalogue(example())
    promotion = catalogue.policies["civil-service-promotion"]
    assert (promotion.min_grade, promotion.not_blacklisted) == ("A", False)
    management = catalogue.policies["management-position"]
    assert (management.min_grade, management.not_blacklisted) == ("C", True)


def test_optional_fields_are_read() -> None:
    document = example()
    document["rules"][0]["grade_cap"] = "B"
    document["rules"][0]["blacklist_for"] = "P6M"
    document["rules"][0]["applies_to"] = "everyone"
    rule = parse_catalogue(document).rules["TRAFFIC-RED-LIGHT"]
    assert rule.grade_cap == "B"
    assert rule.blacklist_for == parse_duration("P6M")
    assert rule.applies_to == "everyone"


@pytest.mark.parametrize("points", [0, 1, -1, 500, -1000])
def test_points_may_be_negative_positive_or_zero(points: int) -> None:
    document = example()
    document["rules"][0]["points"] = points
    assert parse_catalogue(document).rules["TRAFFIC-RED-LIGHT"].points == points


def test_effective_from_as_quoted_string_is_read_as_a_date() -> None:
    document = example()
    document["effective_from"] = "2026-01-01"
    assert parse_catalogue(document).effective_from == date(2026, 1, 1)


def test_policies_may_be_omitted_and_requirements_may_be_empty() -> None:
    document = example()
    del document["policies"]
    assert dict(parse_catalogue(document).policies) == {}
    document = example()
    document["policies"].append({"code": "open-to-all", "title": "Library card"})
    policy = parse_catalogue(document).policies["open-to-all"]
    assert (policy.min_grade, policy.not_blacklisted) == (None, False)


def test_a_single_unbounded_grade_is_enough() -> None:
    document = example()
    document["grades"] = [{"grade": "ALL"}]
    document["rules"] = []
    document["policies"] = []
    catalogue = parse_catalogue(document)
    assert catalogue.grades == ("ALL",)
    assert catalogue.grade_for_points(-(10**9)) == "ALL"


# --- the header -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["2026.1", "2026.10", "2026", "1"])
def test_unquoted_numeric_version_refused_with_quoting_advice(raw: str) -> None:
    document = with_yaml(EXAMPLE_YAML.replace('version: "2026.1"', f"version: {raw}"))
    assert not isinstance(document["version"], str)  # YAML really read a number
    assert_problem(document, "version:", "must be a string", "quote it")


@pytest.mark.parametrize("value", [["2026.1"], {"v": 1}, True, None])
def test_non_text_version_refused(value: object) -> None:
    document = example()
    document["version"] = value
    assert_problem(document, "version:", "must be a string")


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_version_refused(value: str) -> None:
    document = example()
    document["version"] = value
    assert_problem(document, "version:", "must be non-empty")


@pytest.mark.parametrize(
    "key", ["version", "effective_from", "base_score", "grades", "agencies", "rules"]
)
def test_missing_required_key_refused(key: str) -> None:
    document = example()
    del document[key]
    assert_problem(document, f"{key}: is required")


@pytest.mark.parametrize(
    "value",
    [
        "2026-13-01",
        "2026-02-30",
        "soon",
        "",
        "20260101",  # basic format: date.fromisoformat takes it, the contract does not
        "2026-W01-4",  # ISO week date: likewise
        "2026-1-1",
        " 2026-01-01",
        "２０２６-01-01",
        2026,
        20260101,
        None,
        True,
        datetime(2026, 1, 1, 8, 0),
        ["2026-01-01"],
    ],
)
def test_bad_effective_from_refused(value: object) -> None:
    document = example()
    document["effective_from"] = value
    assert_problem(document, "effective_from:", "must be a date YYYY-MM-DD")


def test_effective_from_with_time_in_yaml_refused() -> None:
    document = with_yaml(
        EXAMPLE_YAML.replace("effective_from: 2026-01-01", "effective_from: 2026-01-01 08:00:00")
    )
    assert isinstance(document["effective_from"], datetime)
    assert_problem(document, "effective_from:", "must be a date")


@pytest.mark.parametrize("value", [True, False, "1000", 1000.0, None, [1000]])
def test_non_integer_base_score_refused(value: object) -> None:
    document = example()
    document["base_score"] = value
    assert_problem(document, "base_score:", "must be an integer")


@pytest.mark.parametrize("document", [[], None, "version: 1", 5])
def test_document_must_be_a_mapping(document: object) -> None:
    assert_problem(document, "must be a mapping")


def test_unknown_top_level_key_refused() -> None:
    document = example()
    document["polices"] = []
    assert_problem(document, "catalogue:", "unknown field 'polices'")


def test_error_carries_source_code_and_count() -> None:
    document = example()
    document["base_score"] = "1000"
    document["rules"][0]["points"] = "5"
    with pytest.raises(CatalogueInvalidError) as caught:
        parse_catalogue(document, source="rongcheng.yaml")
    error = caught.value
    assert isinstance(error, InputError)
    assert error.code == "invalid-catalogue"
    assert error.message.startswith("rongcheng.yaml: ")
    assert "(and 1 more)" in error.message
    assert len(error.problems) == 2


# --- grades -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mins",
    [
        [1030, 1050, 1010, 960, 850, 600],  # the first two swapped
        [1050, 1030, 1030, 960, 850, 600],  # equal, not strictly decreasing
        [600, 850, 960, 1010, 1030, 1050],  # worst to best
        [1050, 1030, 1010, 960, 850, 2000],
    ],
)
def test_grades_not_strictly_decreasing_refused(mins: list[int]) -> None:
    document = example()
    for band, lower in zip(document["grades"], mins, strict=False):
        band["min"] = lower
    assert_problem(document, "grades:", "strictly decreasing")


def test_duplicate_grade_refused() -> None:
    document = example()
    document["grades"][4]["grade"] = "A"
    assert_problem(document, "grades:", "'A' is listed more than once")


def test_last_grade_with_min_refused() -> None:
    document = example()
    document["grades"][-1]["min"] = 0
    assert_problem(document, "grades[6]:", "last grade", "must have no min")


@pytest.mark.parametrize("index", [0, 3, 5])
def test_middle_grade_without_min_refused(index: int) -> None:
    document = example()
    del document["grades"][index]["min"]
    assert_problem(document, f"grades[{index}]:", "only the last grade may have no min")


def test_middle_grade_with_null_min_refused() -> None:
    document = example()
    document["grades"][2]["min"] = None
    assert_problem(document, "grades[2]:", "only the last grade may have no min")


def test_empty_grades_refused() -> None:
    document = example()
    document["grades"] = []
    assert_problem(document, "grades:", "at least one grade")


@pytest.mark.parametrize("value", [None, "AAA, AA", {"grade": "AAA"}])
def test_grades_must_be_a_list(value: object) -> None:
    document = example()
    document["grades"] = value
    assert_problem(document, "grades:", "must be a list")


def test_grade_entry_must_be_a_mapping() -> None:
    document = example()
    document["grades"][2] = "A+"
    assert_problem(document, "grades[2]:", "must be a mapping")


@pytest.mark.parametrize("value", ["960", True, 960.0])
def test_grade_min_must_be_an_integer(value: object) -> None:
    document = example()
    document["grades"][3]["min"] = value
    assert_problem(document, "grades[3]: min:", "must be an integer")


@pytest.mark.parametrize("value", [None, "", "  ", 5])
def test_grade_name_must_be_text(value: object) -> None:
    document = example()
    document["grades"][1]["grade"] = value
    assert_problem(document, "grades[1]: grade:")


def test_unknown_key_in_grade_refused() -> None:
    document = example()
    document["grades"][0]["max"] = 9999
    assert_problem(document, "grades[0]:", "unknown field 'max'")


# --- agencies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "Traffic-Police",
        "TRAFFIC",
        "traffic police",
        "traffic_police",
        "",
        " traffic",
        "traffic-police\n",
        "交警",
        "trafﬁc",
        7,
        None,
    ],
)
def test_bad_agency_code_refused(code: object) -> None:
    document = example()
    document["agencies"].append({"code": code, "name": "Somebody"})
    assert_problem(document, "agencies[3]", "code must be lowercase letters, digits and '-'")


def test_missing_agency_code_refused() -> None:
    document = example()
    document["agencies"].append({"name": "Nameless"})
    assert_problem(document, "agencies[3]", "code must be lowercase")


def test_duplicate_agency_code_refused() -> None:
    document = example()
    document["agencies"].append({"code": "traffic-police", "name": "Second Brigade"})
    assert_problem(document, "agencies[3] (traffic-police):", "listed more than once")


@pytest.mark.parametrize("name", [None, "", "   ", 12])
def test_agency_name_required(name: object) -> None:
    document = example()
    document["agencies"][1]["name"] = name
    assert_problem(document, "agencies[1] (forestry-bureau): name:")


def test_agency_name_zh_accepted_and_unknown_key_refused() -> None:
    document = example()
    document["agencies"][0]["name_zh"] = "交警大队"
    assert parse_catalogue(document).agencies["traffic-police"].name_zh == "交警大队"
    document["agencies"][0]["phone"] = "110"
    assert_problem(document, "agencies[0] (traffic-police):", "unknown field 'phone'")


@pytest.mark.parametrize("value", [None, {"traffic-police": "x"}, "traffic-police"])
def test_agencies_must_be_a_list(value: object) -> None:
    document = example()
    document["agencies"] = value
    assert_problem(document, "agencies:", "must be a list")


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, False, "5", "-5", 5.0, -5.5, None, [5]])
def test_non_integer_points_refused_naming_rule_and_field(value: object) -> None:
    document = example()
    document["rules"][0]["points"] = value
    assert_problem(document, f"{RED}: points:", "must be an integer")


def test_missing_points_refused() -> None:
    document = example()
    del document["rules"][1]["points"]
    assert_problem(document, f"{FIGHT}: points:", "must be an integer")


@pytest.mark.parametrize("code", ["", "-RED", "RED LIGHT", "红灯", "R" * 65, 7, None, "RED/LIGHT"])
def test_bad_rule_code_refused(code: object) -> None:
    document = example()
    document["rules"][0]["code"] = code
    assert_problem(document, "rules[0]", "code must be letters, digits")


def test_duplicate_rule_code_refused() -> None:
    document = example()
    document["rules"].append(copy.deepcopy(document["rules"][0]))
    assert_problem(document, "rules[3] (TRAFFIC-RED-LIGHT):", "rule code", "more than once")


def test_reporter_not_an_agency_of_the_version_refused() -> None:
    document = example()
    document["rules"][0]["reporters"] = ["traffic-police", "tax-office"]
    assert_problem(document, f"{RED}: reporters:", "'tax-office' is not an agency of this version")


@pytest.mark.parametrize("value", [[], None, "traffic-police", {"traffic-police": True}])
def test_empty_or_non_list_reporters_refused(value: object) -> None:
    document = example()
    document["rules"][0]["reporters"] = value
    assert_problem(document, f"{RED}: reporters:", "non-empty list of agency codes")


def test_missing_reporters_refused() -> None:
    document = example()
    del document["rules"][0]["reporters"]
    assert_problem(document, f"{RED}: reporters:", "non-empty list")


@pytest.mark.parametrize("value", [["traffic-police"], {"code": "traffic-police"}, 7, None])
def test_reporter_that_is_not_a_code_refused(value: object) -> None:
    document = example()
    document["rules"][0]["reporters"] = [value]
    assert_problem(document, f"{RED}: reporters:", "is not an agency")


def test_duplicate_reporter_refused() -> None:
    document = example()
    document["rules"][0]["reporters"] = ["traffic-police", "traffic-police"]
    assert_problem(document, f"{RED}: reporters:", "more than once")


@pytest.mark.parametrize("value", ["", "   ", "\n\t", None, 35, ["Road Traffic Safety Law"]])
def test_empty_or_non_text_legal_basis_refused(value: object) -> None:
    document = example()
    document["rules"][0]["legal_basis"] = value
    assert_problem(document, f"{RED}: legal_basis:")


def test_missing_legal_basis_refused() -> None:
    document = example()
    del document["rules"][2]["legal_basis"]
    assert_problem(document, "rules[2] (WORK-MERIT-ANNUAL): legal_basis:", "is required")


@pytest.mark.parametrize("key", ["title", "category"])
@pytest.mark.parametrize("value", ["", "  ", None, 3])
def test_title_and_category_must_be_text(key: str, value: object) -> None:
    document = example()
    document["rules"][0][key] = value
    assert_problem(document, f"{RED}: {key}:")


def test_overlong_text_refused() -> None:
    document = example()
    document["rules"][0]["title"] = "Running a red light " * 200
    assert_problem(document, f"{RED}: title:", "the limit is 2000")


def test_text_is_trimmed() -> None:
    document = example()
    document["rules"][0]["title"] = "  Running a red light \n"
    assert parse_catalogue(document).rules["TRAFFIC-RED-LIGHT"].title == "Running a red light"


@pytest.mark.parametrize(
    "value", ["civil-servants", "Everyone", "public_servants", "", None, ["everyone"], True]
)
def test_unknown_applies_to_refused(value: object) -> None:
    document = example()
    document["rules"][0]["applies_to"] = value
    assert_problem(document, f"{RED}: applies_to:", "must be one of everyone, public-servants")


@pytest.mark.parametrize("value", ["E", "aaa", "A-", "", "Z", 3, ["C"]])
def test_unknown_grade_cap_refused(value: object) -> None:
    document = example()
    document["rules"][1]["grade_cap"] = value
    assert_problem(document, f"{FIGHT}: grade_cap:", "is not a grade of this catalogue")


@pytest.mark.parametrize("value", ["1Y", "P0D", "PT1H", "P1.5Y", "", 12, None, "forever"])
def test_bad_counts_for_refused(value: object) -> None:
    document = example()
    document["rules"][0]["counts_for"] = value
    assert_problem(document, f"{RED}: counts_for:")


def test_missing_counts_for_refused() -> None:
    document = example()
    del document["rules"][0]["counts_for"]
    assert_problem(document, f"{RED}: counts_for:", "ISO-8601")


@pytest.mark.parametrize("value", ["1Y", "P0D", "PT1H", "P-1Y", "", 1, "P201Y"])
def test_bad_blacklist_for_refused(value: object) -> None:
    document = example()
    document["rules"][1]["blacklist_for"] = value
    assert_problem(document, f"{FIGHT}: blacklist_for:")


def test_null_blacklist_for_means_none() -> None:
    document = example()
    document["rules"][1]["blacklist_for"] = None
    assert parse_catalogue(document).rules["PUBLIC-FIGHT"].blacklist_for is None


@pytest.mark.parametrize(
    "typo", ["grade_capp", "blacklist", "point", "Points", "counts-for", "reporter", "applies"]
)
def test_unknown_rule_field_refused(typo: str) -> None:
    document = example()
    document["rules"][0][typo] = "C"
    assert_problem(document, f"{RED}:", f"unknown field {typo!r}")


def test_descriptive_keys_accepted() -> None:
    document = example()
    document["title"] = "Rongcheng reference catalogue"
    document["notes"] = "Transcribed from the 2014 measures."
    document["source"] = "https://example.org/rongcheng"
    rule = document["rules"][0]
    rule["title_zh"] = "闯红灯"
    rule["notes"] = "Most common entry."
    rule["description"] = "Crossing a junction against a red signal."
    rule["legal_basis_zh"] = "道路交通安全法第三十八条"
    rule["source"] = "Wendeng 2020 table"
    document["policies"][0]["title_zh"] = "公务员晋升"
    document["policies"][0]["notes"] = "Civil Servants Law"
    catalogue = parse_catalogue(document)
    red = catalogue.rules["TRAFFIC-RED-LIGHT"]
    assert red.title_zh == "闯红灯"
    assert red.description == "Crossing a junction against a red signal."
    assert catalogue.policies["civil-service-promotion"].title_zh == "公务员晋升"


@pytest.mark.parametrize("value", [b"\x00\x01", {1, 2}])
def test_descriptive_value_that_is_not_plain_data_refused_not_crashing(value: object) -> None:
    document = example()
    document["notes"] = value
    assert_problem(document, "not plain text")


def test_mixed_key_types_in_a_note_refused_not_crashing() -> None:
    document = example()
    document["rules"][0]["notes"] = {1: "one", "two": 2}
    assert_problem(document, "not plain text")


def test_yaml_binary_in_a_note_refused_not_crashing() -> None:
    document = with_yaml(EXAMPLE_YAML + "notes: !!binary aGVsbG8=\n")
    assert isinstance(document["notes"], bytes)
    assert_problem(document, "not plain text")


def test_rule_entry_must_be_a_mapping() -> None:
    document = example()
    document["rules"].append("TRAFFIC-SPEEDING")
    assert_problem(document, "rules[3]:", "must be a mapping")


# --- policies ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["S", "a", "A-", "", 1])
def test_unknown_min_grade_refused(value: object) -> None:
    document = example()
    document["policies"][0]["requires"]["min_grade"] = value
    assert_problem(document, f"{PROMOTION}: requires: min_grade:", "is not a grade")


@pytest.mark.parametrize("value", ["yes", 1, 0, "true", None])
def test_not_blacklisted_must_be_boolean(value: object) -> None:
    document = example()
    document["policies"][0]["requires"]["not_blacklisted"] = value
    assert_problem(document, f"{PROMOTION}: requires: not_blacklisted:", "true or false")


def test_unknown_requirement_refused() -> None:
    document = example()
    document["policies"][0]["requires"]["min_score"] = 1000
    assert_problem(document, f"{PROMOTION}: requires:", "unknown requirement 'min_score'")


@pytest.mark.parametrize("value", [["min_grade", "A"], "A", 5])
def test_requires_must_be_a_mapping(value: object) -> None:
    document = example()
    document["policies"][0]["requires"] = value
    assert_problem(document, f"{PROMOTION}: requires:", "must be a mapping")


def test_duplicate_policy_code_refused() -> None:
    document = example()
    document["policies"].append(copy.deepcopy(document["policies"][0]))
    assert_problem(document, "policies[2] (civil-service-promotion):", "more than once")


@pytest.mark.parametrize("code", ["", "civil service", 5, None])
def test_bad_policy_code_refused(code: object) -> None:
    document = example()
    document["policies"][1]["code"] = code
    assert_problem(document, "policies[1]", "code must be letters")


def test_policy_title_required_and_unknown_policy_key_refused() -> None:
    document = example()
    del document["policies"][0]["title"]
    document["policies"][1]["require"] = {"min_grade": "A"}
    problems = problems_of(document)
    assert any(line.startswith(f"{PROMOTION}: title:") for line in problems), problems
    assert any(
        "policies[1] (management-position):" in line and "unknown field 'require'" in line
        for line in problems
    ), problems


# --- several problems at once -----------------------------------------------------------------


def test_several_problems_reported_at_once() -> None:
    document = example()
    document["version"] = 2026.1
    document["grades"][-1]["min"] = 0
    document["agencies"][0]["code"] = "Traffic Police"
    document["rules"][0]["points"] = "5"
    document["rules"][1]["grade_capp"] = "C"
    document["rules"][2]["legal_basis"] = " "
    document["policies"][0]["requires"]["min_grade"] = "S"
    problems = problems_of(document)
    expected = [
        "version:",
        "grades[6]:",
        "agencies[0]",
        f"{RED}: points:",
        f"{FIGHT}: unknown field 'grade_capp'",
        "rules[2] (WORK-MERIT-ANNUAL): legal_basis:",
        f"{PROMOTION}: requires: min_grade:",
    ]
    for needle in expected:
        assert any(needle in line for line in problems), (needle, problems)
    assert len(problems) >= len(expected)


def test_problems_are_one_line_each() -> None:
    document = example()
    document["rules"][0]["title"] = ""
    document["rules"][0]["counts_for"] = "PT1H"
    for line in problems_of(document):
        assert "\n" not in line


# --- grade bands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "grade"),
    [
        (10**9, "AAA"),
        (1050, "AAA"),
        (1049, "AA"),
        (1030, "AA"),
        (1029, "A+"),
        (1015, "A+"),
        (1010, "A+"),
        (1009, "A"),
        (1000, "A"),
        (960, "A"),
        (959, "B"),
        (850, "B"),
        (849, "C"),
        (600, "C"),
        (599, "D"),
        (0, "D"),
        (-(10**9), "D"),
    ],
)
def test_grade_for_points_boundaries(points: int, grade: str) -> None:
    assert parse_catalogue(example()).grade_for_points(points) == grade


def test_grade_positions() -> None:
    catalogue = parse_catalogue(example())
    assert [catalogue.grade_position(g) for g in catalogue.grades] == list(range(7))
    with pytest.raises(ValueError):
        catalogue.grade_position("E")


# --- digest -----------------------------------------------------------------------------------


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def test_digest_equal_for_equal_documents_regardless_of_key_order() -> None:
    first = parse_catalogue(example())
    second = parse_catalogue(_reversed_keys(example()))
    assert list(_reversed_keys(example())) != list(example())  # the order really differs
    assert first.digest() == second.digest()
    assert first.canonical_json() == second.canonical_json()
    assert len(first.digest()) == 64


def test_digest_equal_for_date_and_quoted_date() -> None:
    document = example()
    document["effective_from"] = "2026-01-01"
    assert parse_catalogue(document).digest() == parse_catalogue(example()).digest()


def test_digest_changes_with_content() -> None:
    document = example()
    document["rules"][0]["points"] = -6
    assert parse_catalogue(document).digest() != parse_catalogue(example()).digest()
    document = example()
    document["rules"][0]["notes"] = "a note is content too"
    assert parse_catalogue(document).digest() != parse_catalogue(example()).digest()


# --- check_successor --------------------------------------------------------------------------


def _version(version: str, effective_from: date, **changes: Any) -> Catalogue:
    document = example()
    document["version"] = version
    document["effective_from"] = effective_from
    document.update(changes)
    return parse_catalogue(document)


FIRST = _version("2026.1", date(2026, 1, 1))


def test_first_version_has_no_successor_problems() -> None:
    assert check_successor([], FIRST) == []


def test_later_version_with_same_grades_accepted() -> None:
    assert check_successor([FIRST], _version("2026.2", date(2026, 7, 1))) == []


def test_thresholds_may_change() -> None:
    grades = example()["grades"]
    grades[2]["min"] = 1015
    grades[3]["min"] = 950
    assert check_successor([FIRST], _version("2027.1", date(2027, 1, 1), grades=grades)) == []


@pytest.mark.parametrize("effective_from", [date(2026, 1, 1), date(2025, 12, 31), date(2020, 1, 1)])
def test_effective_from_on_or_before_a_loaded_one_refused(effective_from: date) -> None:
    problems = check_successor([FIRST], _version("2026.2", effective_from))
    assert any("effective_from" in p and "is not after 2026-01-01" in p for p in problems), problems


def test_compared_with_the_latest_loaded_whatever_the_order() -> None:
    second = _version("2026.2", date(2026, 7, 1))
    new = _version("2026.3", date(2026, 3, 1))  # after the first, before the second
    for loaded in ([FIRST, second], [second, FIRST]):
        problems = check_successor(loaded, new)
        assert any("is not after 2026-07-01" in p and "'2026.2'" in p for p in problems), problems


@pytest.mark.parametrize(
    "names",
    [
        ["AAA", "AA", "A1", "A", "B", "C", "D"],  # renamed
        ["AA", "AAA", "A+", "A", "B", "C", "D"],  # reordered
        ["AAA", "AA", "A", "B", "C", "D"],  # one fewer
    ],
)
def test_grade_names_or_order_differing_refused(names: list[str]) -> None:
    mins = [1050, 1030, 1010, 960, 850, 600]
    grades: list[dict[str, Any]] = [
        {"grade": name, "min": mins[i]} for i, name in enumerate(names[:-1])
    ]
    grades.append({"grade": names[-1]})
    document = example()
    document.update(version="2027.1", effective_from=date(2027, 1, 1), grades=grades)
    document["rules"] = []
    document["policies"] = []
    problems = check_successor([FIRST], parse_catalogue(document))
    assert any(p.startswith("grades ") and "must stay the same" in p for p in problems), problems


def test_same_version_string_with_different_content_refused() -> None:
    changed = example()
    changed["effective_from"] = date(2026, 7, 1)
    changed["rules"][0]["points"] = -10
    problems = check_successor([FIRST], parse_catalogue(changed))
    assert any("'2026.1' is already loaded with different content" in p for p in problems), problems


def test_several_successor_problems_at_once() -> None:
    document = example()
    document["grades"][0]["grade"] = "AAAA"
    problems = check_successor([FIRST], parse_catalogue(document))
    assert len(problems) == 3, problems


# --- robustness -------------------------------------------------------------------------------


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


_PLACES = _paths(example())[1:]
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=3),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers()), inner, max_size=3),
    ),
    max_leaves=6,
)


@settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(place=st.sampled_from(_PLACES), value=_VALUES)
def test_property_damaged_documents_are_refused_never_crash(
    place: tuple[Any, ...], value: object
) -> None:
    document = example()
    parent: Any = document
    for step in place[:-1]:
        parent = parent[step]
    parent[place[-1]] = value
    try:
        catalogue = parse_catalogue(document)
    except CatalogueInvalidError as error:
        assert error.problems and all(isinstance(line, str) for line in error.problems)
    else:
        # Whatever was accepted is a usable catalogue.
        assert isinstance(catalogue.version, str) and catalogue.grades
        assert len(catalogue.digest()) == 64
