"""Corrections, credit repair and yearly caps through the import path (issue 4, items 3-4).

A correction withdraws its original; a repair ends the original on the repair's date (not
retroactively) and counts from then; a capped rule adds nothing beyond its yearly cap.
"""

import copy
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml
from tests.conftest import EVENTS_HEADER, FIXTURES, LI_NA, ZHANG_JIAN, write_csv

from socialcredit.services import standing
from socialcredit.services.events import import_events
from socialcredit.services.notices import list_notices
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

HEADER = EVENTS_HEADER + ",corrects,repairs"


@pytest.fixture
def town(make_registry, database_url: str, people_file: Path) -> Registry:
    registry = make_registry(database_url, [FIXTURES / "due-process.yaml"])
    import_people(registry, people_file)
    return registry


@pytest.fixture
def town_in_pairs(make_registry, database_url: str, people_file: Path) -> Registry:
    """``town`` importing in batches of two rows (on PostgreSQL the batches after the first
    are judged while the one before is written)."""
    registry = make_registry(database_url, [FIXTURES / "due-process.yaml"], batch_rows=2)
    import_people(registry, people_file)
    return registry


def _import(registry: Registry, folder: Path, name: str, rows: list[str]):
    result = import_events(registry, write_csv(folder / name, HEADER, rows))
    rejects = pl.read_csv(result.rejects_path, infer_schema=False)
    return result, rejects


def _entry(registry: Registry, event_id: str, as_of: date | None = None) -> dict:
    statement = standing.statement(registry, LI_NA, as_of=as_of).as_dict()
    return next(e for e in statement["entries"] if e["event_id"] == event_id)


def test_repair_ends_the_debtor_listing_from_the_repair_date(town: Registry, tmp_path: Path):
    _import(town, tmp_path, "a.csv", [f"court,C1,{LI_NA},DEBTOR,2026-02-01,case 9,,"])
    assert standing.score(town, LI_NA).grade == "D"
    result, rejects = _import(
        town, tmp_path, "b.csv", [f"court,C2,{LI_NA},DEBT-PAID,2026-09-01,paid in full,,C1"]
    )
    assert (result.accepted, rejects.height) == (1, 0)
    now = standing.score(town, LI_NA)
    assert (now.score, now.grade) == (950, "B")
    # Not retroactive: before the repair date the listing still caps at D.
    assert standing.score(town, LI_NA, as_of=date(2026, 8, 31)).grade == "D"
    original = _entry(town, "C1")
    assert (original["ends_on"], original["why"]) == ("2026-09-01", "ended")
    assert "repaired by event C2" in original["status_reason"]


