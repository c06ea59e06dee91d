"""``socialcredit demo``: the synthetic Rongcheng, end to end, with what DESIGN section 6 asks."""

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from socialcredit.cli import app
from socialcredit.cli.common import Json, command, emit, err, out, progress_bar
from socialcredit.services.demo import DemoResult, run_demo
from socialcredit.services.imports import Progress
from socialcredit.services.models import Statement
from socialcredit.settings import load_settings

__all__ = ["demo"]


class _Steps:
    """A heading, a progress bar and a time for each long step, printed in order on stderr."""

    def __init__(self) -> None:
        self._bar: Any = None

    def progress(self, name: str) -> Progress:
        self.close()  # Rich shows one live display at a time
        self._bar = progress_bar(name)
        return self._bar.__enter__()  # type: ignore[no-any-return]

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None

    @contextmanager
    def timer(self, name: str) -> Iterator[Callable[[], float]]:
        started = time.perf_counter()
        err.print(f"[bold]{name}[/bold] ...")
        elapsed = 0.0

        def done() -> float:
            return elapsed

        try:
            yield done
        finally:
            self.close()
            elapsed = time.perf_counter() - started
        err.print(f"  {name}: {elapsed:.1f} s")


def _print_statement(statement: Statement) -> None:
    out.print(
        f"\n[bold]{statement.name}[/bold] {statement.id} ({statement.district}"
        f"{', public servant' if statement.public_servant else ''})"
    )
    out.print(
        f"  {statement.score} points = base {statement.base_score} "
        f"{statement.points_counted:+d}, grade {statement.grade}, "
        f"{'BLACKLISTED' if statement.blacklisted else 'not blacklisted'}"
    )
    table = Table("occurred", "agency", "rule", "title", "points", "counts until", "why")
    for entry in statement.entries:
        table.add_row(
            entry.occurred_on.isoformat(),
            entry.agency,
            entry.rule,
            entry.title_zh or entry.title,
            f"{entry.points:+d}",
            entry.counts_until.isoformat(),
            entry.why,
        )
    for column in table.columns:
        column.no_wrap = True
        column.overflow = "ellipsis"
    out.print(table)


def _print_result(result: DemoResult) -> None:
    distribution = result.distribution
    out.print(
        f"\n[bold]Synthetic Rongcheng, {distribution.people:,} residents, "
        f"as of {distribution.as_of}[/bold] (catalogue {distribution.catalogue_version})"
    )
    events = result.events
    out.print(
        f"events: {events.submitted:,} submitted = {events.accepted:,} accepted + "
        f"{events.duplicates:,} duplicates + {events.rejected:,} rejected "
        f"(rejects in {events.rejects_path})"
    )
    table = Table("grade", "people", "share")
    for grade, count in distribution.grades.items():
        table.add_row(grade, f"{count:,}", f"{100 * count / max(distribution.people, 1):.2f} %")
    out.print(table)
    out.print(f"blacklisted: {distribution.blacklisted:,}")
    _print_statement(result.zhang_jian)
    promotion = result.zhang_jian_promotion
    out.print(
        f"  civil-service-promotion: {'eligible' if promotion['eligible'] else 'NOT eligible'}"
    )
    _print_statement(result.other)
    out.print(f"\nPDF statement: {result.pdf_path}\nplot of grades: {result.plot_path}")
    db = result.database_url
    out.print(
        "open the portal on this database (the catalogue and 'check a statement' need no "
        "account; log in with the name and the token `users add` prints):\n"
        f"  socialcredit users add clerk-1 --role clerk --db {db}\n"
        f"  socialcredit serve --db {db}\n"
        "  then http://127.0.0.1:8000/ (docs/portal.md)"
    )


@app.command("demo")
@command
def demo(
    people: Annotated[
        int, typer.Option("--people", min=1, max=5_000_000, help="Residents in the synthetic town.")
    ] = 670_000,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Folder for the demo database, files, PDF and plot.")
    ] = Path("socialcredit-demo"),
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same town.")] = 2014,
    json_output: Json = False,
) -> None:
    """Build a synthetic Rongcheng, import it as agencies would, and report on it."""
    steps = _Steps()
    try:
        result = run_demo(
            out_dir,
            people_count=people,
            seed=seed,
            settings=load_settings(),
            step=steps.progress,
            timer=steps.timer,
        )
    finally:
        steps.close()
    emit(json_output, result.as_dict(), lambda: _print_result(result))
