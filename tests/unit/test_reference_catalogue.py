"""The bundled Rongcheng reference catalogue: it loads, and it says what the research says.

The file is data that the demo, the CLI's ``init`` and several tests rely on; these tests pin the
parts that others depend on (codes, grades, policies) and the schemes the catalogue promises in
its header and in docs/reference-catalogue.md (counting periods, direct grading, reporters).
"""

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialcredit.domain.catalogue import Catalogue, Rule, parse_catalogue
from socialcredit.domain.durations import parse_duration
from socialcredit.domain.protected import protected_ground_matches

CATALOGUE_PATH = Path(__file__).parents[2] / "catalogues" / "rongcheng.yaml"


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice (PyYAML would keep the last silently)."""


def _mapping_without_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        assert key not in mapping, f"line {key_node.start_mark.line + 1}: {key!r} given twice"
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)

TEXT = CATALOGUE_PATH.read_text(encoding="utf-8")
DOCUMENT: dict[str, Any] = yaml.safe_load(TEXT)
CATALOGUE: Catalogue = parse_catalogue(DOCUMENT, source=str(CATALOGUE_PATH))
RULE_CODES = sorted(CATALOGUE.rules)

CAP_PERIOD = {"B": "P2Y", "C": "P3Y", "D": "P5Y"}
# Awards count by the level of the awarding (or approving) body: 1, 2, 3 or 5 years.
AWARD_PERIODS = {
    "AWARD-MUNICIPAL-DEPARTMENT": "P1Y",
    "PS-MERIT-COMMENDATION": "P1Y",
    "PS-MERIT-SECOND-CLASS": "P2Y",
    "PS-MERIT-FIRST-CLASS": "P3Y",
    "AWARD-PREFECTURE-CITY": "P2Y",
    "AWARD-PROVINCIAL-DEPARTMENT": "P2Y",
    "AWARD-PROVINCIAL": "P3Y",
    "AWARD-NATIONAL": "P5Y",
}
REQUIRED_CATEGORIES = {
    "commercial",
    "financial",
    "tax",
    "traffic",
    "public-order",
    "social-management",
    "public-service",
    "judicial",
    "volunteering",
    "donation",
    "blood-donation",
    "awards",
    "good-deeds",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _months(text: str) -> int:
    duration = parse_duration(text)
    assert duration.days == 0, text
    return duration.months


def expected_counts_for(rule: Rule) -> str:
    """The counting period the header promises (Wendeng art. 20)."""
    if rule.category == "awards" and rule.code in AWARD_PERIODS:
        return AWARD_PERIODS[rule.code]
    candidates = []
    if rule.grade_cap is not None:
        candidates.append(CAP_PERIOD[rule.grade_cap])
    if rule.points < 0:
        candidates.append("P1Y" if rule.points >= -40 else "P2Y")
    if not candidates:
        return "P1Y"  # other bonuses count one year
    return max(candidates, key=_months)


def test_the_file_has_no_duplicate_keys_and_parses_to_the_same_document() -> None:
    strict = yaml.load(TEXT, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    assert strict == DOCUMENT


def test_header_values_and_grade_bands() -> None:
    assert CATALOGUE.version == "2014.1"
    assert CATALOGUE.effective_from == date(2014, 1, 1)
    assert CATALOGUE.base_score == 1000
    bands = [(band.grade, band.min_points) for band in CATALOGUE.bands]
    assert bands == [
        ("AAA", 1050),
        ("AA", 1030),
        ("A+", 1010),
        ("A", 960),
        ("B", 850),
        ("C", 600),
        ("D", None),
    ]


def test_size_of_the_catalogue() -> None:
    assert len(CATALOGUE.rules) >= 60
    assert len(CATALOGUE.agencies) >= 50


def test_required_categories_are_present_and_well_formed() -> None:
    categories = {rule.category for rule in CATALOGUE.rules.values()}
    assert categories >= REQUIRED_CATEGORIES
    for category in categories:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", category), category


def test_the_seed_rules_keep_their_codes_and_values() -> None:
    red_light = CATALOGUE.rules["TRAFFIC-RED-LIGHT"]
    assert (red_light.points, str(red_light.counts_for), red_light.reporters) == (
        -5,
        "P1Y",
        ("traffic-police",),
    )
    assert red_light.grade_cap is None and red_light.blacklist_for is None

    fight = CATALOGUE.rules["PUBLIC-FIGHT"]
    assert (fight.points, str(fight.counts_for), fight.reporters) == (
        -30,
        "P1Y",
        ("public-security",),
    )
    assert fight.blacklist_for is not None and str(fight.blacklist_for) == "P1Y"

    merit = CATALOGUE.rules["WORK-MERIT-ANNUAL"]
    assert (merit.points, str(merit.counts_for), merit.applies_to) == (20, "P1Y", "public-servants")
    assert "forestry-bureau" in merit.reporters


def test_the_seed_agencies_exist() -> None:
    assert {"traffic-police", "forestry-bureau", "public-security"} <= set(CATALOGUE.agencies)


@pytest.mark.parametrize(
    ("code", "cap"),
    [
        ("TRAFFIC-DRUNK-DRIVING", "C"),
        ("JUDICIAL-DISHONEST-DEBTOR", "D"),
        ("PUBLIC-ADMIN-DETENTION", "C"),
    ],
)
def test_direct_grading_caps(code: str, cap: str) -> None:
    assert CATALOGUE.rules[code].grade_cap == cap


def test_only_the_public_fight_blacklists() -> None:
    blacklisting = {
        code for code, rule in CATALOGUE.rules.items() if rule.blacklist_for is not None
    }
    assert blacklisting == {"PUBLIC-FIGHT"}


@pytest.mark.parametrize("code", RULE_CODES)
def test_counting_period_follows_the_scheme(code: str) -> None:
    rule = CATALOGUE.rules[code]
    assert str(rule.counts_for) == expected_counts_for(rule)


def test_counting_scheme_examples() -> None:
    """The scheme's edges, spelled out on named rules."""
    assert str(CATALOGUE.rules["PENALTY-FINE-OVER-10000"].counts_for) == "P1Y"  # -40
    assert str(CATALOGUE.rules["COM-BREACH-JUDGMENT"].counts_for) == "P2Y"  # -50
    assert str(CATALOGUE.rules["SOC-SUBSIDY-FRAUD"].counts_for) == "P2Y"  # -50 and B
    assert str(CATALOGUE.rules["JUDICIAL-DISHONEST-DEBTOR"].counts_for) == "P5Y"  # D
    assert str(CATALOGUE.rules["BLOOD-DONATION"].counts_for) == "P1Y"  # bonus


