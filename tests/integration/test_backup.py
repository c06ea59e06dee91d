"""``socialcredit backup`` / ``restore`` round trips on SQLite and PostgreSQL (issue 6).

A small synthetic town goes in through the real imports; its backup is restored into a fresh
database, and every person's score and statement (as JSON) must come back the same. Restore
refuses a non-empty database without --force. A backup taken while an import is writing is a
consistent snapshot: restored, every import's counters equal the rows it stored.
"""

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import TODAY, open_registry
from tests.integration.cli_helpers import runner
from tests.integration.consistency import assert_consistent, entry_count

from socialcredit.services import standing
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.population import population_scores
from socialcredit.services.registry import Registry
from socialcredit.sim.town import build_town


def _town(registry: Registry, folder: Path, people: int, events: int) -> tuple[Path, Path]:
    town = build_town(
        registry.in_force(TODAY), people_count=people, today=TODAY, events_target=events
    )
    people_path, events_path = folder / "people.parquet", folder / "events.parquet"
    town.people.write_parquet(people_path)
    town.events.write_parquet(events_path)
    return people_path, events_path


def _answers(registry: Registry) -> dict[str, str]:
    """Every registered person's score and statement, as the JSON the CLI would print."""
    ids = population_scores(registry)["id"].to_list()
    return {
        pid: json.dumps(
            [
                standing.score(registry, pid).as_dict(),
                standing.statement(registry, pid).as_dict(),
            ],
            ensure_ascii=False,
            default=str,
            sort_keys=True,
        )
        for pid in ids
    }


def _fresh_url(request: pytest.FixtureRequest, source_url: str, tmp_path: Path, name: str) -> str:
    if source_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    return str(request.getfixturevalue("postgres_cluster").create_database())


def test_a_backup_restores_every_score_and_statement(
    make_registry: Callable[..., Registry],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
):
    registry = make_registry(database_url, catalogues=[])  # the bundled Rongcheng catalogue
    people_path, events_path = _town(registry, tmp_path, people=60, events=900)
    import_people(registry, people_path)
    result = import_events(registry, events_path)
    assert result.accepted > 500
    before = _answers(registry)

    backup_path = tmp_path / "registry.backup"
    made = runner(capsys, database_url)("backup", backup_path, "--json")
    assert made.code == 0, made
    assert made.document["bytes"] == backup_path.stat().st_size > 0
    again = runner(capsys, database_url)("backup", backup_path, "--json")
    assert (again.code, again.document["error"]["code"]) == (1, "exists")

    target = _fresh_url(request, database_url, tmp_path, "restored")
    run = runner(capsys, target)
    restored = run("restore", backup_path, "--json")
    assert restored.code == 0, restored
    assert restored.document["at_head"] is True and restored.document["replaced"] is False
    copy = open_registry(target)
    try:
        assert _answers(copy) == before
        assert_consistent(copy)
    finally:
        copy.close()

    refused = run("restore", backup_path, "--json")
    assert (refused.code, refused.document["error"]["code"]) == (1, "not-empty")
    forced = run("restore", backup_path, "--force", "--json")
    assert forced.code == 0 and forced.document["replaced"] is True, forced
    copy = open_registry(target)
    try:
        assert entry_count(copy) == result.accepted
        assert population_scores(copy).equals(population_scores(registry))
    finally:
        copy.close()


def test_a_backup_taken_while_an_import_writes_is_a_consistent_snapshot(
    make_registry: Callable[..., Registry],
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
):
    registry = make_registry(database_url, catalogues=[], batch_rows=1000)
    people_path, events_path = _town(registry, tmp_path, people=300, events=20_000)
    import_people(registry, people_path)
    writer = threading.Thread(target=lambda: import_events(registry, events_path))
    writer.start()
    backups: list[Path] = []
    while writer.is_alive() or not backups:  # at least one backup, most of them mid-import
        path = tmp_path / f"snapshot-{len(backups)}.backup"
        assert runner(capsys, database_url)("backup", path).code == 0
        backups.append(path)
    writer.join()
    for number, path in enumerate(backups):
        target = _fresh_url(request, database_url, tmp_path, f"snapshot-{number}")
        assert runner(capsys, target)("restore", path).code == 0
        copy = open_registry(target)
        try:
            assert_consistent(copy)
        finally:
            copy.close()
