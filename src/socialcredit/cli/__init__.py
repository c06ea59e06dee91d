"""``socialcredit``: the command line (Typer + Rich), a thin layer over the services."""

import json
import sys

import typer
from typer._click import exceptions as click_exceptions

from socialcredit.cli import commands
from socialcredit.cli.common import Db, err, set_global_db

__all__ = ["app", "main"]

app = typer.Typer(
    name="socialcredit",
    help="An accountable citizen points-account registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def root(db: Db = None) -> None:
    """An accountable citizen points-account registry.

    Every command that reports takes --json. Exit codes: 0 success, 1 refused,
    2 usage or unreadable input.
    """
    set_global_db(db)


commands.register(app)

from socialcredit.cli import archive as _archive  # noqa: E402,F401  (`archive ...`)
from socialcredit.cli import audit as _audit  # noqa: E402,F401  (`audit access`)
from socialcredit.cli import backup as _backup  # noqa: E402,F401  (`backup`, `restore`)
from socialcredit.cli import catalogue_change as _catalogue_change  # noqa: E402,F401
from socialcredit.cli import consent as _consent  # noqa: E402,F401  (`consent ...`)
from socialcredit.cli import contests as _contests  # noqa: E402,F401  (`contest ...`)
from socialcredit.cli import db as _db  # noqa: E402,F401  (`db upgrade|check`)
from socialcredit.cli import demo as _demo  # noqa: E402,F401  (registers `demo` on the app)
from socialcredit.cli import ledger as _ledger  # noqa: E402,F401  (checkpoint/proof/verify/keys/statement)
from socialcredit.cli import notices as _notices  # noqa: E402,F401  (`notices ...`)
from socialcredit.cli import serve as _serve  # noqa: E402,F401  (registers `serve`)
from socialcredit.cli import users as _users  # noqa: E402,F401  (registers `users ...`)


def _usage_error(error: typer.TyperException, argv: list[str]) -> int:
    message = error.format_message()
    err.print(f"error: {message}", markup=False)
    if "--json" in argv:
        sys.stdout.write(json.dumps({"error": {"code": "usage", "message": message}}) + "\n")
    return 2


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning usage errors into the contract's shape."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=args, prog_name="socialcredit", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as error:
        err.print(error.format_message(), markup=False)
        raise SystemExit(2) from None
    except typer.TyperException as error:
        raise SystemExit(_usage_error(error, args)) from None
    except typer.Exit as done:
        raise SystemExit(done.exit_code) from None
    except typer.Abort:
        err.print("aborted")
        raise SystemExit(130) from None
    raise SystemExit(result if isinstance(result, int) else 0)
