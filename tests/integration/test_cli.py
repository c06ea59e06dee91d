"""The command line against DESIGN.md section 4: formats, ``--json`` shapes, exit codes, errors.

Most tests call ``socialcredit.cli.main`` in-process (it raises ``SystemExit`` with the exit
code) on a SQLite registry in ``tmp_path``; a few run the installed console script in a real
subprocess, to prove that stdout under ``--json`` is exactly one JSON document and that no
error ever prints a traceback. The clock is pinned through ``SOCIALCREDIT_NOW``.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from tests.conftest import (
    EVENTS_HEADER,
    EXAMPLE_CATALOGUE,
    LI_NA,
    NOW,
    PEOPLE_HEADER,
    ZHANG_JIAN,
    frame_of,
    open_registry,
    person,
    recent,
    write_csv,
)
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = ROOT / "catalogues" / "rongcheng.yaml"
CONSOLE_SCRIPT = Path(sys.executable).parent / "socialcredit"
WANG_FANG = person(date(1975, 8, 8), 7)  # registered, no entries
NOBODY = person(date(1970, 1, 1), 1)  # valid, never registered

PEOPLE_KEYS = {"submitted", "added", "updated", "unchanged", "rejected"}
EVENTS_KEYS = {"submitted", "accepted", "duplicates", "rejected"}
SCORE_KEYS = {"id", "as_of", "score", "grade", "blacklisted"}
STATEMENT_KEYS = {
    "id",
    "name",
    "as_of",
    "score",
    "grade",
    "blacklisted",
    "base_score",
    "catalogue_version",
    "entries",
}
ENTRY_KEYS = {
    "agency",
    "event_id",
    "rule",
    "title",
    "points",
    "occurred_on",
    "counts_until",
    "blacklist_until",
    "grade_cap",
    "status",
    "counts",
    "why",
}


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    monkeypatch.delenv("SOCIALCREDIT_DB", raising=False)
    monkeypatch.chdir(tmp_path)  # the default database must never land in the source tree
    return f"sqlite:///{tmp_path / 'registry.db'}"


@pytest.fixture
def cli(db_url: str, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    return runner(capsys, db_url)


def _build(folder: Path, with_events: bool) -> Path:
    """A registry file with the example catalogue, three people and maybe the town's events."""
    path = folder / "registry.db"
    registry = open_registry(f"sqlite:///{path}")
    try:
        init_registry(registry, [EXAMPLE_CATALOGUE])
        import_people(
            registry,
            write_csv(
                folder / "people.csv",
                PEOPLE_HEADER,
                [
                    f"{ZHANG_JIAN},张建,崖头街道,true",
                    f"{LI_NA},李娜,城西街道,false",
                    f"{WANG_FANG},王芳,港湾街道,no",
                ],
            ),
        )
        if with_events:
            result = import_events(
                registry,
                write_csv(
                    folder / "events.csv",
                    EVENTS_HEADER,
                    [
                        f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(200)},ticket 1",
                        f"forestry-bureau,FB-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(90)},",
                        f"public-security,PS-1,{LI_NA},PUBLIC-FIGHT,2026-01-10,case 1",
                        f"public-security,PS-2,{LI_NA},PUBLIC-FIGHT,{recent(30)},case 2",
                    ],
                ),
            )
            assert result.accepted == 4
    finally:
        registry.close()
    return path


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Built once per module and copied per test: setting up a registry is the slow part."""
    return {
        name: _build(tmp_path_factory.mktemp(name), name == "town") for name in ("people", "town")
    }


def _copy(template: Path, db_url: str) -> None:
    target = Path(db_url.removeprefix("sqlite:///"))
    for suffix in ("", "-wal", "-shm"):
        source = template.with_name(template.name + suffix)
        if source.exists():
            shutil.copyfile(source, target.with_name(target.name + suffix))


@pytest.fixture
def registry_cli(cli, templates: dict[str, Path], db_url: str):
    """A registry with the example catalogue and three people (one with no entries)."""
    _copy(templates["people"], db_url)
    return cli


@pytest.fixture
def town(cli, templates: dict[str, Path], db_url: str):
    """Zhang Jian at 1015 (A+); Li Na at 940 (B) and blacklisted; Wang Fang untouched."""
    _copy(templates["town"], db_url)
    return cli


def catalogue_text(**replace: str) -> str:
    """The example catalogue with some of its lines replaced (``old line`` -> ``new line``)."""
    text = EXAMPLE_CATALOGUE.read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


# --- init and catalogues ------------------------------------------------------------------


def test_init_loads_the_bundled_catalogue_when_none_is_given(cli):
    assert BUNDLED.is_file(), "catalogues/rongcheng.yaml is missing"
    bundled = yaml.safe_load(BUNDLED.read_text(encoding="utf-8"))
    run = cli("init", "--json")
    assert run.code == 0
    [loaded] = run.document["catalogues"]
    assert loaded["version"] == bundled["version"]
    assert loaded["status"] == "loaded"
    assert loaded["agencies"] == len(bundled["agencies"]) >= 50
    assert loaded["rules"] == len(bundled["rules"])


def test_init_twice_is_idempotent(cli):
    first = cli("init", "--catalogue", EXAMPLE_CATALOGUE, "--json")
    again = cli("init", "--catalogue", EXAMPLE_CATALOGUE, "--json")
    bare = cli("init", "--json")  # holds a catalogue already: only migrates
    assert (first.code, again.code, bare.code) == (0, 0, 0)
    assert [c["status"] for c in first.document["catalogues"]] == ["loaded"]
    assert [c["status"] for c in again.document["catalogues"]] == ["unchanged"]
    assert bare.document["catalogues"] == []


def test_catalogue_load_then_identical_reload(cli, tmp_path: Path):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    later = tmp_path / "later.yaml"
    later.write_text(
        catalogue_text(
            **{
                'version: "2026.1"': 'version: "2026.2"',
                "effective_from: 2026-01-01": "effective_from: 2026-07-01",
                "points: -5": "points: -6",
            }
        ),
        encoding="utf-8",
    )
    run = cli("catalogue", "load", later, "--json")
    assert run.code == 0
    assert run.document == {
        "version": "2026.2",
        "effective_from": "2026-07-01",
        "status": "loaded",
        "rules": 3,
        "agencies": 3,
        "policies": 2,
    }
    again = cli("catalogue", "load", later, "--json")
    assert again.code == 0 and again.document["status"] == "unchanged"


def test_invalid_catalogue_names_rule_and_field_one_line_each(cli, tmp_path: Path):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        catalogue_text(
            **{
                "points: -5": "points: five",
                "counts_for: P1Y\n    reporters: [traffic-police]": "counts_for: one year\n    reporters: [traffic-police]",
            }
        ),
        encoding="utf-8",
    )
    run = cli("catalogue", "load", broken, "--json")
    assert run.code == 2
    assert run.document["error"]["code"] == "invalid-catalogue"
    lines = run.err.strip().splitlines()
    assert len(lines) == 2, run.err
    assert any("TRAFFIC-RED-LIGHT" in line and "points" in line for line in lines)
    assert any("TRAFFIC-RED-LIGHT" in line and "counts_for" in line for line in lines)
    assert all(line.startswith("error:") for line in lines)


def test_unquoted_version_is_refused(cli, tmp_path: Path):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    bare = tmp_path / "bare.yaml"
    bare.write_text(catalogue_text(**{'version: "2026.1"': "version: 2026.1"}), encoding="utf-8")
    line = refused(cli("catalogue", "load", bare, "--json"), 2, "invalid-catalogue")
    assert "version" in line


def test_protected_ground_rule_is_refused(cli, tmp_path: Path):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    belief = tmp_path / "belief.yaml"
    belief.write_text(
        catalogue_text(
            **{
                'version: "2026.1"': 'version: "2026.2"',
                "effective_from: 2026-01-01": "effective_from: 2026-07-01",
                "policies:": "  - code: CHURCH-ATTENDANCE\n    title: Attending an unregistered church\n"
                "    category: public-order\n    points: -10\n    counts_for: P1Y\n"
                "    reporters: [public-security]\n    legal_basis: Public Security Law, art. 23\n"
                "policies:",
            }
        ),
        encoding="utf-8",
    )
    line = refused(cli("catalogue", "load", belief, "--json"), 2, "invalid-catalogue")
    assert "CHURCH-ATTENDANCE" in line and "protected ground" in line
    assert cli("catalogue", "load", EXAMPLE_CATALOGUE, "--json").document["status"] == "unchanged"


@pytest.mark.parametrize("effective_from", ["2025-06-01", "2026-01-01"])
def test_version_dated_on_or_before_a_loaded_one_is_refused(
    cli, tmp_path: Path, effective_from: str
):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    earlier = tmp_path / "earlier.yaml"
    earlier.write_text(
        catalogue_text(
            **{
                'version: "2026.1"': 'version: "2025.9"',
                "effective_from: 2026-01-01": f"effective_from: {effective_from}",
            }
        ),
        encoding="utf-8",
    )
    line = refused(cli("catalogue", "load", earlier, "--json"), 2, "invalid-catalogue")
    assert "effective_from" in line


# --- imports ------------------------------------------------------------------------------


def test_people_import_json_and_default_rejects_next_to_the_input(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    folder = tmp_path / "in"
    folder.mkdir()
    path = write_csv(
        folder / "people.csv",
        PEOPLE_HEADER,
        [
            f"{ZHANG_JIAN},张建,崖头街道,true",
            f"{LI_NA},李娜,城西街道,false",
            "371082198403051230,坏号,城西街道,false",
            f"{WANG_FANG},王芳,港湾街道,maybe",
        ],
    )
    monkeypatch.chdir(tmp_path)  # the rejects go next to the input, not into the current folder
    run = cli("people", "import", path, "--json")
    assert run.code == 0
    document = run.document
    assert set(document) >= PEOPLE_KEYS
    assert {k: document[k] for k in PEOPLE_KEYS} == {
        "submitted": 4,
        "added": 2,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    rejects = pl.read_csv(folder / "people.rejects.csv", infer_schema=False)
    assert rejects.columns == [
        "row",
        "reason",
        "message",
        "id",
        "name",
        "district",
        "public_servant",
    ]
    assert rejects["row"].to_list() == ["3", "4"]
    assert rejects["reason"].to_list() == ["invalid-person-id", "invalid-flag"]
    again = cli(
        "people",
        "import",
        write_csv(
            folder / "more.csv",
            PEOPLE_HEADER,
            [f"{ZHANG_JIAN},张建,崖头街道,TRUE", f"{LI_NA},李娜,港湾街道,0"],
        ),
        "--json",
    ).document
    assert {k: again[k] for k in PEOPLE_KEYS} == {
        "submitted": 2,
        "added": 0,
        "updated": 1,
        "unchanged": 1,
        "rejected": 0,
    }


def test_events_import_json_counts_add_up(
    registry_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    folder = tmp_path / "agency"
    folder.mkdir()
    path = write_csv(
        folder / "batch-7.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,",
            f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,",
            f"traffic-police,T2,{NOBODY},TRAFFIC-RED-LIGHT,2026-06-01,",
            f"traffic-police,T3,{LI_NA},TRAFFIC-RED-LIGHT,2026-12-01,",
        ],
    )
    monkeypatch.chdir(tmp_path)
    document = registry_cli("events", "import", path, "--json").document
    assert set(document) >= EVENTS_KEYS
    assert {k: document[k] for k in EVENTS_KEYS} == {
        "submitted": 4,
        "accepted": 1,
        "duplicates": 1,
        "rejected": 2,
    }
    assert document["submitted"] == (
        document["accepted"] + document["duplicates"] + document["rejected"]
    )
    rejects = pl.read_csv(folder / "batch-7.rejects.csv", infer_schema=False)
    assert rejects["reason"].to_list() == ["unregistered-person", "future-date"]
    assert rejects["row"].to_list() == ["3", "4"]
    assert not (tmp_path / "batch-7.rejects.csv").exists()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet", ".csv"])
def test_rejects_file_in_any_format(registry_cli, tmp_path: Path, suffix: str):
    path = write_csv(
        tmp_path / "events.csv",
        EVENTS_HEADER + ",note",
        [
            f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,,fine",
            f"traffic-police,T2,{LI_NA},NO-SUCH-RULE,2026-06-01,photo,kept",
        ],
    )
    rejects_path = tmp_path / f"out{suffix}"
    run = registry_cli("events", "import", path, "--rejects", rejects_path, "--json")
    assert run.code == 0 and run.document["rejected"] == 1
    rejects = frame_of(rejects_path)
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
        "note",
    ]
    row = rejects.row(0, named=True)
    assert (int(row["row"]), row["reason"], row["note"]) == (2, "unknown-rule", "kept")
    assert not (tmp_path / "events.rejects.csv").exists()


def test_gb18030_input_with_encoding_option(registry_cli, tmp_path: Path):
    people = tmp_path / "people-gbk.csv"
    people.write_bytes(
        f"{PEOPLE_HEADER}\n{NOBODY},欧阳修,石岛管理区,否\n{NOBODY},欧阳修,石岛管理区,no\n".encode(
            "gb18030"
        )
    )
    run = registry_cli("people", "import", people, "--encoding", "gb18030", "--json")
    assert (run.code, run.document["added"], run.document["rejected"]) == (0, 1, 1)
    events = tmp_path / "events-gbk.csv"
    events.write_bytes(
        f"{EVENTS_HEADER}\npublic-security,G1,{NOBODY},PUBLIC-FIGHT,2026-06-01,"
        "在荣成市石岛镇打架\n".encode("gb18030")
    )
    run = registry_cli("events", "import", events, "--encoding", "GB18030", "--json")
    assert run.code == 0 and run.document["accepted"] == 1
    statement = registry_cli("statement", NOBODY, "--json").document
    assert statement["name"] == "欧阳修"
    assert statement["entries"][0]["evidence"] == "在荣成市石岛镇打架"


def test_csv_with_utf8_bom(registry_cli, tmp_path: Path):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + f"{EVENTS_HEADER}\ntraffic-police,B1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,证据\n".encode()
    )
    run = registry_cli("events", "import", path, "--json")
    assert run.code == 0 and run.document["accepted"] == 1
    assert registry_cli("score", LI_NA, "--json").document["score"] == 995


def test_jsonl_input_numbers_and_booleans(registry_cli, tmp_path: Path):
    people = tmp_path / "people.jsonl"
    people.write_text(
        json.dumps(
            {"id": NOBODY, "name": "赵敏", "district": "寻山街道", "public_servant": True},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    run = registry_cli("people", "import", people, "--json")
    assert run.code == 0 and run.document["added"] == 1
    records = [
        {
            "agency": "forestry-bureau",
            "event_id": 7,
            "person_id": NOBODY,
            "rule": "WORK-MERIT-ANNUAL",
            "occurred_on": "2026-06-01",
            "evidence": None,
        },
        {
            "agency": "traffic-police",
            "event_id": 123456789012,
            "person_id": NOBODY,
            "rule": "TRAFFIC-RED-LIGHT",
            "occurred_on": "2026-06-02",
        },
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    run = registry_cli("events", "import", events, "--json")
    assert run.code == 0 and run.document["accepted"] == 2
    statement = registry_cli("statement", NOBODY, "--json").document
    assert sorted(e["event_id"] for e in statement["entries"]) == ["123456789012", "7"]
    assert statement["score"] == 1015
    # The event_id is compared as text: "7" sent as a string is the same key.
    again = tmp_path / "again.jsonl"
    again.write_text(json.dumps({**records[0], "event_id": "7"}) + "\n", encoding="utf-8")
    assert registry_cli("events", "import", again, "--json").document["duplicates"] == 1


def test_jsonl_numbers_keep_their_text_next_to_a_decimal(registry_cli, tmp_path: Path):
    """One record with a decimal must not turn the other records' integers into 7.0."""
    records = [
        {
            "agency": "traffic-police",
            "event_id": 7,
            "person_id": LI_NA,
            "rule": "TRAFFIC-RED-LIGHT",
            "occurred_on": "2026-06-01",
        },
        {
            "agency": "traffic-police",
            "event_id": 8.5,
            "person_id": LI_NA,
            "rule": "TRAFFIC-RED-LIGHT",
            "occurred_on": "2026-06-02",
        },
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    assert registry_cli("events", "import", events, "--json").document["accepted"] == 2
    statement = registry_cli("statement", LI_NA, "--json").document
    assert sorted(e["event_id"] for e in statement["entries"]) == ["7", "8.5"]


def test_parquet_input_with_typed_columns(registry_cli, tmp_path: Path):
    people = tmp_path / "people.parquet"
    pq.write_table(
        pa.table(
            {
                "id": [NOBODY],
                "name": ["孙丽"],
                "district": ["东山街道"],
                "public_servant": pa.array([False], pa.bool_()),
            }
        ),
        people,
    )
    run = registry_cli("people", "import", people, "--json")
    assert run.code == 0 and run.document["added"] == 1
    events = tmp_path / "events.parquet"
    pq.write_table(
        pa.table(
            {
                "agency": ["traffic-police", "traffic-police"],
                "event_id": ["P1", "P2"],
                "person_id": [NOBODY, NOBODY],
                "rule": ["TRAFFIC-RED-LIGHT", "TRAFFIC-RED-LIGHT"],
                "occurred_on": pa.array([date(2026, 6, 1), date(2026, 12, 1)], pa.date32()),
            }
        ),
        events,
    )
    run = registry_cli("events", "import", events, "--json")
    assert run.code == 0
    assert (run.document["accepted"], run.document["rejected"]) == (1, 1)
    rejects = pl.read_csv(tmp_path / "events.rejects.csv", infer_schema=False)
    assert rejects.row(0, named=True)["occurred_on"] == "2026-12-01"
    assert rejects["reason"].to_list() == ["future-date"]
    entry = registry_cli("statement", NOBODY, "--json").document["entries"][0]
    assert (entry["event_id"], entry["occurred_on"]) == ("P1", "2026-06-01")


# --- questions ----------------------------------------------------------------------------


def test_score_json(town):
    document = town("score", ZHANG_JIAN, "--json").document
    assert set(document) >= SCORE_KEYS
    assert {k: document[k] for k in SCORE_KEYS} == {
        "id": ZHANG_JIAN,
        "as_of": "2026-11-27",
        "score": 1015,
        "grade": "A+",
        "blacklisted": False,
    }
    li_na = town("score", LI_NA.lower(), "--json").document
    assert (li_na["id"], li_na["score"], li_na["grade"], li_na["blacklisted"]) == (
        LI_NA,
        940,
        "B",
        True,
    )


def test_statement_json_shape_and_as_of(town):
    document = town("statement", LI_NA, "--json").document
    assert set(document) >= STATEMENT_KEYS
    assert (
        document["name"],
        document["score"],
        document["base_score"],
        document["catalogue_version"],
    ) == ("李娜", 940, 1000, "2026.1")
    assert len(document["entries"]) == 2
    for entry in document["entries"]:
        assert set(entry) >= ENTRY_KEYS
    first = document["entries"][0]
    assert {k: first[k] for k in ENTRY_KEYS} == {
        "agency": "public-security",
        "event_id": "PS-1",
        "rule": "PUBLIC-FIGHT",
        "title": "Fighting in a public place",
        "points": -30,
        "occurred_on": "2026-01-10",
        "counts_until": "2027-01-10",
        "blacklist_until": "2027-01-10",
        "grade_cap": None,
        "status": "active",
        "counts": True,
        "why": "counts",
    }
    later = town("statement", LI_NA, "--as-of", "2027-02-01", "--json").document
    assert [(e["event_id"], e["why"], e["counts"]) for e in later["entries"]] == [
        ("PS-1", "expired", False),
        ("PS-2", "counts", True),
    ]
    assert later["score"] == 970
    before = town("statement", ZHANG_JIAN, "--as-of", recent(100), "--json").document
    assert [e["event_id"] for e in before["entries"]] == ["TP-1"]  # FB-1 occurred later
    assert (before["as_of"], before["score"]) == (recent(100), 995)


def test_check_eligible_and_ineligible(town):
    yes = town("check", ZHANG_JIAN, "civil-service-promotion", "--purpose", "promotion", "--json")
    assert yes.code == 0
    assert (yes.document["eligible"], yes.document["reasons"]) == (True, [])
    no = town("check", LI_NA, "civil-service-promotion", "--json")
    assert no.code == 0  # "no" is an answer
    assert no.document["eligible"] is False
    assert no.document["reasons"] == [{"requirement": "min_grade", "wanted": "A", "actual": "B"}]
    blacklisted = town("check", LI_NA, "management-position", "--json").document
    assert blacklisted["eligible"] is False
    assert [set(r) for r in blacklisted["reasons"]] == [{"requirement", "wanted", "actual"}]
    assert blacklisted["reasons"][0]["requirement"] == "not_blacklisted"


def test_human_output_goes_to_stdout_and_progress_to_stderr(registry_cli, tmp_path: Path):
    path = write_csv(
        tmp_path / "e.csv",
        EVENTS_HEADER,
        [f"traffic-police,H1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,"],
    )
    human = registry_cli("events", "import", path)
    assert human.code == 0
    assert "accepted" in human.out and "1/1" not in human.out
    path = write_csv(
        tmp_path / "f.csv",
        EVENTS_HEADER,
        [f"traffic-police,H2,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,"],
    )
    machine = registry_cli("events", "import", path, "--json")
    assert machine.document["accepted"] == 1
    assert "events" in machine.err and "1/1" in machine.err  # the progress bar


# --- refusals (exit 1) and usage errors (exit 2) -----------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["score", "37108219840305123"], "invalid-person-id"),
        (["score", ZHANG_JIAN[:-1] + ("0" if ZHANG_JIAN[-1] != "0" else "1")], "invalid-person-id"),
        (["statement", "３７１０８２１９８４０３０５１２３９"], "invalid-person-id"),
        (["score", NOBODY], "unregistered-person"),
        (["statement", NOBODY], "unregistered-person"),
        (["check", NOBODY, "civil-service-promotion"], "unregistered-person"),
        (["check", ZHANG_JIAN, "no-such-policy"], "unknown-policy"),
        (["score", ZHANG_JIAN, "--as-of", "2025-12-31"], "no-catalogue"),
        (["check", ZHANG_JIAN, "civil-service-promotion", "--as-of", "2025-12-31"], "no-catalogue"),
        (["scores", "export", "out.csv", "--as-of", "2025-12-31"], "no-catalogue"),
    ],
)
def test_refusals_exit_1(town, args: list[str], code: str):
    refused(town(*args, "--json"), 1, code)


