"""Hostile import files: whatever arrives, the import answers clearly and loses nothing.

Each case runs ``people import`` or ``events import`` through the CLI (``--json``) and checks
the exit code, that stderr never holds a traceback, that an error is one plain line, and the
accounting: every data row written is submitted, and ``submitted`` splits exactly into the
outcomes (``accepted + duplicates + rejected`` for events, ``added + updated + unchanged +
rejected`` for people), with one line in the rejects file per rejected row.
"""

import csv
import hashlib
import json
import random
import shutil
import string
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from tests.conftest import EXAMPLE_CATALOGUE, LI_NA, NOW, ZHANG_JIAN, open_registry, person
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.files.readers import read_table
from socialcredit.services.catalogue import init_registry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

PEOPLE_COLUMNS = ["id", "name", "district", "public_servant"]
EVENT_COLUMNS = ["agency", "event_id", "person_id", "rule", "occurred_on", "evidence"]
COLUMNS = {"people": PEOPLE_COLUMNS, "events": EVENT_COLUMNS}
OUTCOMES = {
    "people": ("added", "updated", "unchanged", "rejected"),
    "events": ("accepted", "duplicates", "rejected"),
}
KINDS = ["people", "events"]
SUFFIXES = [".csv", ".jsonl", ".parquet"]


def good_row(kind: str, n: int) -> dict[str, str]:
    """A valid row; rows with different ``n`` are different people or events."""
    if kind == "people":
        return {
            "id": person(date(1980, 1, 1), n),
            "name": f"居民{n}",
            "district": "崖头街道",
            "public_servant": "false",
        }
    return {
        "agency": "traffic-police",
        "event_id": f"E{n}",
        "person_id": LI_NA,
        "rule": "TRAFFIC-RED-LIGHT",
        "occurred_on": "2026-06-01",
        "evidence": f"ticket {n}",
    }


def good_rows(kind: str, count: int) -> list[dict[str, str]]:
    return [good_row(kind, n) for n in range(1, count + 1)]


