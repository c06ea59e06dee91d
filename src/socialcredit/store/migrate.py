"""Schema migrations with Alembic, run programmatically on a ``Database``.

``upgrade`` brings a database to the newest revision (creating it if empty); ``check`` says
whether it is there. Both work on SQLite and PostgreSQL alike.
"""

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text

from socialcredit.store.db import Database

__all__ = [
    "MIGRATION_LOCK",
    "current_revision",
    "downgrade",
    "head_revision",
    "is_known_revision",
    "upgrade",
]

_SCRIPTS = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock key held while migrating ("migrate" in ASCII), so that several
# processes starting at once (workers, a deploy script and `init`) migrate one at a time.
MIGRATION_LOCK = 0x6D696772617465


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_SCRIPTS))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise RuntimeError("no migrations found")
    return head


def is_known_revision(revision: str) -> bool:
    """Whether this version's migrations know ``revision`` (a newer one may have written it)."""
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def current_revision(database: Database) -> str | None:
    with database.read() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(database: Database, revision: str = "head") -> None:
    """Run every migration up to ``revision`` in one write transaction."""
    _run(database, command.upgrade, revision)


def downgrade(database: Database, revision: str) -> None:
    """Undo the migrations after ``revision`` in one write transaction (operators' way back
    after a failed deploy; not offered by the CLI)."""
    _run(database, command.downgrade, revision)


def _run(database: Database, step: Callable[[Config, str], None], revision: str) -> None:
    config = _config()
    with database.write() as connection:
        if not database.is_sqlite:  # SQLite's write transaction already excludes the others
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        step(config, revision)