def test_usage_and_unreadable_input_exit_2(registry_cli, tmp_path: Path):
    missing = tmp_path / "missing.csv"
    line = refused(registry_cli("events", "import", missing, "--json"), 2, "unreadable-input")
    assert "missing.csv" in line
    no_rule = write_csv(
        tmp_path / "short.csv",
        "agency,event_id,person_id,occurred_on",
        ["traffic-police,1,x,2026-01-01"],
    )
    line = refused(registry_cli("events", "import", no_rule, "--json"), 2, "unreadable-input")
    assert "rule" in line and "missing column" in line
    text = tmp_path / "events.txt"
    text.write_text(EVENTS_HEADER + "\n", encoding="utf-8")
    line = refused(registry_cli("events", "import", text, "--json"), 2, "unreadable-input")
    assert ".txt" in line
    yaml_people = tmp_path / "people.xlsx"
    yaml_people.write_bytes(b"PK\x03\x04")
    refused(registry_cli("people", "import", yaml_people, "--json"), 2, "unreadable-input")


@pytest.mark.parametrize("as_of", ["2026-13-01", "tomorrow", "2026/06/01", ""])
def test_bad_as_of_exits_2(town, as_of: str):
    line = refused(town("score", ZHANG_JIAN, "--as-of", as_of, "--json"), 2, "invalid-input")
    assert "--as-of" in line


