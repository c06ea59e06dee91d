"""``socialcredit notices ID`` (a person's notices) and ``notices deliver`` (send due notices).

``notices ID`` is short for ``notices show ID``: the group reads a first argument that is not
one of its commands as a resident ID.
"""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, cli_actor, command, emit, open_registry, out
from socialcredit.domain.errors import InputError
from socialcredit.services.delivery import deliver_notices, list_notices_for
from socialcredit.services.notifiers import FileNotifier, Notifier, SmtpConfig, SmtpNotifier
from socialcredit.services.registry import Registry
from socialcredit.services.standing import OFFICE_ENQUIRY

__all__ = ["notices_app"]


class _ShowByDefault(TyperGroup):
    """``notices ID ...`` runs ``notices show ID ...``."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().resolve_command(ctx, args)


notices_app = typer.Typer(
    cls=_ShowByDefault,
    help="Notices to residents: `notices ID` lists a person's; `notices deliver` sends them.",
    no_args_is_help=True,
)
app.add_typer(notices_app, name="notices")


@notices_app.command("show")
@command
def show(
    person_id: Annotated[str, typer.Argument(help="18-character resident ID.")],
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    before: Annotated[
        int | None, typer.Option("--before", help="Only notices older than this notice id.")
    ] = None,
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why the notices are read (logged).")
    ] = OFFICE_ENQUIRY,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """A person's notices, newest first, each with how it was delivered."""
    registry = open_registry(db)
    person, listed = list_notices_for(
        registry, person_id, limit, before, actor=cli_actor(), purpose=purpose
    )

    def human() -> None:
        if not listed:
            out.print(f"{person}: no notices")
        for notice in listed:
            sent = ", ".join(f"{d['channel']} {d['status']}" for d in notice["deliveries"])
            out.print(f"[bold]#{notice['id']} {notice['subject']}[/bold]  {notice['recorded_at']}")
            out.print(notice["body"], markup=False)
            out.print(f"delivery: {sent or 'not yet'}\n")

    emit(json_output, {"id": person, "notices": listed}, human)


def _notifier(registry: Registry, channel: str, to: Path | None) -> Notifier:
    if channel == "file":
        return FileNotifier(to or Path(registry.settings.notice_outbox), registry.clock)
    if to is not None:
        raise InputError("--to is for the file channel; e-mail goes to each person's address")
    return SmtpNotifier(SmtpConfig.from_settings(registry.settings), registry.clock)


@notices_app.command("deliver")
@command
def deliver(
    channel: Annotated[
        str,
        typer.Option(
            "--channel", help="file: append to an outbox for print and mail; smtp: e-mail."
        ),
    ] = "file",
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Outbox file of the file channel (default: notice_outbox)."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Most notices sent (default: notices_per_run)."),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Send notices not yet delivered on the channel; each attempt is recorded."""
    if channel not in ("file", "smtp"):
        raise InputError(f"--channel {channel!r}: choose file or smtp")
    registry = open_registry(db)
    report = deliver_notices(registry, _notifier(registry, channel, to), limit=limit)
    document = report.as_dict()

    def human() -> None:
        out.print(
            f"{channel}: {report.sent} sent, {report.skipped} skipped, {report.failed} failed; "
            f"{report.remaining} still due, {report.given_up} given up"
        )
        if report.stopped:
            out.print(f"stopped early: {report.stopped}", markup=False)
        problems = [r for r in report.results if r["status"] != "sent"]
        if problems:
            table = Table("notice", "person", "status", "why")
            for row in problems:
                table.add_row(str(row["notice_id"]), row["person_id"], row["status"], row["error"])
            out.print(table)

    emit(json_output, document, human)
