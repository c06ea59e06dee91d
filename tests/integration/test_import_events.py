"""Event imports against DESIGN.md section 3, on SQLite and PostgreSQL.

Each test writes a small events file, imports it through the service the CLI uses, and checks
the outcome of every row (accepted, duplicate, or rejected with the expected code), the
counters, the rejects file, and what the stored entries make of the person's score.
"""

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from tests.conftest import EVENTS_HEADER, LI_NA, ZHANG_JIAN, person, recent, write_csv

from socialcredit.services import standing
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry


def _import(registry: Registry, tmp_path: Path, rows: list[str], name: str = "events.csv"):
    path = write_csv(tmp_path / name, EVENTS_HEADER, rows)
    result = import_events(registry, path)
    rejects = pl.read_csv(result.rejects_path, infer_schema=False)
    return result, rejects


@pytest.fixture
def town(registry: Registry, people_file: Path) -> Registry:
    import_people(registry, people_file)
    return registry


def test_zhang_jian_scores_1015_a_plus_and_may_be_promoted(town: Registry, tmp_path: Path):
    result, rejects = _import(
        town,
        tmp_path,
        [
            f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(200)},ticket 1",
            f"forestry-bureau,FB-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(90)},",
        ],
    )
    assert (result.submitted, result.accepted, result.duplicates, result.rejected) == (2, 2, 0, 0)
    assert rejects.height == 0
    score = standing.score(town, ZHANG_JIAN)
    assert (score.score, score.grade, score.blacklisted) == (1015, "A+", False)
    answer = standing.check(town, ZHANG_JIAN, "civil-service-promotion", purpose="promotion")
    assert answer.eligible and answer.reasons == ()


def test_each_rejection_code_in_order(town: Registry, tmp_path: Path):
    """One row per code; each row also breaks a later rule, so only the order picks the code."""
    unregistered = person(date(1970, 1, 1), 1)
    rows = [
        ("missing-field", f",E1,{LI_NA},TRAFFIC-RED-LIGHT,2026-13-01,"),
        ("invalid-text", f"traffic-police,E2\x01,{LI_NA},TRAFFIC-RED-LIGHT,2026-13-01,"),
        ("invalid-date", "traffic-police,E3,bad-id,TRAFFIC-RED-LIGHT,2026-02-30,"),
        ("invalid-date", "traffic-police,E4,bad-id,TRAFFIC-RED-LIGHT,２０２６-01-01,"),
        ("future-date", "traffic-police,E5,bad-id,TRAFFIC-RED-LIGHT,2026-11-28,"),
        ("invalid-person-id", f"traffic-police,E6,{LI_NA[:-1]}0,NOPE,2026-06-01,"),
        ("unregistered-person", f"nobody,E7,{unregistered},NOPE,2026-06-01,"),
        ("before-birth", f"nobody,E8,{person(date(2026, 3, 1), 5)},NOPE,2026-02-01,"),
        ("no-catalogue", f"nobody,E9,{LI_NA},NOPE,2025-12-31,"),
        ("unknown-agency", f"nobody,E10,{LI_NA},NOPE,2026-06-01,"),
        ("unknown-rule", f"public-security,E11,{LI_NA},NOPE,2026-06-01,"),
        ("not-a-reporter", f"public-security,E12,{LI_NA},WORK-MERIT-ANNUAL,2026-06-01,"),
        ("not-a-public-servant", f"forestry-bureau,E13,{LI_NA},WORK-MERIT-ANNUAL,2026-06-01,"),
    ]
    import_people(
        town,
        write_csv(
            tmp_path / "baby.csv",
            "id,name,district,public_servant",
            [f"{person(date(2026, 3, 1), 5)},婴儿,城西街道,no"],
        ),
    )
    result, rejects = _import(town, tmp_path, [row for _code, row in rows])
    assert result.rejected == len(rows) and result.accepted == 0
    assert rejects["reason"].to_list() == [code for code, _row in rows]
    assert rejects["row"].to_list() == [str(n) for n in range(1, len(rows) + 1)]
    assert all(message for message in rejects["message"].to_list())


