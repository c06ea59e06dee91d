"""Use cases: back a registry up into one file, and restore it into an empty database.

SQLite: the online backup API copies every page in one read transaction, a consistent snapshot
taken while others go on reading and writing (WAL); the copy is one self-contained file.
PostgreSQL: ``pg_dump --format=custom`` (a consistent snapshot too) and ``pg_restore`` in one
transaction. A backup restores into the same kind of database it came from.

Restore refuses a database that already holds tables unless ``force`` is given, and refuses a
backup whose schema revision this version does not know (a newer one wrote it).
"""

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from socialcredit.domain.errors import InputError, RefusedError, UnreadableInputError
from socialcredit.services.registry import Registry
from socialcredit.store import migrate

__all__ = ["BackupResult", "RestoreResult", "backup", "find_pg_tool", "restore"]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
FORMATS = {"sqlite": "sqlite", "postgresql": "pg_dump-custom"}


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: str
    format: str
    bytes: int
    revision: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "bytes": self.bytes,
            "revision": self.revision,
        }


@dataclass(frozen=True, slots=True)
class RestoreResult:
    path: str
    format: str
    revision: str
    head: str
    replaced: bool  # the database held tables and ``force`` replaced them

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "revision": self.revision,
            "head": self.head,
            "at_head": self.revision == self.head,
            "replaced": self.replaced,
        }


# --- finding pg_dump and pg_restore --------------------------------------------------------


