"""``socialcredit catalogue diff PATH``: what a catalogue file would change, without loading it."""

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.cli.commands import catalogue_app
from socialcredit.cli.common import Db, Json, cli_actor, command, emit, open_registry, out
from socialcredit.services.catalogue import read_catalogue_file
from socialcredit.services.catalogue_change import (
    MAX_LISTED,
    CatalogueDiff,
    GradeChanges,
    diff_catalogues,
    grade_changes,
    version_before,
)

__all__ = ["catalogue_diff"]


def _print_items(title: str, items: dict[str, Any]) -> None:
    if not (items["added"] or items["removed"] or items["changed"]):
        out.print(f"{title}: no change")
        return
    out.print(f"[bold]{title}[/bold]")
    for code in items["added"]:
        out.print(f"  + {code}", markup=False)
    for code in items["removed"]:
        out.print(f"  - {code}", markup=False)
    for code, changes in items["changed"].items():
        out.print(f"  ~ {code}", markup=False)
        for name, change in changes.items():
            out.print(f"      {name}: {change['old']!r} -> {change['new']!r}", markup=False)


def _print_diff(diff: CatalogueDiff) -> None:
    document = diff.as_dict()
    out.print(
        f"catalogue {diff.new_version} (from {diff.new_effective_from}) against "
        f"{diff.old_version} (from {diff.old_effective_from})"
    )
    if diff.base_score is not None:
        out.print(f"base score: {diff.base_score[0]} -> {diff.base_score[1]}")
    for grade, old_min, new_min in diff.bands:
        out.print(f"grade {grade}: from {old_min} -> from {new_min}")
    for title in ("rules", "agencies", "policies"):
        _print_items(title, document[title])


def _print_grades(changes: GradeChanges) -> None:
    out.print(
        f"on {changes.on}, of {changes.people} people, {changes.people - changes.unchanged} "
        f"would change grade ({changes.score_changed} would change score):"
    )
    for old, new, count in changes.transitions:
        out.print(f"  {old:>3} -> {new:<3} {count}")
    if changes.changes:
        table = Table("id", "score", "grade", "blacklisted")
        for row in changes.changes:
            table.add_row(
                row["id"],
                f"{row['old_score']} -> {row['new_score']}",
                f"{row['old_grade']} -> {row['new_grade']}",
                "yes" if row["blacklisted"] else "no",
            )
        out.print(table)
    if changes.next_after:
        out.print(f"more: --after {changes.next_after}")


@catalogue_app.command("diff")
@command
def catalogue_diff(
    path: Annotated[Path, typer.Argument(help="Catalogue YAML file.", show_default=False)],
    people: Annotated[
        int, typer.Option("--people", min=0, max=MAX_LISTED, help="People listed per page.")
    ] = 20,
    after: Annotated[
        str | None, typer.Option("--after", help="List people after this ID (next page).")
    ] = None,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """What a catalogue file changes, and who would change grade; loads nothing.

    Compares the file with the version in force on its effective_from: rules, agencies and
    policies added, removed and changed, base score and grade thresholds; then scores everyone
    on that date under both.
    """
    registry = open_registry(db)
    new = read_catalogue_file(path)
    diff = diff_catalogues(version_before(registry, new), new)
    changes = grade_changes(registry, new, limit=people, after=after, actor=cli_actor())
    document = {"diff": diff.as_dict(), "grade_changes": changes.as_dict()}

    def human() -> None:
        _print_diff(diff)
        _print_grades(changes)

    emit(json_output, document, human)