def test_correction_withdraws_the_original(town: Registry, tmp_path: Path):
    _import(town, tmp_path, "a.csv", [f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-05-01,,,"])
    result, _ = _import(
        town, tmp_path, "b.csv", [f"traffic-police,T1b,{LI_NA},TRAFFIC-RED-LIGHT,2026-05-02,,T1,"]
    )
    assert result.accepted == 1
    original = _entry(town, "T1")
    assert (original["status"], original["counts"]) == ("withdrawn", False)
    assert original["status_reason"] == "corrected by event T1b"
    assert _entry(town, "T1b")["corrects"] == "T1"
    assert standing.score(town, LI_NA).score == 995


def test_reference_refusals(town: Registry, tmp_path: Path):
    _import(
        town,
        tmp_path,
        "a.csv",
        [
            f"court,C1,{LI_NA},DEBTOR,2026-02-01,,,",
            f"traffic-police,T1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-05-01,,,",
        ],
    )
    _, rejects = _import(
        town,
        tmp_path,
        "b.csv",
        [
            f"court,R1,{LI_NA},DEBT-PAID,2026-03-01,,,NOPE",  # unknown original
            f"court,R2,{LI_NA},DEBT-PAID,2026-03-01,,C1,C1",  # both
            f"traffic-police,R3,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,,T1,",  # other person
            f"court,R4,{LI_NA},DEBTOR,2026-03-01,,,C1",  # not the repair rule
            f"court,R5,{LI_NA},DEBT-PAID,2026-01-15,,,C1",  # before the original
            f"traffic-police,C1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,,C1,",  # other agency's key
        ],
    )
    assert rejects["reason"].to_list() == [
        "unknown-original",
        "invalid-reference",
        "invalid-reference",
        "invalid-reference",
        "invalid-reference",
        "unknown-original",
    ]
    messages = rejects["message"].to_list()
    assert "not both" in messages[1] and "another person" in messages[2]
    assert "does not repair" in messages[3] and "before the event" in messages[4]


def test_yearly_cap_cuts_points_beyond_it(town: Registry, tmp_path: Path):
    rows = [f"red-cross,D{n},{LI_NA},DONATION,2026-0{n}-01,,," for n in range(1, 5)]
    result, _ = _import(town, tmp_path, "a.csv", rows)
    assert result.accepted == 4
    cut = [
        (_entry(town, f"D{n}")["points"], _entry(town, f"D{n}")["points_cut"]) for n in range(1, 5)
    ]
    assert cut == [(15, 0), (15, 0), (10, 5), (0, 15)]
    assert standing.score(town, LI_NA).score == 1040
    _import(town, tmp_path, "b.csv", [f"red-cross,D9,{LI_NA},DONATION,2026-10-01,,,"])
    assert _entry(town, "D9")["points"] == 0  # the year's cap is spent across imports


def test_a_file_sent_again_with_new_rows_allots_the_cap_to_the_new_ones(
    town: Registry, tmp_path: Path
):
    """An agency sends its file again with one more donation: the rows already stored are
    duplicates and use nothing a second time, so the new one gets what the cap has left."""
    rows = [f"red-cross,D{n},{LI_NA},DONATION,2026-0{n}-01,,," for n in (1, 2)]
    _import(town, tmp_path, "a.csv", rows)
    again = [*rows, f"red-cross,D3,{LI_NA},DONATION,2026-03-01,,,"]
    result, _ = _import(town, tmp_path, "b.csv", again)
    assert (result.accepted, result.duplicates) == (1, 2)
    assert (_entry(town, "D3")["points"], _entry(town, "D3")["points_cut"]) == (10, 5)
    assert standing.score(town, LI_NA).score == 1040


def test_yearly_caps_across_the_batches_of_one_file(town_in_pairs: Registry, tmp_path: Path):
    """A batch's caps count what the batches before it in the same file used, and stop
    counting an original once a batch has corrected it. On PostgreSQL the batches after the
    first are judged while the one before is written. Batches of two rows; a cap of 40,
    donations of 15."""
    registry = town_in_pairs
    gift = "red-cross,{},{},DONATION,2026-0{}-01,,{},"
    _import(registry, tmp_path, "a.csv", [gift.format("D0", LI_NA, 1, "")])  # stored: 15
    result, _ = _import(
        registry,
        tmp_path,
        "b.csv",
        [gift.format(f"D{n}", LI_NA, n, "") for n in range(1, 5)],  # [D1, D2] [D3, D4]
    )
    assert result.accepted == 4
    assert [(_entry(registry, f"D{n}")["points"]) for n in range(1, 5)] == [15, 10, 0, 0]
    result, _ = _import(
        registry,
        tmp_path,
        "c.csv",
        [
            # Allotted on arrival, while D0 still counts: nothing left for D0c or D5.
            gift.format("D0c", LI_NA, 5, "D0"),
            gift.format("D5", LI_NA, 6, ""),
            # Allotted after the batch that withdrew D0 committed: 15 free.
            gift.format("D6", LI_NA, 7, ""),
        ],
    )
    assert result.accepted == 3
    assert _entry(registry, "D0")["status"] == "withdrawn"
    points = [_entry(registry, event_id)["points"] for event_id in ("D0c", "D5", "D6")]
    assert points == [0, 0, 15]
    assert standing.score(registry, LI_NA).score == 1000 + 40


def _catalogue_versions(folder: Path) -> list[Path]:
    """due-process.yaml as two versions: 2026.1 without the donations' yearly cap, 2026.2
    (from June) with it."""
    capped = yaml.safe_load((FIXTURES / "due-process.yaml").read_text(encoding="utf-8"))
    uncapped = copy.deepcopy(capped)
    for rule in uncapped["rules"]:
        rule.pop("max_points_per_year", None)
    capped |= {"version": "2026.2", "effective_from": date(2026, 6, 1)}
    paths = [folder / "v1.yaml", folder / "v2.yaml"]
    for path, catalogue in zip(paths, (uncapped, capped), strict=True):
        path.write_text(yaml.safe_dump(catalogue, allow_unicode=True), encoding="utf-8")
    return paths


def test_yearly_cap_counts_a_rules_entries_of_an_uncapped_version(
    make_registry, database_url: str, people_file: Path, tmp_path: Path
):
    """A rule's yearly cap counts the year's entries of that rule whatever catalogue version
    judged them, here from earlier batches of the same file (on PostgreSQL tallied by the
    import itself, not read from the store): 30 points of the uncapped version leave 10 of
    the cap of 40. Batches of two rows."""
    registry = make_registry(database_url, _catalogue_versions(tmp_path), batch_rows=2)
    import_people(registry, people_file)
    gift = "red-cross,{},{},DONATION,2026-0{}-01,,,"
    rows = [gift.format(f"D{month}", LI_NA, month) for month in (1, 2, 7, 8)]
    result, rejects = _import(registry, tmp_path, "a.csv", rows)  # [D1, D2] [D7, D8]
    assert (result.accepted, rejects.height) == (4, 0)
    versions = [_entry(registry, f"D{month}")["catalogue_version"] for month in (1, 2, 7, 8)]
    assert versions == ["2026.1", "2026.1", "2026.2", "2026.2"]
    points = [_entry(registry, f"D{month}")["points"] for month in (1, 2, 7, 8)]
    assert points == [15, 15, 10, 0]


def test_negative_entries_send_notices(town: Registry, tmp_path: Path):
    _import(
        town,
        tmp_path,
        "a.csv",
        [
            f"court,C1,{LI_NA},DEBTOR,2026-02-01,,,",
            f"red-cross,D1,{LI_NA},DONATION,2026-03-01,,,",
        ],
    )
    notices = list_notices(town, LI_NA)
    assert [notice.kind for notice in notices] == ["entry"]
    assert notices[0].detail is not None and notices[0].detail["event_id"] == "C1"
    assert "grade no better than D" in notices[0].body


def test_a_correction_in_a_later_batch_of_the_same_file(town_in_pairs: Registry, tmp_path: Path):
    """On PostgreSQL a batch is judged while the one before it is written; a batch that
    refers to an event (here: in the batch being written) is judged after that one commits,
    so the correction finds its original. Batches of two rows: [T1, T2] [T1b, T3] [T4]."""
    registry = town_in_pairs
    red = "traffic-police,{},{},TRAFFIC-RED-LIGHT,2026-05-0{},,{},"
    result, rejects = _import(
        registry,
        tmp_path,
        "mixed.csv",
        [
            red.format("T1", LI_NA, 1, ""),
            red.format("T2", ZHANG_JIAN, 1, ""),
            red.format("T1b", LI_NA, 2, "T1"),
            red.format("T3", ZHANG_JIAN, 3, ""),
            red.format("T4", ZHANG_JIAN, 4, ""),
        ],
    )
    assert (result.accepted, result.rejected, rejects.height) == (5, 0, 0)
    original = _entry(registry, "T1")
    assert (original["status"], original["status_reason"]) == (
        "withdrawn",
        "corrected by event T1b",
    )
    assert standing.score(registry, LI_NA).score == 995
