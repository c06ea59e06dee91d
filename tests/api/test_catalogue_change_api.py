"""Catalogue change over HTTP (issue 4, item 10): the diff of a YAML body against the version
it would follow, who would change grade on its date (paged, logged), and loading it."""

from typing import Any

from tests.api.conftest import API, Town
from tests.api.due_process import next_catalogue
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN

from socialcredit.services.catalogue import MAX_CATALOGUE_BYTES

YAML = {"content-type": "application/yaml"}


def send(town: Town, path: str, body: bytes, **params: str) -> Any:
    return town.post(f"{API}{path}", "admin", content=body, headers=YAML, params=params)


def versions(town: Town) -> list[str]:
    return [v["version"] for v in town.get(f"{API}/catalogue").json()["items"]]


def test_diff_shows_the_changes_and_who_changes_grade_without_loading(town: Town):
    # Grade A starts at 996 instead of 960: Zhang Jian (995) and Li Na (970) fall to B.
    body = next_catalogue(base_score=1000, a_from=996)
    first = send(town, "/catalogue/diff", body, limit="1")
    assert first.status_code == 200, first.text
    answer = first.json()
    diff = answer["diff"]
    assert (diff["old"]["version"], diff["new"]["version"]) == ("2026.1", "2027.1")
    assert diff["rules"]["added"] == ["LITTERING"] and diff["rules"]["removed"] == []
    assert diff["rules"]["changed"] == {"TRAFFIC-RED-LIGHT": {"points": {"old": -5, "new": -10}}}
    assert diff["grades"] == [{"grade": "A", "old_min": 960, "new_min": 996}]
    assert diff["base_score"] is None
    summary = answer["grade_changes"]
    assert (summary["on"], summary["people"], summary["unchanged"]) == ("2027-01-01", 2, 0)
    assert summary["transitions"] == [{"from": "A", "to": "B", "people": 2}]
    assert [row["id"] for row in answer["items"]] == [ZHANG_JIAN]
    assert answer["items"][0] | {} == {
        "id": ZHANG_JIAN,
        "old_score": 995,
        "old_grade": "A",
        "new_score": 995,
        "new_grade": "B",
        "blacklisted": False,
    }
    second = send(town, "/catalogue/diff", body, limit="1", cursor=answer["next_cursor"]).json()
    assert [row["id"] for row in second["items"]] == [LI_NA] and second["next_cursor"] is None
    assert versions(town) == ["2026.1"]  # nothing was loaded
    # Each listed person sees that the office looked at their grade for the change.
    for person_id in (ZHANG_JIAN, LI_NA):
        row = town.access_rows(person_id)[-1]
        assert (row.actor, row.action, row.purpose) == (
            "admin-li",
            "grade-change",
            "catalogue change review",
        )


def test_an_invalid_catalogue_names_every_problem(town: Town):
    bad = next_catalogue().replace(b'version: "2027.1"', b"version: 2027.1")
    bad = bad.replace(b"base_score: 2000", b"base_score: lots")
    for path in ("/catalogue/diff", "/catalogue"):
        error = assert_error(send(town, path, bad), 422, "invalid-catalogue")
        problems = error["details"]["problems"]
        assert len(problems) >= 2, problems
        assert any("version" in p for p in problems) and any("base_score" in p for p in problems)
        assert "/tmp" not in str(error) and "request body" in error["message"]
    for junk in (b"{", b"- a list\n", b"", b"\xff\xfe"):
        # (assert_error would take the problems' "line 1:" for a traceback)
        response = send(town, "/catalogue/diff", junk)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] in ("invalid-catalogue", "unreadable-input")
    too_large = b"#" * (MAX_CATALOGUE_BYTES + 1)
    assert_error(send(town, "/catalogue", too_large), 413, "too-large")
    assert versions(town) == ["2026.1"]


def test_diff_of_a_version_before_every_loaded_one_is_refused(town: Town):
    early = next_catalogue(version="2025.1", effective_from="2025-01-01")
    assert_error(send(town, "/catalogue/diff", early), 422, "no-catalogue")


def test_load_a_version(town: Town):
    loaded = send(town, "/catalogue", next_catalogue())
    assert loaded.json() == {
        "version": "2027.1",
        "effective_from": "2027-01-01",
        "status": "loaded",
        "rules": 4,
        "agencies": 3,
        "policies": 2,
    }
    assert send(town, "/catalogue", next_catalogue()).json()["status"] == "unchanged"
    assert versions(town) == ["2026.1", "2027.1"]
    # Versions load in increasing effective_from; a protected ground is refused.
    late = send(town, "/catalogue", next_catalogue(version="2026.9", effective_from="2026-06-01"))
    assert_error(late, 422, "invalid-catalogue")
    protected = next_catalogue(version="2028.1", effective_from="2028-01-01").replace(
        b"Littering in a public place", b"Attending a religious service"
    )
    error = assert_error(send(town, "/catalogue", protected), 422, "invalid-catalogue")
    assert any("LITTERING" in problem for problem in error["details"]["problems"])
    assert versions(town) == ["2026.1", "2027.1"]
    assert_error(
        town.post(f"{API}/catalogue", "clerk", content=next_catalogue(), headers=YAML),
        403,
        "forbidden",
    )
