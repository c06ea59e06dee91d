"""``socialcredit contest ...`` and ``events withdraw``: due process at the command line."""

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.commands import events_app
from socialcredit.cli.common import Db, Json, cli_actor, command, emit, open_registry, out
from socialcredit.domain.errors import UnreadableInputError
from socialcredit.services import contests
from socialcredit.services.corrections import withdraw_entry

__all__ = ["contest_app"]

contest_app = typer.Typer(help="Contest entries: open, answer, decide, list.", no_args_is_help=True)
Agency = Annotated[str, typer.Argument(help="The reporting agency's code.")]
EventId = Annotated[str, typer.Argument(help="The agency's event_id of the entry.")]


def _print(view: contests.ContestView) -> None:
    due = "OVERDUE " if view.overdue else ""
    out.print(
        f"contest {view.id} of {view.agency}/{view.event_id} ({view.person_id}, "
        f"{view.rule}): {view.state}{' ' + view.outcome if view.outcome else ''}, "
        f"{due}answer due {view.answer_due.date().isoformat()}"
    )
    for step in view.steps:
        out.print(
            f"  {step['recorded_at'].isoformat()}  {step['step']} {step['outcome']}: "
            f"{step['reason']} ({step['actor']})"
        )


def _attachments(paths: list[Path] | None) -> tuple[tuple[str, str, bytes], ...]:
    files = []
    for path in paths or []:
        if not path.is_file():
            raise UnreadableInputError(f"{path}: no such file")
        files.append((path.name, "application/octet-stream", path.read_bytes()))
    return tuple(files)


@contest_app.command("open")
@command
def contest_open(
    agency: Agency,
    event_id: EventId,
    grounds: Annotated[str, typer.Option("--grounds", help="What is wrong with the entry.")],
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="A file to attach (repeatable).")
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Contest an entry: it becomes 'contested' and the agency must answer."""
    view = contests.open_contest(
        open_registry(db),
        agency,
        event_id,
        grounds=grounds,
        actor=cli_actor(),
        attachments=_attachments(attach),
    )
    emit(json_output, view.as_dict(), lambda: _print(view))


@contest_app.command("answer")
@command
def contest_answer(
    agency: Agency,
    event_id: EventId,
    answer: Annotated[str, typer.Argument(help="verified, corrected or withdrawn.")],
    reason: Annotated[str, typer.Option("--reason", help="The agency's reason.")] = "",
    corrected_by: Annotated[
        str | None,
        typer.Option(
            "--corrected-by", help="For 'corrected': the event_id of the correcting event."
        ),
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """The reporting agency's answer to a contest."""
    view = contests.answer_contest(
        open_registry(db),
        agency,
        event_id,
        answer,
        reason=reason,
        actor=cli_actor(),
        corrected_by=corrected_by,
    )
    emit(json_output, view.as_dict(), lambda: _print(view))


@contest_app.command("decide")
@command
def contest_decide(
    agency: Agency,
    event_id: EventId,
    decision: Annotated[str, typer.Argument(help="upheld or overturned.")],
    reason: Annotated[str, typer.Option("--reason", help="Written reasons, shown to the person.")],
    db: Db = None,
    json_output: Json = False,
) -> None:
    """The review officer's decision on a verified contest."""
    view = contests.decide_contest(
        open_registry(db), agency, event_id, decision, reason=reason, actor=cli_actor()
    )
    emit(json_output, view.as_dict(), lambda: _print(view))


@contest_app.command("show")
@command
def contest_show(
    agency: Agency, event_id: EventId, db: Db = None, json_output: Json = False
) -> None:
    """The newest contest of an entry with its steps."""
    view = contests.get_contest(open_registry(db), agency, event_id)
    emit(json_output, view.as_dict(), lambda: _print(view))


@contest_app.command("list")
@command
def contest_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only unanswered past due.")] = False,
    open_only: Annotated[bool, typer.Option("--open", help="Only contests not closed.")] = False,
    agency: Annotated[str | None, typer.Option("--agency")] = None,
    person: Annotated[str | None, typer.Option("--person")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 1000,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Contests, oldest first."""
    views = contests.list_contests(
        open_registry(db),
        overdue=overdue,
        open_only=open_only,
        agency=agency,
        person_id=person,
        limit=limit,
    )

    def human() -> None:
        table = Table("id", "entry", "person", "state", "answer due", "overdue")
        for view in views:
            table.add_row(
                str(view.id),
                f"{view.agency}/{view.event_id}",
                view.person_id,
                view.state + (f" {view.outcome}" if view.outcome else ""),
                view.answer_due.date().isoformat(),
                "yes" if view.overdue else "",
            )
        out.print(table)

    emit(json_output, {"contests": [view.as_dict() for view in views]}, human)


@contest_app.command("sweep")
@command
def contest_sweep(db: Db = None, json_output: Json = False) -> None:
    """Overturn the contests whose agency did not answer by the deadline (run daily)."""
    views = contests.sweep_overdue(open_registry(db))
    emit(
        json_output,
        {"overturned": [view.as_dict() for view in views]},
        lambda: out.print(f"{len(views)} overdue contests overturned"),
    )


@events_app.command("withdraw")
@command
def events_withdraw(
    agency: Agency,
    event_id: EventId,
    reason: Annotated[str, typer.Option("--reason", help="Why the agency withdraws it.")],
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Withdraw one of an agency's entries: it stops counting and stays visible, marked."""
    result = withdraw_entry(open_registry(db), agency, event_id, reason=reason, actor=cli_actor())
    emit(json_output, result, lambda: out.print(f"{agency}/{event_id} withdrawn"))


app.add_typer(contest_app, name="contest")
