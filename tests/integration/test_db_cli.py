"""``socialcredit db upgrade`` and ``db check`` on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import text
from tests.integration.cli_helpers import runner

from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store import migrate


def test_check_says_not_set_up_then_upgrade_brings_the_schema_to_head(
    capsys: pytest.CaptureFixture[str], database_url: str
):
    run = runner(capsys, database_url)
    head = migrate.head_revision()
    before = run("db", "check", "--json")
    assert before.code == 1
    assert before.document["current"] is None and before.document["at_head"] is False
    upgraded = run("db", "upgrade", "--json")
    assert upgraded.code == 0, upgraded
    assert (upgraded.document["from"], upgraded.document["to"]) == (None, head)
    after = run("db", "check", "--json")
    assert after.code == 0
    assert after.document == {**after.document, "current": head, "head": head, "at_head": True}
    again = run("db", "upgrade", "--json")
    assert (again.document["from"], again.document["to"]) == (head, head)
    assert "at head" in run("db", "check").out


def test_check_of_a_missing_sqlite_file_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    path = tmp_path / "nowhere.db"
    run = runner(capsys, f"sqlite:///{path}")
    result = run("db", "check")
    assert result.code == 1 and "not set up" in result.out
    assert not path.exists()


def test_a_schema_from_a_newer_version_is_named_and_refused(
    capsys: pytest.CaptureFixture[str], database_url: str
):
    run = runner(capsys, database_url)
    assert run("db", "upgrade").code == 0
    registry = Registry.open(database_url, load_settings({}))
    with registry.database.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    registry.close()
    check = run("db", "check")
    assert check.code == 1 and "does not know" in check.out
    upgrade = run("db", "upgrade", "--json")
    assert upgrade.code == 2
    assert upgrade.document["error"]["code"] and "9999" in upgrade.error_line()
