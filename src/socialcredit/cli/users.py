"""``socialcredit users add|list|revoke``: accounts of the HTTP API and the portal."""

from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, command, emit, err, open_registry, out
from socialcredit.services import users

__all__ = ["users_app"]

users_app = typer.Typer(
    help="Accounts of the HTTP API and the portal: add, list, revoke.", no_args_is_help=True
)
app.add_typer(users_app, name="users")


@users_app.command("add")
@command
def add(
    name: Annotated[str, typer.Argument(help="Login name: letters, digits, . _ @ -")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(users.ROLES)}.")],
    agency: Annotated[
        str | None, typer.Option("--agency", help="Role agency: the agency code it reports for.")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="Role resident: the resident's ID.")
    ] = None,
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", help="Role verifier: the bank, employer or school."),
    ] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option(
            "--grant",
            metavar="POLICY:PURPOSE",
            help="Role verifier: a policy it may ask for a purpose (repeatable).",
        ),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Create an account; its token is printed once and stored only as a hash."""
    registry = open_registry(db)
    created = users.add_user(
        registry,
        name,
        role,
        agency=agency,
        person_id=person,
        organisation=organisation,
        grants=[users.parse_grant(text) for text in grant or []],
    )
    document = {**created.user.as_dict(), "token": created.token}

    def human() -> None:
        out.print(f"user {created.user.name} ({created.user.role}) created")
        out.print(f"token: {created.token}")
        err.print("the token is shown only now: store it safely; a lost token means a new user")

    emit(json_output, document, human)


@users_app.command("list")
@command
def list_(db: Db = None, json_output: Json = False) -> None:
    """Every account (revoked ones too) with its role and bindings; never a token."""
    registry = open_registry(db)
    accounts = users.list_users(registry)

    def human() -> None:
        table = Table("name", "role", "bound to", "grants", "created", "revoked")
        for user in accounts:
            bound = user.agency or user.person_id or user.organisation or ""
            grants = ", ".join(f"{g.policy}:{g.purpose}" for g in sorted(user.grants))
            table.add_row(
                user.name,
                user.role,
                bound,
                grants,
                user.created_at.isoformat(timespec="seconds"),
                "" if user.revoked_at is None else user.revoked_at.isoformat(timespec="seconds"),
            )
        out.print(table)

    emit(json_output, {"users": [user.as_dict() for user in accounts]}, human)


@users_app.command("revoke")
@command
def revoke(
    name: Annotated[str, typer.Argument(help="The account to revoke.")],
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Revoke an account: its token and sessions stop working (a running server sees it
    within token_cache_seconds)."""
    registry = open_registry(db)
    user = users.revoke_user(registry, name)
    emit(json_output, user.as_dict(), lambda: out.print(f"user {user.name} revoked"))
