"""``socialcredit backup PATH`` and ``socialcredit restore PATH`` (SQLite or PostgreSQL)."""

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import DBAPIError

from socialcredit.cli import app
from socialcredit.cli.common import (
    Db,
    Json,
    command,
    database_url,
    emit,
    err,
    open_registry,
    out,
    shown_url,
)
from socialcredit.domain.errors import InputError
from socialcredit.services import backup as backup_service
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings

__all__ = ["backup", "restore"]

Force = Annotated[bool, typer.Option("--force", help="Overwrite what is there.")]
BackupPath = Annotated[Path, typer.Argument(help="The backup file.", show_default=False)]


@app.command("backup")
@command
def backup(
    path: BackupPath, force: Force = False, db: Db = None, json_output: Json = False
) -> None:
    """Write a consistent copy of the database to PATH while it stays in use (SQLite: one
    file; PostgreSQL: a pg_dump custom archive)."""
    registry = open_registry(db)
    try:
        result = backup_service.backup(registry, path.expanduser(), force=force)
    finally:
        registry.close()
    document = {"database": shown_url(registry), **result.as_dict()}
    emit(
        json_output,
        document,
        lambda: out.print(
            f"{shown_url(registry)} backed up to {result.path} "
            f"({result.format}, {result.bytes:,} bytes, schema {result.revision})"
        ),
    )


@app.command("restore")
@command
def restore(
    path: BackupPath,
    force: Annotated[
        bool, typer.Option("--force", help="Replace what a non-empty database holds.")
    ] = False,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Restore a backup written by `socialcredit backup` into an empty database of the same
    kind (refused for a database that holds tables, unless --force)."""
    # Not open_registry: connecting would create an empty SQLite file before a refusal.
    registry = Registry.open(database_url(db), load_settings())
    try:
        result = backup_service.restore(registry, path.expanduser(), force=force)
    except DBAPIError as error:
        reason = (str(error.orig).strip().splitlines() or ["failed"])[0]
        raise InputError(f"cannot open the database {shown_url(registry)}: {reason}") from None
    finally:
        registry.close()
    document = {"database": shown_url(registry), **result.as_dict()}

    def human() -> None:
        out.print(f"{result.path} restored into {shown_url(registry)} (schema {result.revision})")
        if result.revision != result.head:
            err.print(f"the schema is older than {result.head}: run `socialcredit db upgrade`")

    emit(json_output, document, human)
