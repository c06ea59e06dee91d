"""What every command shares: options, the registry, output, errors and progress bars.

Contract (DESIGN.md section 4): ``--json`` prints exactly one JSON document on stdout and
nothing else there; progress, warnings and messages go to stderr. Errors are one plain line
per problem on stderr (and ``{"error": {"code", "message"}}`` on stdout under ``--json``),
exit 1 for a refusal and 2 for usage or unreadable input. Never a traceback for a mistake.
"""

import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from socialcredit.domain.errors import (
    CatalogueInvalidError,
    InputError,
    RefusedError,
    SocialCreditError,
)
from socialcredit.domain.invariant import InvariantViolation
from socialcredit.services.access import Actor
from socialcredit.services.clock import parse_timestamp
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store import migrate

__all__ = [
    "AsOf",
    "Db",
    "Json",
    "KnownAt",
    "cli_actor",
    "command",
    "emit",
    "err",
    "open_registry",
    "parse_as_of",
    "parse_known_at",
    "progress_bar",
    "shown_url",
]

DEFAULT_DB = "sqlite:///socialcredit.db"
err = Console(stderr=True, highlight=False, soft_wrap=True)
# Piped output (logs, CI) is not squeezed into Rich's 80-column default.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 140)

Db = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Database URL (sqlite:///PATH or postgresql://...). Default: $SOCIALCREDIT_DB, "
        "else sqlite:///socialcredit.db in the current folder.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
AsOf = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="DATE", help="Answer as of this date (YYYY-MM-DD); default today."
    ),
]
KnownAt = Annotated[
    str | None,
    typer.Option(
        "--known-at",
        metavar="TIMESTAMP",
        help="Answer as the registry knew it at this moment (ISO 8601; no offset = registry zone).",
    ),
]

_state: dict[str, Any] = {"db": None}


def set_global_db(url: str | None) -> None:
    _state["db"] = url


def database_url(db: str | None) -> str:
    return db or _state["db"] or os.environ.get("SOCIALCREDIT_DB") or DEFAULT_DB


def cli_actor() -> Actor:
    """Whoever runs the command line: an operator of the management office."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        login = str(os.getuid())
    return Actor(f"cli:{login}", "clerk", "Social Credit Management Office")


def open_registry(db: str | None, *, setting_up: bool = False) -> Registry:
    """The registry at ``db``. Only ``init`` (``setting_up``) may use a database it has not
    set up: elsewhere a missing table would surface as a driver traceback, not an answer."""
    registry = Registry.open(database_url(db), load_settings())
    try:
        if not setting_up:
            _check_set_up(registry)
        else:
            migrate.current_revision(registry.database)  # can we connect at all?
    except DBAPIError as error:
        reason = (str(error.orig).strip().splitlines() or ["failed"])[0]
        raise InputError(f"cannot open the database {shown_url(registry)}: {reason}") from None
    return registry


def shown_url(registry: Registry) -> str:
    """The database URL without its password, fit for messages and output."""
    return make_url(registry.database.url).render_as_string(hide_password=True)


def _check_set_up(registry: Registry) -> None:
    database = registry.database
    path = make_url(database.url).database or ""
    if database.is_sqlite and path not in ("", ":memory:") and not Path(path).is_file():
        # Connecting would create an empty file as a side effect of a mistyped --db.
        raise InputError(f"no database at {path}; create it with `socialcredit init`")
    revision = migrate.current_revision(database)
    if revision != migrate.head_revision():
        state = "is not set up" if revision is None else "is at an older schema"
        raise InputError(f"the database {shown_url(registry)} {state}; run `socialcredit init`")


def parse_as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--as-of {text!r} is not a date written YYYY-MM-DD") from None


def parse_known_at(registry: Registry, text: str | None) -> datetime | None:
    if text is None:
        return None
    return parse_timestamp(text, registry.clock.zone, field="--known-at")


def emit(json_output: bool, document: Any, human: Callable[[], None]) -> None:
    """Print ``document`` as JSON, or call ``human`` to print it for people."""
    if json_output:
        sys.stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        human()


def _fail(error: SocialCreditError, json_output: bool) -> int:
    lines = error.problems if isinstance(error, CatalogueInvalidError) else [error.message]
    catalogue = isinstance(error, CatalogueInvalidError)
    prefix = f"{error.message.split(':', 1)[0]}: " if catalogue else ""
    for line in lines:
        err.print(f"error: {prefix}{line}", markup=False)
    if json_output:
        document: dict[str, dict[str, Any]] = {
            "error": {"code": error.code, "message": error.message}
        }
        if isinstance(error, CatalogueInvalidError):
            document["error"]["problems"] = error.problems
        sys.stdout.write(json.dumps(document, ensure_ascii=False) + "\n")
    return 1 if isinstance(error, RefusedError) else 2


P = ParamSpec("P")
R = TypeVar("R")


def command(function: Callable[P, R]) -> Callable[P, R]:
    """Turn operating errors into one-line messages and the contract's exit codes."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        json_output = bool(kwargs.get("json_output", False))
        try:
            return function(*args, **kwargs)
        except SocialCreditError as error:
            raise typer.Exit(_fail(error, json_output)) from None
        except InvariantViolation:
            raise  # a bug: let it crash loudly with its traceback
        except KeyboardInterrupt:
            err.print("interrupted; every finished batch is stored, re-run to finish")
            raise typer.Exit(130) from None
        except OSError as error:
            failure = InputError(f"{getattr(error, 'filename', '') or ''}: {error.strerror}")
            raise typer.Exit(_fail(failure, json_output)) from None

    return wrapper


@contextmanager
def progress_bar(
    description: str, total: int | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr; yields ``update(done, total)``."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    progress = Progress(*columns, console=err, transient=False)
    task = progress.add_task(description, total=total)
    started = False

    def update(done: int, all_rows: int) -> None:
        nonlocal started
        if not started:  # start on first news, so that early errors print no empty bar
            progress.start()
            started = True
        progress.update(task, completed=done, total=all_rows)

    try:
        yield update
    finally:
        if started:
            progress.stop()


def path_argument(help_text: str) -> Any:
    return typer.Argument(..., help=help_text, metavar="PATH", show_default=False)


def as_path(text: str) -> Path:
    return Path(text).expanduser()
