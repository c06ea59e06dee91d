"""The main job end to end: ``socialcredit demo`` on a small town, as a user runs it.

It must import everything through the agencies' path (counts add up, the deliberate bad rows
are accounted for), give Zhang Jian 1015 points, A+ and promotion, and write the PDF and PNG.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from pypdf import PdfReader
from tests.conftest import NOW


def _demo(out: Path, *extra: str) -> dict:
    environment = {**os.environ, "SOCIALCREDIT_NOW": NOW}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "socialcredit",
            "demo",
            "--people",
            "3000",
            "--out",
            str(out),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_demo_small_town(tmp_path: Path):
    report = _demo(tmp_path / "demo")
    events = report["events"]
    assert events["submitted"] == events["accepted"] + events["duplicates"] + events["rejected"]
    noise = report["noise"]
    assert events["duplicates"] == noise["duplicate"]
    assert events["rejected"] == sum(count for kind, count in noise.items() if kind != "duplicate")
    assert report["people"]["added"] == 3000 and report["people"]["rejected"] == 0
    zhang_jian = report["statements"][0]
    assert zhang_jian["name"] == "张建"
    assert (zhang_jian["score"], zhang_jian["grade"]) == (1015, "A+")
    assert sorted(entry["rule"] for entry in zhang_jian["entries"]) == [
        "TRAFFIC-RED-LIGHT",
        "WORK-MERIT-ANNUAL",
    ]
    assert report["zhang_jian_promotion"]["eligible"] is True
    distribution = report["distribution"]
    assert sum(distribution["grades"].values()) == distribution["people"] == 3000
    assert list(distribution["grades"]) == ["AAA", "AA", "A+", "A", "B", "C", "D"]
    pdf = Path(report["pdf"])
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "1015" in text and "371082" in text
    assert Path(report["plot"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(report["database"].removeprefix("sqlite:///")).parent == (tmp_path / "demo")


def test_demo_is_deterministic_for_a_seed(tmp_path: Path):
    first = _demo(tmp_path / "one", "--seed", "7")
    second = _demo(tmp_path / "two", "--seed", "7")
    assert first["distribution"] == second["distribution"]
    assert first["events"] == {**second["events"], "rejects_path": first["events"]["rejects_path"]}


def test_demo_tells_how_to_open_the_portal(tmp_path: Path):
    """Without --json the demo prints what section 6 asks, ending with how to open the portal
    on that database: an account to log in with, then serve."""
    environment = {**os.environ, "SOCIALCREDIT_NOW": NOW, "COLUMNS": "200"}
    out = tmp_path / "demo"
    done = subprocess.run(
        [sys.executable, "-m", "socialcredit", "demo", "--people", "500", "--out", str(out)],
        capture_output=True, text=True, env=environment, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    database = f"sqlite:///{out.resolve() / 'socialcredit-demo.db'}"
    assert "张建 371082198406140317" in done.stdout and "1015 points" in done.stdout
    assert f"socialcredit users add clerk-1 --role clerk --db {database}" in done.stdout
    assert f"socialcredit serve --db {database}" in done.stdout
