"""``socialcredit audit access``: search the access log (who read whose record, when, why)."""

from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, cli_actor, command, emit, open_registry, out
from socialcredit.services.audit import AUDIT_PURPOSE, MAX_PAGE, search_access
from socialcredit.services.clock import parse_timestamp
from socialcredit.services.registry import Registry

__all__ = ["audit_app"]

audit_app = typer.Typer(help="Auditors' searches.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("access")
@command
def access(
    person: Annotated[str | None, typer.Option("--person", help="Resident ID read.")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Who read (account name).")] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", help="Their organisation, exactly.")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", help="score, statement, check, export, ...")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="TIMESTAMP", help="From (ISO 8601, inclusive)."),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="TIMESTAMP", help="Until (ISO 8601, exclusive)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_PAGE)] = 100,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="next_cursor of the previous page.")
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the log is searched (logged for each person).")
    ] = AUDIT_PURPOSE,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Access-log rows matching every filter given, newest first; timestamps without an
    offset are in the registry's zone."""
    registry = open_registry(db)
    page = search_access(
        registry,
        person_id=person,
        actor=actor,
        organisation=organisation,
        action=action,
        since=_moment(registry, since, "--since"),
        until=_moment(registry, until, "--until"),
        limit=limit,
        cursor=cursor,
        reader=cli_actor(),
        purpose=purpose,
    )
    document = page.as_dict()

    def human() -> None:
        table = Table("id", "when", "person", "who", "role", "organisation", "action", "purpose")
        for row in document["access"]:
            table.add_row(
                str(row["id"]),
                row["recorded_at"],
                row["person_id"],
                row["actor"],
                row["role"],
                row["organisation"] or "",
                row["action"],
                row["purpose"],
            )
        out.print(table)
        if page.next_cursor:
            out.print(f"more: --cursor {page.next_cursor}")

    emit(json_output, document, human)


def _moment(registry: Registry, text: str | None, option: str) -> datetime | None:
    return None if text is None else parse_timestamp(text, registry.clock.zone, field=option)
