"""``socialcredit db upgrade`` and ``db check``: the schema's Alembic revision.

``init`` migrates and loads catalogues; a server deployment runs ``db upgrade`` once before
starting its workers and can gate on ``db check`` (exit 1 when the schema is not at head).
"""

from pathlib import Path
from typing import Any

import typer
from alembic.util.exc import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from socialcredit.cli import app
from socialcredit.cli.common import (
    Db,
    Json,
    command,
    database_url,
    emit,
    open_registry,
    out,
    shown_url,
)
from socialcredit.domain.errors import InputError
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store import migrate

__all__ = ["db_app"]

db_app = typer.Typer(help="Schema migrations of the registry database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _missing_sqlite_file(registry: Registry) -> bool:
    """A SQLite path with no file yet: connecting would create an empty one as a side effect."""
    database = registry.database
    path = make_url(database.url).database or ""
    return database.is_sqlite and path not in ("", ":memory:") and not Path(path).is_file()


@db_app.command("upgrade")
@command
def upgrade(db: Db = None, json_output: Json = False) -> None:
    """Migrate the schema to the newest revision (creating it in an empty database)."""
    registry = open_registry(db, setting_up=True)
    try:
        before = migrate.current_revision(registry.database)
        migrate.upgrade(registry.database)
    except CommandError as error:  # e.g. a database migrated by a newer socialcredit
        raise InputError(f"cannot migrate {shown_url(registry)}: {error}") from None
    except DBAPIError as error:  # one transaction: nothing was changed
        reason = (str(error.orig).strip().splitlines() or ["failed"])[0]
        raise InputError(
            f"migrating {shown_url(registry)} failed, nothing changed: {reason}"
        ) from None
    finally:
        registry.close()
    after = migrate.head_revision()
    document = {"database": shown_url(registry), "from": before, "to": after}
    emit(
        json_output,
        document,
        lambda: out.print(
            f"{shown_url(registry)}: schema already at {after}"
            if before == after
            else f"{shown_url(registry)}: schema migrated from {before or 'empty'} to {after}"
        ),
    )


@db_app.command("check")
@command
def check(db: Db = None, json_output: Json = False) -> None:
    """Say whether the schema is at the newest revision; exit 1 if it is not."""
    probe = Registry.open(database_url(db), load_settings())  # no connection yet
    missing = _missing_sqlite_file(probe)
    probe.close()
    registry = probe if missing else open_registry(db, setting_up=True)
    try:
        current = None if missing else migrate.current_revision(registry.database)
    finally:
        registry.close()
    head = migrate.head_revision()
    document: dict[str, Any] = {
        "database": shown_url(registry),
        "current": current,
        "head": head,
        "at_head": current == head,
    }
    emit(json_output, document, lambda: out.print(_check_line(document)))
    if current != head:
        raise typer.Exit(1)


def _check_line(document: dict[str, Any]) -> str:
    where, current, head = document["database"], document["current"], document["head"]
    if current == head:
        return f"{where}: schema at head ({head})"
    if current is None:
        return f"{where}: schema not set up, head is {head}; run `socialcredit db upgrade`"
    if not migrate.is_known_revision(current):
        return (
            f"{where}: schema at {current}, which this socialcredit does not know "
            f"(its head is {head}): a newer version migrated it"
        )
    return f"{where}: schema at {current}, head is {head}; run `socialcredit db upgrade`"