def test_every_award_level_has_its_period() -> None:
    for code, period in AWARD_PERIODS.items():
        assert CATALOGUE.rules[code].category == "awards"
        assert str(CATALOGUE.rules[code].counts_for) == period
    for rule in CATALOGUE.rules.values():
        if rule.category == "awards":
            assert rule.points > 0 and str(rule.counts_for) in {"P1Y", "P2Y", "P3Y", "P5Y"}


def test_a_rule_without_points_caps_the_grade() -> None:
    for rule in CATALOGUE.rules.values():
        if rule.points == 0:
            assert rule.grade_cap is not None, rule.code


def test_policies_and_their_requirements() -> None:
    wanted = {
        "civil-service-promotion": ("A", False),
        "management-position": ("C", True),
        "social-benefits": ("C", False),
        "social-benefits-priority": ("AA", False),
        "school-admission-priority": ("AA", False),
        "credit-line": ("C", True),
    }
    actual = {
        code: (policy.min_grade, policy.not_blacklisted)
        for code, policy in CATALOGUE.policies.items()
    }
    assert actual == wanted
    for policy in CATALOGUE.policies.values():
        assert policy.title and policy.title_zh and CJK.search(policy.title_zh)


def test_every_agency_reports_at_least_one_rule() -> None:
    reporting = {agency for rule in CATALOGUE.rules.values() for agency in rule.reporters}
    assert set(CATALOGUE.agencies) - reporting == set()


def test_every_agency_has_an_english_and_a_chinese_name() -> None:
    for agency in CATALOGUE.agencies.values():
        assert agency.name.strip() and not CJK.search(agency.name), agency.code
        assert agency.name_zh and CJK.search(agency.name_zh), agency.code


def test_public_servant_rules_are_reported_by_every_employer() -> None:
    employers = set(CATALOGUE.rules["WORK-MERIT-ANNUAL"].reporters)
    assert {
        "forestry-bureau",
        "education-bureau",
        "health-commission",
        "tax-bureau",
        "people-court",
        "public-security",
        "civil-affairs",
        "complaints-office",
    } <= employers
    not_employers = {
        "rural-commercial-bank",
        "icbc-rongcheng",
        "pboc-rongcheng",
        "power-supply",
        "water-utility",
        "red-cross",
        "volunteer-federation",
    }
    assert employers.isdisjoint(not_employers)
    for rule in CATALOGUE.rules.values():
        if rule.applies_to == "public-servants":
            assert set(rule.reporters) == employers, rule.code


def test_reporters_are_the_bodies_that_know() -> None:
    """Courts report judgments, the traffic police traffic, the tax bureau tax, and so on."""
    allowed = {
        "judicial": {"people-court", "court-enforcement", "procuratorate"},
        "traffic": {"traffic-police", "people-court", "urban-management"},
        "tax": {"tax-bureau", "social-insurance-centre", "finance-bureau", "public-security"},
        "utilities": {
            "water-utility",
            "gas-utility",
            "power-supply",
            "heating-utility",
            "china-telecom",
            "china-mobile",
            "people-court",
            "public-security",
        },
        "blood-donation": {"blood-station", "red-cross"},
        "volunteering": {"volunteer-federation", "civil-affairs", "towns-subdistricts"},
    }
    for rule in CATALOGUE.rules.values():
        if rule.category in allowed:
            assert set(rule.reporters) <= allowed[rule.category], rule.code


def test_every_rule_is_documented_in_both_languages() -> None:
    for rule in CATALOGUE.rules.values():
        assert rule.title_zh and CJK.search(rule.title_zh), rule.code
        assert rule.legal_basis.strip(), rule.code
        assert "opinion" not in rule.legal_basis.casefold(), rule.code
    for item in DOCUMENT["rules"]:
        assert re.search(r"\[(R|W|M-R|2nd)\]|^analogy", item.get("notes", "")), item["code"]


def test_no_text_in_the_file_names_a_protected_ground() -> None:
    """Stricter than the validator: notes and names are checked too."""
    for section in ("agencies", "rules", "policies"):
        for item in DOCUMENT[section]:
            for key, value in item.items():
                if isinstance(value, str):
                    assert protected_ground_matches(value) == [], (item["code"], key, value)


def test_zhang_jian_is_a_plus_and_may_be_promoted() -> None:
    rules = CATALOGUE.rules
    score = (
        CATALOGUE.base_score + rules["TRAFFIC-RED-LIGHT"].points + rules["WORK-MERIT-ANNUAL"].points
    )
    assert score == 1015
    grade = CATALOGUE.grade_for_points(score)
    assert grade == "A+"
    wanted = CATALOGUE.policies["civil-service-promotion"].min_grade
    assert wanted is not None
    assert CATALOGUE.grade_position(grade) <= CATALOGUE.grade_position(wanted)