def write_rows(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """Rows as CSV, JSON Lines or Parquet (all text columns), by the extension of ``path``."""
    columns = columns or list(rows[0])
    if path.suffix == ".csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows([[row.get(name) for name in columns] for row in rows])
    elif path.suffix == ".jsonl":
        path.write_text(
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8"
        )
    else:
        pq.write_table(
            pa.table(
                {name: pa.array([row.get(name) for row in rows], pa.string()) for name in columns}
            ),
            path,
        )
    return path


def csv_lines(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode())
    return path


def csv_line(row: dict[str, str]) -> str:
    return ",".join(row.values())


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A registry with the example catalogue and Zhang Jian and Li Na, copied per test."""
    folder = tmp_path_factory.mktemp("registry")
    registry = open_registry(f"sqlite:///{folder / 'registry.db'}")
    try:
        init_registry(registry, [EXAMPLE_CATALOGUE])
        people = write_rows(
            folder / "people.csv",
            [
                {
                    "id": ZHANG_JIAN,
                    "name": "张建",
                    "district": "崖头街道",
                    "public_servant": "true",
                },
                {"id": LI_NA, "name": "李娜", "district": "城西街道", "public_servant": "false"},
            ],
        )
        import_people(registry, people)
    finally:
        registry.close()
    return folder / "registry.db"


@pytest.fixture
def db_path(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    monkeypatch.delenv("SOCIALCREDIT_DB", raising=False)
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "registry.db"
    shutil.copyfile(template, target)
    return target


@pytest.fixture
def run_import(db_path: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """``run_import(kind, path, *options)``: ``socialcredit KIND import PATH --json``."""
    run = runner(capsys, f"sqlite:///{db_path}")

    def run_import(kind: str, path: Path, *options: object) -> Run:
        return run(kind, "import", path, *options, "--json")

    return run_import


def accounted(kind: str, run: Run, rows_written: int) -> dict[str, Any]:
    """The import succeeded and every row written is in exactly one outcome."""
    assert run.code == 0, run
    assert "Traceback" not in run.err
    document = run.document
    assert document["submitted"] == rows_written
    assert document["submitted"] == sum(document[key] for key in OUTCOMES[kind])
    rejects = Path(document["rejects_path"])
    if rejects.suffix == ".csv":
        assert pl.read_csv(rejects, infer_schema=False).height == document["rejected"]
    return document


def unreadable(run: Run) -> str:
    """Refused as a whole: exit 2, one plain line, the JSON error; returns the line."""
    return refused(run, 2, "unreadable-input")


def rejects_of(document: dict[str, Any]) -> pl.DataFrame:
    return pl.read_csv(document["rejects_path"], infer_schema=False)


def stored_people(db_path: Path) -> int:
    registry = Registry.open(f"sqlite:///{db_path}")
    try:
        with registry.database.read() as connection:
            return int(connection.execute(text("SELECT count(*) FROM people")).scalar_one())
    finally:
        registry.close()


# --- files that are not what they claim -------------------------------------------------


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_random_bytes(run_import, tmp_path: Path, kind: str, suffix: str):
    path = tmp_path / f"noise{suffix}"
    path.write_bytes(random.Random(11).randbytes(4096))
    unreadable(run_import(kind, path))
    assert stored_people(tmp_path / "registry.db") == 2


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("kind", KINDS)
def test_random_text(run_import, tmp_path: Path, kind: str, suffix: str):
    """Valid UTF-8 but no header or records: refused as a whole, not read as rows."""
    noise = random.Random(12)
    path = tmp_path / f"noise{suffix}"
    path.write_text(
        "\n".join("".join(noise.choices(string.ascii_letters + " ;:", k=60)) for _ in range(20))
        + "\n",
        encoding="utf-8",
    )
    line = unreadable(run_import(kind, path))
    assert "missing column" in line or "JSON" in line


@pytest.mark.parametrize(("suffix", "exit_code"), [(".csv", 2), (".jsonl", 0), (".parquet", 2)])
@pytest.mark.parametrize("kind", KINDS)
def test_empty_file(run_import, tmp_path: Path, kind: str, suffix: str, exit_code: int):
    """A CSV needs its header and a Parquet file its footer; JSON Lines holds zero records."""
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    run = run_import(kind, path)
    if exit_code:
        line = unreadable(run)
        assert "empty" in line or "Parquet" in line
    else:
        accounted(kind, run, 0)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("kind", KINDS)
def test_header_only(run_import, tmp_path: Path, kind: str, suffix: str):
    path = tmp_path / f"header{suffix}"
    if suffix == ".csv":
        csv_lines(path, [",".join(COLUMNS[kind])])
    else:
        pq.write_table(pa.table({name: pa.array([], pa.string()) for name in COLUMNS[kind]}), path)
    document = accounted(kind, run_import(kind, path), 0)
    assert rejects_of(document).columns[:3] == ["row", "reason", "message"]


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_missing_columns(run_import, tmp_path: Path, kind: str, suffix: str):
    dropped = "district" if kind == "people" else "rule"
    rows = [{k: v for k, v in row.items() if k != dropped} for row in good_rows(kind, 3)]
    line = unreadable(run_import(kind, write_rows(tmp_path / f"short{suffix}", rows)))
    assert "missing column" in line and dropped in line
    assert not (tmp_path / "short.rejects.csv").exists()


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_events_without_the_optional_evidence_column(run_import, tmp_path: Path, suffix: str):
    rows = [{k: v for k, v in row.items() if k != "evidence"} for row in good_rows("events", 3)]
    document = accounted(
        "events", run_import("events", write_rows(tmp_path / f"e{suffix}", rows)), 3
    )
    assert document["accepted"] == 3


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("kind", KINDS)
def test_extra_columns_are_kept_in_the_rejects(run_import, tmp_path: Path, kind: str, suffix: str):
    rows = [{**row, "note": f"n{i}", "来源": "柜台"} for i, row in enumerate(good_rows(kind, 3))]
    rows[1]["name" if kind == "people" else "person_id"] = ""
    document = accounted(kind, run_import(kind, write_rows(tmp_path / f"x{suffix}", rows)), 3)
    assert document["rejected"] == 1
    rejects = rejects_of(document)
    assert rejects.columns == ["row", "reason", "message", *COLUMNS[kind], "note", "来源"]
    assert rejects.select("row", "reason", "note", "来源").rows() == [
        ("2", "missing-field", "n1", "柜台")
    ]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_extra_columns_named_like_internal_ones_change_nothing(
    run_import, tmp_path: Path, db_path: Path, suffix: str
):
    """An agency cannot set the points (or anything the judging adds) with an extra column."""
    internal = {
        "points": "500",
        "reason": "r",
        "message": "m",
        "row": "9",
        "malformed": "x",
        "n_agency": "public-security",
        "version_index": "0",
        "registered": "true",
        "outcome": "accepted",
        "grade_cap": "D",
        "counts_until": "2099-01-01",
    }
    rows = [{**row, **internal} for row in good_rows("events", 2)]
    rows[1]["rule"] = "NO-SUCH-RULE"
    document = accounted(
        "events", run_import("events", write_rows(tmp_path / f"x{suffix}", rows)), 2
    )
    assert (document["accepted"], document["rejected"]) == (1, 1)
    rejects = rejects_of(document)
    assert rejects.select("row", "reason").rows() == [("2", "unknown-rule")]
    assert rejects["points"].to_list() == ["500"]
    registry = Registry.open(f"sqlite:///{db_path}")
    try:
        with registry.database.read() as connection:
            entry = connection.execute(
                text("SELECT points, grade_cap, counts_until FROM entries")
            ).one()
    finally:
        registry.close()
    assert (entry.points, entry.grade_cap, str(entry.counts_until)) == (-5, None, "2027-06-01")


@pytest.mark.parametrize("kind", KINDS)
def test_a_rejects_file_sent_back_is_judged_again(run_import, tmp_path: Path, kind: str):
    rows = good_rows(kind, 3)
    rows[1]["name" if kind == "people" else "person_id"] = ""
    first = accounted(kind, run_import(kind, write_rows(tmp_path / "first.csv", rows)), 3)
    again_path = Path(first["rejects_path"]).rename(tmp_path / "again.csv")
    again = accounted(kind, run_import(kind, again_path), 1)
    rejects = rejects_of(again)
    assert rejects.columns == ["row", "reason", "message", *COLUMNS[kind]]
    assert rejects.select("row", "reason").rows() == [("1", "missing-field")]


@pytest.mark.parametrize("kind", KINDS)
def test_rejects_never_overwrite_the_input(run_import, tmp_path: Path, kind: str, db_path: Path):
    rows = good_rows(kind, 2)
    rows[1]["name" if kind == "people" else "person_id"] = ""
    path = write_rows(tmp_path / "sent.csv", rows)
    sent = path.read_bytes()
    line = refused(run_import(kind, path, "--rejects", path), 2, "invalid-input")
    assert "input" in line
    assert path.read_bytes() == sent
    unreadable(run_import(kind, path, "--rejects", tmp_path / "rejects.txt"))
    unreadable(run_import(kind, path, "--rejects", tmp_path / "no" / "rejects.csv"))
    assert stored_people(db_path) == 2
    registry = Registry.open(f"sqlite:///{db_path}")
    try:
        with registry.database.read() as connection:
            started = connection.execute(text("SELECT count(*) FROM imports")).scalar_one()
    finally:
        registry.close()
    assert started == 1  # only the template's own import: refused runs start none


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_parquet_extension_on_text_is_refused(run_import, tmp_path: Path, kind: str, suffix: str):
    source = write_rows(tmp_path / f"rows{suffix}", good_rows(kind, 2))
    disguised = source.rename(tmp_path / "rows.parquet")
    line = unreadable(run_import(kind, disguised))
    assert "Parquet" in line


@pytest.mark.parametrize("kind", KINDS)
def test_a_directory_is_refused(run_import, tmp_path: Path, kind: str):
    (tmp_path / "folder.csv").mkdir()
    assert "not a regular file" in unreadable(run_import(kind, tmp_path / "folder.csv"))


@pytest.mark.parametrize("kind", KINDS)
def test_file_larger_than_max_file_bytes(
    run_import, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOCIALCREDIT_MAX_FILE_BYTES", "200")
    path = write_rows(tmp_path / "big.csv", good_rows(kind, 10))
    assert path.stat().st_size > 200
    line = unreadable(run_import(kind, path))
    assert "max_file_bytes" in line and "200" in line


# --- encodings ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("kind", KINDS)
def test_invalid_utf8_names_the_line_and_suggests_encoding(
    run_import, tmp_path: Path, kind: str, suffix: str
):
    path = write_rows(tmp_path / f"bad{suffix}", good_rows(kind, 6))
    lines = path.read_bytes().splitlines(keepends=True)
    lines[4] = lines[4].replace(b"ticket" if kind == "events" else "居民".encode(), b"\xff\xfe\xc3")
    path.write_bytes(b"".join(lines))
    line = unreadable(run_import(kind, path))
    assert "line 5" in line and "--encoding" in line
    assert stored_people(tmp_path / "registry.db") == 2


@pytest.mark.parametrize("kind", KINDS)
def test_invalid_utf8_in_the_header_or_a_multiline_field_names_its_line(
    run_import, tmp_path: Path, kind: str
):
    """UTF-8 files are parsed without a first pass that decodes them in Python (pyarrow checks
    every field as it parses); bytes that are not UTF-8 are still refused with their line."""
    path = write_rows(tmp_path / "header.csv", good_rows(kind, 3))
    path.write_bytes(b"\xff" + path.read_bytes())
    line = unreadable(run_import(kind, path))
    assert "line 1" in line and "--encoding" in line
    rows = good_rows(kind, 3)
    field = "evidence" if kind == "events" else "name"
    rows[0][field] = "two\nlines"  # quoted: data row 1 takes lines 2-3
    path = write_rows(tmp_path / "field.csv", rows)
    lines = path.read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].replace(b",", b",\xc3", 1)  # data row 2, on line 4
    path.write_bytes(b"".join(lines))
    line = unreadable(run_import(kind, path))
    assert "line 4" in line and "--encoding" in line


def test_a_csv_files_sha256_is_the_digest_of_its_bytes(tmp_path: Path):
    path = write_rows(tmp_path / "events.csv", good_rows("events", 4))
    table = read_table(path, max_file_bytes=1 << 20, max_rows=100)
    assert table.height == 4
    assert table.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kind", KINDS)
def test_gb18030_without_encoding_is_refused_clearly(run_import, tmp_path: Path, kind: str):
    rows = good_rows(kind, 3)
    for row in rows:
        row["name" if kind == "people" else "evidence"] = "荣成市崖头街道"
    path = write_rows(tmp_path / "gb.csv", rows)
    path.write_bytes(path.read_text(encoding="utf-8").encode("gb18030"))
    line = unreadable(run_import(kind, path))
    assert "line 2" in line and "--encoding gb18030" in line
    accounted(kind, run_import(kind, path, "--encoding", "gb18030"), 3)


@pytest.mark.parametrize("kind", KINDS)
def test_crlf_line_endings(run_import, tmp_path: Path, kind: str, db_path: Path):
    rows = good_rows(kind, 3)
    lines = [",".join(COLUMNS[kind]), *map(csv_line, rows)]
    fast = csv_lines(tmp_path / "crlf.csv", lines, "\r\n")
    document = accounted(kind, run_import(kind, fast), 3)
    assert document["rejected"] == 0
    # The same through the exact reader (one row with a missing field sends it there).
    exact = csv_lines(tmp_path / "crlf-exact.csv", [*lines, "a,b"], "\r\n")
    document = accounted(kind, run_import(kind, exact), 4)
    assert rejects_of(document)["reason"].to_list() == ["malformed-row"]
    assert_no_carriage_returns(db_path)


def assert_no_carriage_returns(db_path: Path) -> None:
    registry = Registry.open(f"sqlite:///{db_path}")
    try:
        with registry.database.read() as connection:
            for table, column in (
                ("people", "public_servant"),
                ("people", "name"),
                ("entries", "evidence"),
                ("entries", "event_id"),
            ):
                found = connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE CAST({column} AS TEXT) LIKE :cr"),
                    {"cr": "%\r%"},
                ).scalar_one()
                assert found == 0, (table, column)
    finally:
        registry.close()


def test_jsonl_with_bom_and_crlf(run_import, tmp_path: Path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + b"".join(json.dumps(row).encode() + b"\r\n" for row in good_rows("events", 3))
    )
    document = accounted("events", run_import("events", path), 3)
    assert document["accepted"] == 3


# --- malformed rows -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_csv_rows_with_too_many_or_too_few_fields(run_import, tmp_path: Path, kind: str):
    rows = good_rows(kind, 6)
    lines = [",".join(COLUMNS[kind]), *map(csv_line, rows)]
    lines[2] += ",surplus,更多"  # data row 2
    lines[4] = ",".join(lines[4].split(",")[:2])  # data row 4
    document = accounted(kind, run_import(kind, csv_lines(tmp_path / "ragged.csv", lines)), 6)
    assert document["rejected"] == 2
    rejects = rejects_of(document)
    assert rejects.select("row", "reason").rows() == [
        ("2", "malformed-row"),
        ("4", "malformed-row"),
    ]
    assert "更多" in rejects["message"][0]  # the extra values have no column but are kept
    assert document["added" if kind == "people" else "accepted"] == 4


@pytest.mark.parametrize("kind", KINDS)
def test_unterminated_quote_is_refused_naming_its_line(
    run_import, tmp_path: Path, kind: str, db_path: Path
):
    rows = good_rows(kind, 5)
    lines = [",".join(COLUMNS[kind]), *map(csv_line, rows)]
    lines[2] = lines[2].replace(",", ',"', 1)  # line 3 opens a quote that never closes
    line = unreadable(run_import(kind, csv_lines(tmp_path / "quote.csv", lines)))
    assert "line 3" in line and "quote" in line
    assert stored_people(db_path) == 2  # refused whole: nothing half-imported
    lines[2] = lines[2].replace(',"', ",", 1)
    accounted(kind, run_import(kind, csv_lines(tmp_path / "fixed.csv", lines)), 5)


@pytest.mark.parametrize("kind", KINDS)
def test_text_after_a_closing_quote_reads_the_same_on_both_readers(
    run_import, tmp_path: Path, kind: str
):
    """'"ab"c' is read as 'abc' by the fast reader; the exact reader must agree."""
    column = "name" if kind == "people" else "evidence"
    rows = good_rows(kind, 3)
    lines = [",".join(COLUMNS[kind]), *map(csv_line, rows)]
    lines[2] = lines[2].replace(rows[1][column], f'"{rows[1][column]}"x')
    fast = accounted(kind, run_import(kind, csv_lines(tmp_path / "fast.csv", lines)), 3)
    exact = accounted(kind, run_import(kind, csv_lines(tmp_path / "exact.csv", [*lines, "a,b"])), 4)
    assert fast["rejected"] == 0 and exact["rejected"] == 1
    # Read alike, the second import finds the very same rows again.
    assert exact["unchanged" if kind == "people" else "duplicates"] == 3
    assert rejects_of(exact)["row"].to_list() == ["4"]


@pytest.mark.parametrize("kind", KINDS)
def test_jsonl_nested_values_are_malformed_rows(run_import, tmp_path: Path, kind: str):
    rows: list[dict[str, Any]] = list(good_rows(kind, 5))
    field = "name" if kind == "people" else "evidence"
    rows[1] = {**rows[1], field: {"zh": "张建"}}
    rows[3] = {**rows[3], field: ["a", "b"]}
    document = accounted(kind, run_import(kind, write_rows(tmp_path / "nested.jsonl", rows)), 5)
    rejects = rejects_of(document)
    assert rejects.select("row", "reason").rows() == [
        ("2", "malformed-row"),
        ("4", "malformed-row"),
    ]
    assert all(field in message for message in rejects["message"].to_list())


@pytest.mark.parametrize("kind", KINDS)
def test_jsonl_invalid_lines_among_valid_ones(run_import, tmp_path: Path, kind: str):
    lines = [json.dumps(row, ensure_ascii=False) for row in good_rows(kind, 7)]
    lines[1] = lines[1][:-5]  # record 2: cut short
    lines[3] = "this is not JSON"  # record 4
    lines[4] = json.dumps(list(good_row(kind, 5).values()))  # record 5: an array
    lines[5] = "[" * 50_000  # record 6: nested past any recursion limit
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = accounted(kind, run_import(kind, path), 7)
    rejects = rejects_of(document)
    assert rejects.select("row", "reason").rows() == [
        ("2", "malformed-row"),
        ("4", "malformed-row"),
        ("5", "malformed-row"),
        ("6", "malformed-row"),
    ]
    assert document["added" if kind == "people" else "accepted"] == 3


@pytest.mark.parametrize("kind", KINDS)
def test_jsonl_of_nothing_but_garbage(run_import, tmp_path: Path, kind: str):
    path = tmp_path / "garbage.jsonl"
    path.write_text("nope\n[1, 2]\n", encoding="utf-8")
    line = unreadable(run_import(kind, path))
    assert "record 1" in line


@pytest.mark.parametrize("kind", KINDS)
def test_jsonl_lone_surrogate_escape(run_import, tmp_path: Path, kind: str):
    """JSON can escape half a UTF-16 pair ("\\ud800"), which is no text at all."""
    lines = [json.dumps(row) for row in good_rows(kind, 3)]
    field = "name" if kind == "people" else "evidence"
    lines[1] = lines[1].replace(f'"{field}": "', f'"{field}": "\\ud800', 1)
    assert "\\ud800" in lines[1]
    path = tmp_path / "surrogate.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = accounted(kind, run_import(kind, path), 3)
    assert rejects_of(document).select("row", "reason").rows() == [("2", "malformed-row")]


@pytest.mark.parametrize("kind", KINDS)
def test_jsonl_numbers_and_booleans_are_text(run_import, tmp_path: Path, kind: str):
    rows: list[dict[str, Any]] = list(good_rows(kind, 3))
    if kind == "people":
        rows[0]["public_servant"], rows[1]["public_servant"] = True, 0
    else:
        rows[0]["event_id"], rows[1]["event_id"] = 10**30, 1.5e3
    document = accounted(kind, run_import(kind, write_rows(tmp_path / "typed.jsonl", rows)), 3)
    assert document["rejected"] == 0


# --- the content of fields ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_full_width_digits_are_not_digits(run_import, tmp_path: Path, kind: str):
    full_width = str.maketrans("0123456789", "０１２３４５６７８９")
    rows = good_rows(kind, 3)
    if kind == "people":
        rows[1]["id"] = rows[1]["id"].translate(full_width)
        expected = [("2", "invalid-person-id")]
    else:
        rows[1]["occurred_on"] = rows[1]["occurred_on"].translate(full_width)
        rows[2]["person_id"] = rows[2]["person_id"].translate(full_width)
        expected = [("2", "invalid-date"), ("3", "invalid-person-id")]
    document = accounted(kind, run_import(kind, write_rows(tmp_path / "wide.csv", rows)), 3)
    assert rejects_of(document).select("row", "reason").rows() == expected


@pytest.mark.parametrize("kind", KINDS)
def test_a_megabyte_field_is_rejected_with_the_limit(run_import, tmp_path: Path, kind: str):
    rows = good_rows(kind, 3)
    rows[1]["name" if kind == "people" else "evidence"] = "长" * (1024 * 1024 // 3)
    for name, lines in (("big.csv", None), ("big-exact.csv", ["a,b"])):
        path = write_rows(tmp_path / name, rows)
        if lines:  # once more through the exact reader
            path.write_text(path.read_text(encoding="utf-8") + "a,b\n", encoding="utf-8")
        document = accounted(kind, run_import(kind, path), 3 + len(lines or []))
        rejects = rejects_of(document)
        assert rejects.select("row", "reason").rows()[0] == ("2", "invalid-text")
        assert "4096" in rejects["message"][0]


CONTROL_CASES = [
    ("nul", "\x00"),
    ("bell", "\x07"),
    ("escape", "\x1b[31m"),
    ("delete", "\x7f"),
    ("c1-csi", "\x9b31m"),
    ("c1-next-line", "\x85"),
]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_control_characters_reject_people_and_events(
    registry: Registry, tmp_path: Path, suffix: str
):
    """No stored text holds a control character: PostgreSQL refuses NUL in text outright."""
    import_people(
        registry,
        write_rows(
            tmp_path / "li-na.csv",
            [{"id": LI_NA, "name": "李娜", "district": "城西街道", "public_servant": "false"}],
        ),
    )
    people: list[dict[str, str]] = []
    for n, (_label, control) in enumerate(CONTROL_CASES, start=10):
        people.append({**good_row("people", n), "name": f"王{control}伟"})
    people.append(good_row("people", 99))
    people_result = import_people(registry, write_rows(tmp_path / f"people{suffix}", people))
    assert (people_result.added, people_result.rejected) == (1, len(CONTROL_CASES))
    assert set(people_result.reasons) == {"invalid-text"}

    events = [
        {**good_row("events", n), "evidence": f"seen{control}here"}
        for n, (_label, control) in enumerate(CONTROL_CASES)
    ]
    events.append({**good_row("events", 50), "event_id": "E\x0050"})
    events.append({**good_row("events", 51), "evidence": "line one\r\n\tline two"})
    result = import_events(registry, write_rows(tmp_path / f"events{suffix}", events))
    assert (result.submitted, result.accepted, result.rejected) == (
        len(events),
        1,
        len(CONTROL_CASES) + 1,
    )
    assert set(result.reasons) == {"invalid-text"}
    rejects = pl.read_csv(result.rejects_path, infer_schema=False)
    assert rejects["row"].to_list() == [str(n) for n in range(1, len(CONTROL_CASES) + 2)]
    assert "\x00" in rejects["evidence"][0]  # the rejects keep what was sent
    assert_nothing_stored_holds_a_control(registry)


def assert_nothing_stored_holds_a_control(registry: Registry) -> None:
    """Registered text holds no control (but tab and line breaks in evidence); no NUL at all.

    Rejected rows are kept as sent, as JSON: a NUL is escaped there, not stored.
    """
    allowed = {"\t", "\n", "\r"}
    with registry.database.read() as connection:
        for table in ("people", "person_changes", "entries", "rejections"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                for value in row:
                    if not isinstance(value, str):
                        continue
                    assert "\x00" not in value, (table, value)
                    if table != "rejections":
                        controls = {c for c in value if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F}
                        assert not controls - allowed, (table, value)
        records = [
            json.loads(record)
            for record in connection.execute(text("SELECT record FROM rejections")).scalars()
        ]
    assert any("\x00" in (record.get("evidence") or "") for record in records)