def _version_key(folder: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    return tuple(int(part) for part in re.findall(r"\d+", Path(folder).parent.name))


def find_pg_tool(name: str, bindir: str = "") -> Path:
    """``pg_dump`` or ``pg_restore``: from ``bindir`` (setting ``pg_bindir``), else
    ``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``, else ``PATH``.

    The newest wins because pg_dump refuses a server newer than itself.
    """
    if bindir:
        tool = Path(bindir) / name
        if os.access(tool, os.X_OK):
            return tool
        raise InputError(f"setting pg_bindir: {bindir} holds no {name}")
    folders: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            done = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            folders.append(done.stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    folders += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for folder in folders:
        tool = Path(folder) / name
        if folder and os.access(tool, os.X_OK):
            return tool
    found = shutil.which(name)
    if found:
        return Path(found)
    raise InputError(
        f"{name} not found (looked in pg_config --bindir, /usr/lib/postgresql/*/bin and PATH): "
        "install the PostgreSQL client programs (Debian: apt-get install postgresql-client) "
        "or set SOCIALCREDIT_PG_BINDIR"
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools, and their environment: the password travels in
    ``PGPASSWORD``, never on a command line that ``ps`` shows."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    uri = parsed.set(drivername="postgresql", password=None)
    return uri.render_as_string(hide_password=False), env


def _run_tool(command: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise InputError(f"{what} failed: {lines[0] if lines else f'exit {done.returncode}'}")
    return done.stdout


# --- what a file and a database hold ---------------------------------------------------------


def _backup_format(path: Path) -> str:
    """``sqlite`` or ``postgresql`` from the file's first bytes; refuses anything else."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise UnreadableInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableInputError(f"{path}: is a folder, not a backup file") from None
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise UnreadableInputError(
        f"{path}: not a socialcredit backup (neither a SQLite file nor a pg_dump custom archive)"
    )


def _sqlite_path(registry: Registry) -> Path:
    database = make_url(registry.database.url).database or ""
    if database in ("", ":memory:"):
        raise InputError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database).expanduser()


def _sqlite_revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _pg_dump_revision(path: Path, bindir: str) -> str | None:
    tool = str(find_pg_tool("pg_restore", bindir))
    listing = _run_tool(
        [tool, "--data-only", "--table=alembic_version", "--file=-", str(path)],
        dict(os.environ),
        f"pg_restore reading {path}",
    )
    lines = listing.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and number + 1 < len(lines):
            value = lines[number + 1].strip()
            return None if value == "\\." else value
    return None


def _tables(registry: Registry) -> list[str]:
    """The tables the database holds (none in an empty database)."""
    if registry.database.is_sqlite:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = (
            "SELECT tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
    with registry.database.read() as connection:
        return sorted(str(row[0]) for row in connection.execute(text(query)))


def _occupied(registry: Registry) -> str | None:
    """None for an empty database, else what it holds, for the refusal's message."""
    if registry.database.is_sqlite:
        path = _sqlite_path(registry)
        if not path.exists() or path.stat().st_size == 0:
            return None
    tables = _tables(registry)
    if not tables:
        return None
    held = [f"{len(tables)} tables"]
    with registry.database.read() as connection:
        for table in ("people", "entries"):
            if table in tables:
                count = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                held.append(f"{count} {table}")
    return ", ".join(held)


# --- backup ----------------------------------------------------------------------------------


def _partial(target: Path) -> Path:
    """Write next to the target, then rename: a backup file is whole or absent."""
    return target.with_name(f".{target.name}.partial")


def _sqlite_backup(source: Path, target: Path, busy_timeout_ms: int) -> None:
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    reader = sqlite3.connect(source, timeout=busy_timeout_ms / 1000)
    copy = sqlite3.connect(partial)
    try:
        # One step: every page in one read transaction, a consistent snapshot; in WAL mode
        # writers carry on meanwhile (a stepwise copy would restart on each of their commits).
        reader.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        problem = copy.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        copy.close()
        reader.close()
    if problem != "ok":
        partial.unlink(missing_ok=True)
        raise InputError(f"the copy of {source} failed its check: {problem}")
    os.replace(partial, target)


def _pg_backup(registry: Registry, target: Path) -> None:
    uri, env = _libpq(registry.database.url)
    tool = str(find_pg_tool("pg_dump", registry.settings.pg_bindir))
    partial = _partial(target)
    partial.unlink(missing_ok=True)
    try:
        _run_tool(
            [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}", uri],
            env,
            "pg_dump",
        )
    except InputError:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)


def backup(registry: Registry, path: Path, *, force: bool = False) -> BackupResult:
    """Write a backup of the registry's database to ``path`` (refuses to overwrite a file
    unless ``force``)."""
    if path.is_dir():
        raise InputError(f"{path}: is a folder; give the backup file's path")
    if not path.parent.is_dir():
        raise UnreadableInputError(f"{path}: folder {path.parent} does not exist")
    if path.exists() and not force:
        raise RefusedError(f"{path} exists; remove it or pass --force", code="exists")
    revision = migrate.current_revision(registry.database)
    if registry.database.is_sqlite:
        source = _sqlite_path(registry)
        if not source.is_file():
            raise UnreadableInputError(f"no database at {source}")
        _sqlite_backup(source, path, registry.settings.sqlite_busy_timeout_ms)
    else:
        _pg_backup(registry, path)
    return BackupResult(
        path=str(path),
        format=FORMATS[registry.database.dialect],
        bytes=path.stat().st_size,
        revision=revision,
    )


# --- restore ---------------------------------------------------------------------------------


def _sqlite_restore(backup_path: Path, target: Path, busy_timeout_ms: int) -> None:
    source = sqlite3.connect(f"file:{backup_path}?mode=ro", uri=True)
    destination = sqlite3.connect(target, timeout=busy_timeout_ms / 1000)
    try:
        # A page size can only change outside WAL mode; the copy brings the backup's own
        # header (and with it the journal mode) back.
        destination.execute("PRAGMA journal_mode=DELETE")
        source.backup(destination)  # under the destination's write lock: all or nothing
        destination.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error as error:
        raise InputError(f"restoring {backup_path} into {target} failed: {error}") from None
    finally:
        destination.close()
        source.close()


def _pg_restore(registry: Registry, backup_path: Path, replace_tables: bool) -> None:
    uri, env = _libpq(registry.database.url)
    tool = str(find_pg_tool("pg_restore", registry.settings.pg_bindir))
    command = [tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    if replace_tables:
        command += ["--clean", "--if-exists"]
    _run_tool([*command, f"--dbname={uri}", str(backup_path)], env, "pg_restore")


def _backup_revision(registry: Registry, path: Path, kind: str) -> str:
    """The schema revision inside the backup; refuses one this version cannot use."""
    if kind == "sqlite":
        revision = _sqlite_revision(path)
    else:
        revision = _pg_dump_revision(path, registry.settings.pg_bindir)
    if revision is None:
        raise UnreadableInputError(f"{path}: holds no socialcredit schema (no alembic_version)")
    if not migrate.is_known_revision(revision):
        raise RefusedError(
            f"{path}: schema revision {revision} comes from a newer socialcredit "
            f"(this one knows up to {migrate.head_revision()})",
            code="newer-schema",
        )
    return revision


def restore(registry: Registry, path: Path, *, force: bool = False) -> RestoreResult:
    """Restore the backup at ``path`` into the registry's database, which must be empty
    (no tables) unless ``force``, which replaces what it holds."""
    kind = _backup_format(path)
    if kind != registry.database.dialect:
        raise RefusedError(
            f"{path} is a {kind} backup; restore it into a {kind} database, not "
            f"{registry.database.dialect}",
            code="wrong-database",
        )
    revision = _backup_revision(registry, path, kind)
    held = _occupied(registry)
    if held is not None and not force:
        raise RefusedError(
            f"the database is not empty ({held}); restore refuses to overwrite it without --force",
            code="not-empty",
        )
    registry.database.dispose()  # no pooled connection of ours holds the old state
    if kind == "sqlite":
        _sqlite_restore(path, _sqlite_path(registry), registry.settings.sqlite_busy_timeout_ms)
    else:
        _pg_restore(registry, path, replace_tables=held is not None)
    registry.forget_catalogues()
    return RestoreResult(
        path=str(path),
        format=FORMATS[kind],
        revision=revision,
        head=migrate.head_revision(),
        replaced=held is not None,
    )
