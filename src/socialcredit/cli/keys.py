"""``socialcredit keys list|rotate|revoke|backup|restore|export``: the office's signing keys.

Backups are encrypted with a passphrase taken from ``$SOCIALCREDIT_KEY_PASSPHRASE`` or asked
for on the terminal (twice for a backup).
"""

import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, command, emit, err, open_registry, out
from socialcredit.domain.errors import InputError
from socialcredit.services import keys
from socialcredit.services.clock import parse_timestamp

__all__ = ["PASSPHRASE_VARIABLE", "keys_app"]

PASSPHRASE_VARIABLE = "SOCIALCREDIT_KEY_PASSPHRASE"

keys_app = typer.Typer(
    help="The office's signing keys (Ed25519, outside the database).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")

FilePath = Annotated[Path, typer.Argument(metavar="FILE", show_default=False)]


def _passphrase(confirm: bool) -> str:
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given:
        return given
    try:
        first = getpass.getpass("passphrase: ")
        if confirm and getpass.getpass("passphrase again: ") != first:
            raise InputError("the two passphrases differ")
    except EOFError:
        raise InputError(f"no passphrase: set {PASSPHRASE_VARIABLE} or run on a terminal") from None
    return first


def _table(records: list[keys.KeyRecord]) -> None:
    table = Table("key", "valid from", "until", "revoked at", "reason")
    for record in records:
        row = record.as_dict()
        current = row["not_after"] is None and row["revoked_at"] is None
        until = "current" if current else row["not_after"] or ""
        table.add_row(
            row["key_id"],
            row["not_before"],
            until,
            row["revoked_at"] or "",
            row["revocation_reason"] or "",
        )
    out.print(table)


@keys_app.command("list")
@command
def list_keys(db: Db = None, json_output: Json = False) -> None:
    """Every key the office has had, with its validity (public halves only)."""
    registry = open_registry(db)
    records = keys.list_keys(registry)
    document = {"key_dir": str(keys.key_directory(registry)), **keys.public_keys_document(registry)}
    emit(json_output, document, lambda: _table(records))


@keys_app.command("rotate")
@command
def rotate(db: Db = None, json_output: Json = False) -> None:
    """Make a new current key; the old one stops signing now (its public half is kept)."""
    registry = open_registry(db)
    record = keys.rotate_key(registry)
    emit(json_output, record.as_dict(), lambda: out.print(f"new signing key {record.key_id}"))


@keys_app.command("revoke")
@command
def revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEYID")],
    at: Annotated[
        str,
        typer.Option(
            "--at",
            metavar="TIMESTAMP",
            help="From when it is compromised (ISO 8601; no offset = registry zone). "
            "Anything it signed at or after this time is refused.",
        ),
    ],
    reason: Annotated[str, typer.Option("--reason")] = "compromised",
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Revoke a key from a moment on; a revoked current key is replaced by a new one."""
    registry = open_registry(db)
    moment = parse_timestamp(at, registry.clock.zone, field="--at")
    revoked, replacement = keys.revoke_key(registry, key_id, moment, reason)
    document = {
        "revoked": revoked.as_dict(),
        "replacement": None if replacement is None else replacement.as_dict(),
    }

    def human() -> None:
        out.print(f"key {revoked.key_id} revoked from {document['revoked']['revoked_at']}")
        if replacement is not None:
            out.print(f"new signing key {replacement.key_id}")

    emit(json_output, document, human)


@keys_app.command("backup")
@command
def backup(file: FilePath, db: Db = None, json_output: Json = False) -> None:
    """Write every key to FILE, private halves encrypted with a passphrase (mode 0600)."""
    registry = open_registry(db)
    records = keys.backup_keys(registry, file.expanduser(), _passphrase(confirm=True))
    document = {"file": str(file), "keys": [record.key_id for record in records]}
    emit(json_output, document, lambda: out.print(f"{len(records)} keys backed up to {file}"))
    err.print("keep the file and its passphrase apart: both are needed to restore")


@keys_app.command("restore")
@command
def restore(file: FilePath, db: Db = None, json_output: Json = False) -> None:
    """Restore the keys of a backup into the key folder."""
    registry = open_registry(db)
    records = keys.restore_keys(registry, file.expanduser(), _passphrase(confirm=False))
    folder = keys.key_directory(registry)
    document = {"key_dir": str(folder), "keys": [record.key_id for record in records]}
    emit(json_output, document, lambda: out.print(f"{len(records)} keys restored into {folder}"))


@keys_app.command("export")
@command
def export(file: FilePath, db: Db = None, json_output: Json = False) -> None:
    """Write the public keys to FILE: what a bank needs to check statements offline."""
    import json

    registry = open_registry(db)
    document = keys.public_keys_document(registry)
    file.expanduser().write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    emit(
        json_output,
        {"file": str(file), **document},
        lambda: out.print(f"public keys written to {file}"),
    )
