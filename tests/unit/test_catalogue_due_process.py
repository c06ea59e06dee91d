"""Catalogue fields for due process: repair rules, yearly caps on points, mandated policies."""

import copy
from typing import Any

import pytest
import yaml
from tests.conftest import EXAMPLE_CATALOGUE

from socialcredit.domain.catalogue import parse_catalogue
from socialcredit.domain.errors import CatalogueInvalidError


def _document() -> dict[str, Any]:
    document = yaml.safe_load(EXAMPLE_CATALOGUE.read_text(encoding="utf-8"))
    document["agencies"].append({"code": "court", "name": "People's Court"})
    document["rules"] += [
        {
            "code": "DEBTOR",
            "title": "Listed dishonest judgment debtor",
            "category": "judicial",
            "points": 0,
            "counts_for": "P5Y",
            "grade_cap": "D",
            "reporters": ["court"],
            "legal_basis": "Civil Procedure Law, art. 262",
            "repair_rule": "DEBT-PAID",
        },
        {
            "code": "DEBT-PAID",
            "title": "Judgment debt paid after listing",
            "category": "judicial",
            "points": -50,
            "counts_for": "P2Y",
            "reporters": ["court"],
            "legal_basis": "Civil Procedure Law, art. 262",
        },
        {
            "code": "DONATION",
            "title": "Charitable donation",
            "category": "donation",
            "points": 5,
            "counts_for": "P1Y",
            "reporters": ["court"],
            "legal_basis": "Charity Law, art. 1",
            "max_points_per_year": 40,
        },
    ]
    document["policies"][0]["mandated"] = True
    return document


def _problems(document: dict[str, Any]) -> list[str]:
    with pytest.raises(CatalogueInvalidError) as caught:
        parse_catalogue(document)
    return caught.value.problems


def test_repair_cap_and_mandate_are_read():
    catalogue = parse_catalogue(_document())
    assert catalogue.rules["DEBTOR"].repair_rule == "DEBT-PAID"
    assert catalogue.rules["DONATION"].max_points_per_year == 40
    assert catalogue.rules["TRAFFIC-RED-LIGHT"].repair_rule is None
    assert catalogue.policies["civil-service-promotion"].mandated is True
    assert catalogue.policies["management-position"].mandated is False


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d["rules"][3].update(repair_rule="NOPE"), "rules[3] (DEBTOR): repair_rule"),
        (lambda d: d["rules"][3].update(repair_rule="DEBTOR"), "rules[3] (DEBTOR): repair_rule"),
        (lambda d: d["rules"][3].update(repair_rule=7), "rules[3] (DEBTOR): repair_rule"),
        (
            lambda d: d["rules"][5].update(max_points_per_year=0),
            "rules[5] (DONATION): max_points_per_year",
        ),
        (
            lambda d: d["rules"][5].update(max_points_per_year="40"),
            "rules[5] (DONATION): max_points_per_year",
        ),
        (
            lambda d: d["policies"][0].update(mandated="yes"),
            "policies[0] (civil-service-promotion): mandated",
        ),
        (lambda d: d["rules"][0].update(points=10**9), "rules[0] (TRAFFIC-RED-LIGHT): points"),
    ],
)
def test_bad_due_process_fields_are_refused_naming_the_place(change, where: str):
    document = copy.deepcopy(_document())
    change(document)
    assert any(problem.startswith(where) for problem in _problems(document)), where


def test_requires_null_means_no_requirement():
    document = _document()
    document["policies"][1]["requires"] = None
    assert parse_catalogue(document).policies["management-position"].min_grade is None