def test_rejects_file_keeps_the_original_columns(town: Registry, tmp_path: Path):
    _result, rejects = _import(
        town,
        tmp_path,
        [
            f"traffic-police,E1,{LI_NA},NOPE,2026-06-01,  kept as sent  ",
        ],
    )
    assert rejects.columns == [
        "row",
        "reason",
        "message",
        "agency",
        "event_id",
        "person_id",
        "rule",
        "occurred_on",
        "evidence",
    ]
    assert rejects.row(0, named=True)["evidence"] == "  kept as sent  "
    assert "NOPE" in rejects.row(0, named=True)["message"]


def test_duplicates_and_conflicts_within_one_file(town: Registry, tmp_path: Path):
    rows = [
        f"traffic-police,A,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,x",  # accepted
        f"traffic-police,A,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01, x ",  # duplicate (trimmed)
        f"traffic-police,A,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-02,x",  # conflict: date differs
        "traffic-police,B,bad-id,TRAFFIC-RED-LIGHT,2026-06-01,",  # rejected: holds no key
        f"traffic-police,B,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-03,",  # accepted: B still free
        f"traffic-police,C,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-04,",  # accepted
        f"traffic-police,C,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-04,",  # duplicate, evidence ''
    ]
    result, rejects = _import(town, tmp_path, rows)
    assert (result.accepted, result.duplicates, result.rejected) == (3, 2, 2)
    assert rejects["reason"].to_list() == ["conflict", "invalid-person-id"]
    assert rejects["row"].to_list() == ["3", "4"]
    assert standing.score(town, LI_NA).score == 1000 - 15


def test_duplicates_and_conflicts_against_the_store(town: Registry, tmp_path: Path):
    first = [f"traffic-police,A,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,x"]
    _import(town, tmp_path, first, "first.csv")
    result, rejects = _import(
        town,
        tmp_path,
        [
            *first,
            f"traffic-police,A,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,y",  # conflict: evidence
            f"public-security,A,{LI_NA},PUBLIC-FIGHT,2026-06-01,x",  # other agency: own key
        ],
        "second.csv",
    )
    assert (result.accepted, result.duplicates, result.rejected) == (1, 1, 1)
    assert rejects["reason"].to_list() == ["conflict"]
    assert rejects["message"][0].endswith("other evidence")
    again = import_events(town, tmp_path / "second.csv")
    assert (again.accepted, again.duplicates, again.rejected) == (0, 2, 1)


def test_person_id_lowercase_x_is_read_as_x(town: Registry, tmp_path: Path):
    with_x = next(
        person(date(1980, 1, 1), n) for n in range(999) if person(date(1980, 1, 1), n).endswith("X")
    )
    import_people(
        town,
        write_csv(
            tmp_path / "p.csv",
            "id,name,district,public_servant",
            [f"{with_x.lower()},王伟,港湾街道,0"],
        ),
    )
    result, _ = _import(
        town, tmp_path, [f"traffic-police,X1,{with_x.lower()},TRAFFIC-RED-LIGHT,2026-06-01,"]
    )
    assert result.accepted == 1
    assert standing.score(town, with_x).score == 995


def test_counts_add_up_on_a_large_mixed_file(town: Registry, tmp_path: Path):
    rows = []
    for n in range(3000):
        agency, rule = ("traffic-police", "TRAFFIC-RED-LIGHT") if n % 3 else ("x", "Y")
        rows.append(f"{agency},K{n % 2500},{LI_NA},{rule},2026-0{1 + n % 9}-01,")
    result, rejects = _import(town, tmp_path, rows)
    assert result.submitted == 3000
    assert result.submitted == result.accepted + result.duplicates + result.rejected
    assert rejects.height == result.rejected
