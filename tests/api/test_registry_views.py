"""The catalogue (public), the statistics (admin, auditor) and the health check."""

from collections.abc import Callable
from pathlib import Path

from tests.api.conftest import API, Town
from tests.conftest import EXAMPLE_CATALOGUE, LI_NA, ZHANG_JIAN


def test_catalogue_is_public_and_complete(town: Town):
    response = town.get(f"{API}/catalogue")
    assert response.status_code == 200
    page = response.json()
    assert page["in_force"] == "2026.1" and page["next_cursor"] is None
    [version] = page["items"]
    assert version["effective_from"] == "2026-01-01" and version["base_score"] == 1000
    assert [band["grade"] for band in version["grades"]] == ["AAA", "AA", "A+", "A", "B", "C", "D"]
    assert version["grades"][-1]["min"] is None
    rules = {rule["code"]: rule for rule in version["rules"]}
    assert rules["PUBLIC-FIGHT"]["blacklist_for"] == "P1Y"
    assert rules["WORK-MERIT-ANNUAL"]["applies_to"] == "public-servants"
    assert {a["code"] for a in version["agencies"]} == {
        "traffic-police",
        "forestry-bureau",
        "public-security",
    }
    policies = {p["code"]: p for p in version["policies"]}
    assert policies["management-position"]["not_blacklisted"] is True
    # Nobody's data is in it, so nobody's access log grows.
    assert town.access_rows(ZHANG_JIAN) == [] and town.access_rows(LI_NA) == []


def test_stats_count_grades_blacklist_and_entries(town: Town):
    stats = town.get(f"{API}/stats", "admin").json()
    assert stats["people"] == 2 and stats["blacklisted"] == 1
    assert sum(stats["grades"].values()) == 2 and stats["grades"]["A"] == 2
    assert stats["entries"] == 2
    assert stats["entries_by_agency"] == {"public-security": 1, "traffic-police": 1}
    assert stats["entries_by_rule"] == {"PUBLIC-FIGHT": 1, "TRAFFIC-RED-LIGHT": 1}
    months = {(m["month"], m["agency"]): m["entries"] for m in stats["entries_by_month"]}
    assert sum(months.values()) == 2 and stats["first_month"] == "2023-12"
    assert town.get(f"{API}/stats", "auditor").json()["entries"] == 2
    assert town.access_rows(ZHANG_JIAN) == []  # aggregates read nobody's record


def test_stats_as_of_and_window(town: Town):
    early = town.get(f"{API}/stats", "admin", params={"as_of": "2026-02-01", "months": "1"}).json()
    assert early["entries"] == 0 and early["first_month"] == "2026-02"
    assert early["entries_by_month"] == []


def test_healthz(town: Town):
    assert town.get("/healthz").json() == {"status": "ok", "database": "ok"}


def test_the_openapi_document(town: Town):
    document = town.get(f"{API}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert "security" not in paths[f"{API}/catalogue"]["get"]
    assert "security" not in paths["/healthz"]["get"]
    assert paths[f"{API}/checks"]["post"]["security"] == [{"bearer": []}]
    error = paths[f"{API}/checks"]["post"]["responses"]["403"]["content"]["application/json"]
    assert error["schema"]["$ref"].endswith("/ErrorBody")
    assert "HTTPValidationError" not in str(document)  # our 422 shape, not FastAPI's
    docs = town.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_a_catalogue_loaded_by_another_process_is_picked_up(
    make_town: Callable[..., Town], tmp_path: Path
):
    """Nothing to restart: with no recheck delay the registry notices a new stored version on
    its next read (by default within ``catalogue_recheck_ms``)."""
    town = make_town(catalogue_recheck_ms=0)
    from socialcredit.services.catalogue import load_catalogue
    from socialcredit.services.registry import Registry

    successor = tmp_path / "2026.2.yaml"
    text = EXAMPLE_CATALOGUE.read_text(encoding="utf-8")
    successor.write_text(
        text.replace('version: "2026.1"', 'version: "2026.2"').replace(
            "effective_from: 2026-01-01", "effective_from: 2026-06-01"
        ),
        encoding="utf-8",
    )
    assert len(town.get(f"{API}/catalogue").json()["items"]) == 1
    other = Registry.open(town.registry.database.url, town.registry.settings)
    try:
        assert load_catalogue(other, successor).status == "loaded"
    finally:
        other.close()
    page = town.get(f"{API}/catalogue").json()
    assert [item["version"] for item in page["items"]] == ["2026.1", "2026.2"]
    assert page["in_force"] == "2026.2"
    score = town.get(f"{API}/people/{ZHANG_JIAN}", "clerk").json()
    assert score["catalogue_version"] == "2026.2"
