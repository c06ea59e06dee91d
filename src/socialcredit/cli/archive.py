"""``socialcredit archive purge``: purge the personal details of entries past the archive period."""

from typing import Annotated

import typer

from socialcredit.cli import app
from socialcredit.cli.common import Db, Json, command, emit, open_registry, out, progress_bar
from socialcredit.services.archive import purge_personal_details

__all__ = ["archive_app"]

archive_app = typer.Typer(help="Expiry and archive of old entries.", no_args_is_help=True)
app.add_typer(archive_app, name="archive")


@archive_app.command("purge")
@command
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be purged; change nothing.")
    ] = False,
    db: Db = None,
    json_output: Json = False,
) -> None:
    """Purge evidence, contest grounds and attachments of entries whose archive period is
    over (setting archive_after_days), and the kept copies of rows rejected that long ago;
    the entries and the rejection rows themselves stay."""
    registry = open_registry(db)
    with progress_bar("purging", total=None) as update:
        result = purge_personal_details(
            registry,
            dry_run=dry_run,
            progress=lambda done: update(done, None),  # type: ignore[arg-type]  # no total known
        )
    document = result.as_dict()

    def human() -> None:
        verb = "would purge" if dry_run else "purged"
        out.print(
            f"{verb} the personal details of {result.entries} entries whose windows and "
            f"contests ended on or before {result.cutoff} ({result.archive_after_days} days "
            f"before {result.as_of}): {result.evidence} evidence, {result.grounds} contest "
            f"grounds, {result.attachments} attachments; and the copies of "
            f"{result.rejected_rows} rows rejected by then"
        )

    emit(json_output, document, human)