@pytest.mark.parametrize(
    ("args", "code", "named"),
    [
        (["score", ZHANG_JIAN, "--known-at", "yesterday"], "invalid-input", "--known-at"),
        (["scores", "export", "scores.txt"], "unreadable-input", ".txt"),
        (["scores", "export", "no/such/scores.csv"], "unreadable-input", "does not exist"),
        (
            ["people", "import", "people.csv", "--encoding", "klingon"],
            "unreadable-input",
            "klingon",
        ),
    ],
)
def test_other_bad_arguments_exit_2(town, tmp_path: Path, args: list[str], code: str, named: str):
    write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [])  # the current folder
    assert named in refused(town(*args, "--json"), 2, code)


def test_usage_errors_under_json(cli):
    run = cli("score", "--json")  # the ID is missing
    assert run.code == 2
    assert set(run.document) == {"error"} and run.document["error"]["code"] == "usage"
    run.error_line()
    run = cli("score", ZHANG_JIAN, "--frobnicate", "--json")
    assert run.code == 2 and run.document["error"]["code"] == "usage"
    run.error_line()


def test_bad_setting_is_a_one_line_error(registry_cli, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOCIALCREDIT_BATCH_ROWS", "lots")
    line = refused(registry_cli("score", ZHANG_JIAN, "--json"), 2, "invalid-input")
    assert "batch_rows" in line


# --- where the database is ----------------------------------------------------------------


def test_db_before_or_after_the_subcommand(town, db_url: str):
    first = town("--db", db_url, "score", ZHANG_JIAN, "--json", db=False)
    after = town("score", ZHANG_JIAN, "--db", db_url, "--json", db=False)
    assert first.document["score"] == after.document["score"] == 1015


def test_db_from_environment(town, db_url: str, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOCIALCREDIT_DB", db_url)
    assert town("score", ZHANG_JIAN, "--json", db=False).document["score"] == 1015


def test_default_db_is_socialcredit_db_in_the_current_folder(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    here = tmp_path / "office"
    here.mkdir()
    monkeypatch.chdir(here)
    run = cli("init", "--catalogue", EXAMPLE_CATALOGUE, "--json", db=False)
    assert run.code == 0
    assert (here / "socialcredit.db").is_file()
    assert not (tmp_path / "registry.db").exists()


def test_a_database_init_has_not_set_up_is_a_clear_error(cli, tmp_path: Path):
    line = refused(cli("score", ZHANG_JIAN, "--json", db=False), 2, "invalid-input")
    assert "socialcredit.db" in line and "init" in line
    assert not (tmp_path / "socialcredit.db").exists()  # asking creates nothing
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    line = refused(
        cli("--db", f"sqlite:///{empty}", "statement", LI_NA, "--json", db=False),
        2,
        "invalid-input",
    )
    assert "not set up" in line and "init" in line
    line = refused(
        cli("--db", f"sqlite:///{tmp_path / 'no' / 'such.db'}", "init", "--json", db=False),
        2,
        "invalid-input",
    )
    assert "does not exist" in line
    line = refused(
        cli("--db", "mysql://localhost/x", "init", "--json", db=False), 2, "invalid-input"
    )
    assert "postgresql" in line


# --- scores export ------------------------------------------------------------------------


def test_scores_export_csv(town, tmp_path: Path):
    path = tmp_path / "scores.csv"
    run = town("scores", "export", path, "--json")
    assert run.code == 0 and run.document["people"] == 3
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,score,grade,blacklisted"
    expected = {
        ZHANG_JIAN: f"{ZHANG_JIAN},1015,A+,false",
        LI_NA: f"{LI_NA},940,B,true",
        WANG_FANG: f"{WANG_FANG},1000,A,false",
    }
    assert lines[1:] == [expected[key] for key in sorted(expected)]
    old = tmp_path / "old.csv"
    assert town("scores", "export", old, "--as-of", "2026-01-09").code == 0
    assert old.read_text(encoding="utf-8").splitlines()[1:] == [
        f"{key},1000,A,false" for key in sorted(expected)
    ]


# --- real processes -----------------------------------------------------------------------


def _process(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "SOCIALCREDIT_NOW": NOW}
    environment.pop("SOCIALCREDIT_DB", None)
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *map(str, args)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_console_script_json_is_one_document_and_errors_never_trace(
    cli, tmp_path: Path, db_url: str
):
    """Three real processes: a success, a refusal and an unreadable file, all under --json."""
    cli("init", "--catalogue", EXAMPLE_CATALOGUE)
    cli(
        "people",
        "import",
        write_csv(tmp_path / "people.csv", PEOPLE_HEADER, [f"{LI_NA},李娜,城西街道,false"]),
    )
    events = write_csv(
        tmp_path / "events.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,S1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,",
            f"traffic-police,S2,{LI_NA},NOPE,2026-06-01,",
        ],
    )
    for args, exit_code in [
        (("events", "import", events), 0),
        (("check", LI_NA, "nope"), 1),
        (("events", "import", tmp_path / "nope.csv"), 2),
    ]:
        done = _process("--db", db_url, *args, "--json", cwd=tmp_path)
        assert done.returncode == exit_code, (args, done.stderr)
        assert done.stdout.count("\n") == 1, (args, done.stdout)
        document = json.loads(done.stdout)
        assert "Traceback" not in done.stderr
        if exit_code:
            assert set(document) == {"error"}
            assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        else:
            assert document["accepted"] == 1 and "2/2" in done.stderr  # progress on stderr


def test_no_command_prints_help_and_exits_2(cli):
    run = cli(db=False)
    assert run.code == 2
    assert "Usage" in run.out + run.err and "Traceback" not in run.err
