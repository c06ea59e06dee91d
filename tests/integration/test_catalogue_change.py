"""Catalogue change (issue 4, item 10): what a new version adds, removes and changes, and who
would change grade on its effective date if nothing else happened."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.conftest import (
    EVENTS_HEADER,
    EXAMPLE_CATALOGUE,
    LI_NA,
    NOW,
    PEOPLE_HEADER,
    ZHANG_JIAN,
    person,
    recent,
    write_csv,
)
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.domain.errors import SocialCreditError
from socialcredit.services.access import list_access
from socialcredit.services.catalogue import load_catalogue, read_catalogue_file
from socialcredit.services.catalogue_change import diff_catalogues, grade_changes
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

WANG = person(date(1975, 8, 8), 7)  # three red lights: 985, an A that the new bands make a B
ZHAO = person(date(1980, 2, 2), 9)  # no entries: 1000, A under both


def _catalogue(tmp_path: Path, name: str = "next.yaml", **changes: Any) -> Path:
    """The example catalogue turned into version 2027.1, from 2027-01-01, with ``changes``."""
    document = yaml.safe_load(EXAMPLE_CATALOGUE.read_text(encoding="utf-8"))
    document.update(version="2027.1", effective_from=date(2027, 1, 1))
    rules = {rule["code"]: rule for rule in document["rules"]}
    rules["TRAFFIC-RED-LIGHT"].update(points=-10, counts_for="P12M")  # P12M is P1Y
    rules["WORK-MERIT-ANNUAL"]["reporters"] = ["forestry-bureau"]
    del rules["PUBLIC-FIGHT"]
    rules["LITTERING"] = {
        "code": "LITTERING",
        "title": "Littering in a public place",
        "category": "public-order",
        "points": -3,
        "counts_for": "P6M",
        "reporters": ["city-management"],
        "legal_basis": "City Appearance and Environmental Sanitation Regulations, art. 17",
    }
    document["rules"] = list(rules.values())
    document["agencies"].append({"code": "city-management", "name": "City Management Bureau"})
    document["agencies"][1]["name"] = "Forestry and Grassland Bureau"
    document["policies"][0]["mandated"] = True
    document["grades"][1]["min"] = 1025  # AA
    document["grades"][3]["min"] = 990  # A
    document.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _town(registry: Registry, tmp_path: Path) -> Registry:
    import_people(
        registry,
        write_csv(
            tmp_path / "people.csv",
            PEOPLE_HEADER,
            [
                f"{ZHANG_JIAN},张建,崖头街道,true",
                f"{LI_NA},李娜,城西街道,false",
                f"{WANG},王芳,港湾街道,no",
                f"{ZHAO},赵磊,宁津街道,no",
            ],
        ),
    )
    events = [
        f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(20)},",
        f"forestry-bureau,FB-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(10)},",
        f"public-security,PS-1,{LI_NA},PUBLIC-FIGHT,{recent(5)},",
        *(f"traffic-police,TP-W{n},{WANG},TRAFFIC-RED-LIGHT,{recent(30 + n)}," for n in range(3)),
    ]
    assert (
        import_events(registry, write_csv(tmp_path / "events.csv", EVENTS_HEADER, events)).accepted
        == 6
    )
    return registry


@pytest.fixture
def town(registry: Registry, tmp_path: Path) -> Registry:
    return _town(registry, tmp_path)


def test_the_diff_names_each_change(registry: Registry, tmp_path: Path):
    old = registry.in_force(date(2026, 11, 27))
    diff = diff_catalogues(old, read_catalogue_file(_catalogue(tmp_path)))
    document = diff.as_dict()
    assert document["old"] == {"version": "2026.1", "effective_from": "2026-01-01"}
    assert document["new"] == {"version": "2027.1", "effective_from": "2027-01-01"}
    assert document["base_score"] is None
    assert document["grades"] == [
        {"grade": "AA", "old_min": 1030, "new_min": 1025},
        {"grade": "A", "old_min": 960, "new_min": 990},
    ]
    assert document["rules"] == {
        "added": ["LITTERING"],
        "removed": ["PUBLIC-FIGHT"],
        # counts_for P1Y -> P12M is no change (same dates); reporters are compared as a set
        "changed": {"TRAFFIC-RED-LIGHT": {"points": {"old": -5, "new": -10}}},
    }
    assert document["agencies"] == {
        "added": ["city-management"],
        "removed": [],
        "changed": {
            "forestry-bureau": {
                "name": {"old": "Forestry Bureau", "new": "Forestry and Grassland Bureau"}
            }
        },
    }
    assert document["policies"] == {
        "added": [],
        "removed": [],
        "changed": {"civil-service-promotion": {"mandated": {"old": False, "new": True}}},
    }
    same = diff_catalogues(old, old)
    assert same.rules.empty and same.agencies.empty and same.policies.empty and not same.bands


def test_who_would_change_grade(town: Registry, tmp_path: Path):
    changes = grade_changes(town, read_catalogue_file(_catalogue(tmp_path)))
    assert (changes.on, changes.old_version, changes.new_version) == (
        date(2027, 1, 1),
        "2026.1",
        "2027.1",
    )
    assert (changes.people, changes.unchanged, changes.score_changed) == (4, 2, 0)
    assert changes.transitions == (("A", "B", 2),)
    assert [
        (c["id"], c["old_score"], c["new_score"], c["old_grade"], c["new_grade"], c["blacklisted"])
        for c in changes.changes
    ] == sorted([(LI_NA, 970, 970, "A", "B", True), (WANG, 985, 985, "A", "B", False)])
    assert changes.next_after is None


def test_entries_keep_their_points_and_the_base_score_moves_everyone(
    town: Registry, tmp_path: Path
):
    # Zhang's red light stays -5 although the new rule says -10; a base of 1020 lifts everyone.
    changes = grade_changes(town, read_catalogue_file(_catalogue(tmp_path, base_score=1020)))
    rows = {c["id"]: c for c in changes.changes}
    assert changes.score_changed == 4
    assert (rows[ZHANG_JIAN]["old_score"], rows[ZHANG_JIAN]["new_score"]) == (1015, 1035)
    assert (rows[ZHANG_JIAN]["old_grade"], rows[ZHANG_JIAN]["new_grade"]) == ("A+", "AA")
    assert ZHAO in rows and (rows[ZHAO]["new_score"], rows[ZHAO]["new_grade"]) == (1020, "A+")
    assert LI_NA not in rows  # 970 -> 990: A under both


def test_people_are_listed_a_page_at_a_time_and_the_listing_is_logged(
    town: Registry, tmp_path: Path
):
    new = read_catalogue_file(_catalogue(tmp_path))
    first = grade_changes(town, new, limit=1, purpose="bureau review of 2027.1")
    assert [c["id"] for c in first.changes] == [min(LI_NA, WANG)]
    assert first.next_after == min(LI_NA, WANG)
    second = grade_changes(town, new, limit=1, after=first.next_after)
    assert [c["id"] for c in second.changes] == [max(LI_NA, WANG)] and second.next_after is None
    logged = list_access(town, min(LI_NA, WANG), limit=1)[0][1]
    assert (logged.action, logged.purpose) == ("grade-change", "bureau review of 2027.1")
    assert list_access(town, ZHAO) == []  # counted, never listed: nothing read about them
    counts_only = grade_changes(town, new, limit=0)
    assert counts_only.changes == () and counts_only.transitions == (("A", "B", 2),)


def test_a_loaded_version_is_compared_with_the_one_before_it(town: Registry, tmp_path: Path):
    path = _catalogue(tmp_path)
    expected = grade_changes(town, read_catalogue_file(path))
    load_catalogue(town, path)
    loaded = grade_changes(town, town.version("2027.1"))
    assert (loaded.old_version, loaded.transitions, loaded.changes) == (
        "2026.1",
        expected.transitions,
        expected.changes,
    )


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"effective_from": date(2025, 6, 1)}, "no-catalogue"),
        ({"rename": ("AAA", "TOP")}, "invalid-input"),  # grade names must stay the same
    ],
)
def test_refusals(town: Registry, tmp_path: Path, changes: dict[str, Any], code: str):
    document = yaml.safe_load(_catalogue(tmp_path).read_text(encoding="utf-8"))
    if "rename" in changes:
        old, new = changes["rename"]
        document["grades"] = [
            {**g, "grade": new if g["grade"] == old else g["grade"]} for g in document["grades"]
        ]
    document.update({k: v for k, v in changes.items() if k != "rename"})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SocialCreditError) as refusal:
        grade_changes(town, read_catalogue_file(path))
    assert refusal.value.code == code
    with pytest.raises(SocialCreditError) as bad_limit:
        grade_changes(town, read_catalogue_file(_catalogue(tmp_path)), limit=-1)
    assert bad_limit.value.code == "invalid-input"


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(
    sqlite_registry: Registry,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    _town(sqlite_registry, tmp_path)
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    return runner(capsys, sqlite_registry.database.url)


def test_cli_diff(cli: Callable[..., Run], sqlite_registry: Registry, tmp_path: Path):
    path = _catalogue(tmp_path)
    done = cli("catalogue", "diff", path, "--json")
    assert done.code == 0
    assert set(done.document) == {"diff", "grade_changes"}
    assert done.document["diff"]["rules"]["added"] == ["LITTERING"]
    grades = done.document["grade_changes"]
    assert grades["transitions"] == [{"from": "A", "to": "B", "people": 2}]
    assert {c["id"] for c in grades["changes"]} == {LI_NA, WANG}
    human = cli("catalogue", "diff", path, "--people", "1")
    assert human.code == 0
    for line in (
        "+ LITTERING",
        "- PUBLIC-FIGHT",
        "~ TRAFFIC-RED-LIGHT",
        "points: -5 -> -10",
        "A -> B",
        "more: --after",
    ):
        assert line in human.out, line
    sqlite_registry.forget_catalogues()
    assert [c.version for c in sqlite_registry.catalogues()] == ["2026.1"]  # nothing loaded


def test_cli_refusals(cli: Callable[..., Run], tmp_path: Path):
    refused(cli("catalogue", "diff", tmp_path / "missing.yaml", "--json"), 2, "unreadable-input")
    early = _catalogue(tmp_path, "early.yaml", effective_from=date(2025, 6, 1))
    refused(cli("catalogue", "diff", early, "--json"), 1, "no-catalogue")
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 2027\n", encoding="utf-8")
    invalid = cli("catalogue", "diff", broken, "--json")  # one stderr line per problem
    assert invalid.code == 2 and invalid.document["error"]["code"] == "invalid-catalogue"
