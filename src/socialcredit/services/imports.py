"""Shared machinery of the imports: reading the file, the rejects file, progress, people lookup.

Both imports follow the same shape: read the whole file (refused whole if unreadable), then for
each batch judge every row columnar, write what was accepted and what was rejected in one
transaction, and stream the rejects into the rejects file.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy import Connection

from socialcredit.domain.errors import InputError, UnreadableInputError
from socialcredit.files.readers import EXTRA, RawTable, file_format, frame_columns, read_table
from socialcredit.files.writers import TableWriter
from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.bulk import REJECTION_COLUMNS, insert_rows

__all__ = [
    "Progress",
    "PeopleLookup",
    "batches",
    "default_rejects_path",
    "open_rejects",
    "read_import_file",
    "rejects_frame",
    "rejects_path_for",
    "store_rejections",
]

# Called with (rows done, rows in all); the CLI draws a progress bar with it.
Progress = Callable[[int, int], None]

REJECTS_HEADER = ("row", "reason", "message")


def default_rejects_path(path: Path) -> Path:
    """``NAME.rejects.csv`` next to the input (``events.csv`` -> ``events.rejects.csv``)."""
    return path.with_name(f"{path.stem}.rejects.csv")


def rejects_path_for(path: Path, rejects_path: Path | None) -> Path:
    """Where the rejects of the (readable) input ``path`` go, checked before anything is
    written: never over the input."""
    target = rejects_path or default_rejects_path(path)
    file_format(target)
    if not target.parent.is_dir():
        raise UnreadableInputError(f"{target}: folder {target.parent} does not exist")
    if target.exists() and target.samefile(path):  # the input is the agency's record
        raise InputError(f"{target}: the rejects file cannot be the input file itself")
    return target


def read_import_file(
    registry: Registry,
    path: Path,
    encoding: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
) -> RawTable:
    """Read ``path`` whole; refuses it without the ``required`` columns."""
    settings = registry.settings
    raw = read_table(
        path,
        encoding=encoding,
        max_file_bytes=settings.max_file_bytes,
        max_rows=settings.max_rows_per_file,
    )
    if raw.height == 0 and not raw.columns:
        return raw  # an empty JSON Lines file: no records, nothing to judge
    missing = [name for name in required if name not in raw.columns]
    if missing:
        raise UnreadableInputError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)} "
            f"(found: {', '.join(raw.columns) or 'none'})"
        )
    # Inside an import, extra columns travel as file:NAME too: an extra column named like one
    # the judging adds (points, reason, ...) must never stand in for it.
    known = (*required, *optional)
    held = dict(zip(raw.columns, frame_columns(raw.columns), strict=True))
    extras = {
        name: EXTRA + name for name in raw.columns if name not in known and held[name] == name
    }
    return RawTable(raw.columns, raw.frame.rename(extras), raw.sha256)


def _original_columns(frame: pl.DataFrame, columns: Sequence[str]) -> list[pl.Expr]:
    """The file's own columns under their own names."""
    return [
        pl.col(EXTRA + name if EXTRA + name in frame.columns else name).alias(name)
        for name in columns
    ]


def rejects_frame(rejected: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """row, reason, message, then the file's columns (but for the row, reason and message of
    a rejects file sent again, which the database keeps with the rest of the row)."""
    own = [name for name in columns if name not in REJECTS_HEADER]
    return rejected.select(*REJECTS_HEADER, *_original_columns(rejected, own))


def batches(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for offset in range(0, frame.height, size):
        yield frame.slice(offset, size)


def open_rejects(path: Path, columns: Sequence[str]) -> TableWriter:
    """The rejects file: row, reason, message, then the file's own columns."""
    schema: dict[str, pl.DataType] = {
        "row": pl.Int64(),
        "reason": pl.String(),
        "message": pl.String(),
    }
    for name in columns:
        if name not in schema:
            schema[name] = pl.String()
    return TableWriter(path, schema)


def store_rejections(
    connection: Connection, rejected: pl.DataFrame, columns: Sequence[str], import_id: int
) -> None:
    """Keep every rejected row in the database too, with its original fields as JSON."""
    if rejected.height == 0:
        return
    record = pl.struct(_original_columns(rejected, columns)).struct.json_encode()
    rows = rejected.select(
        import_id=pl.lit(import_id),
        row="row",
        reason="reason",
        message="message",
        record=record if columns else pl.lit("{}"),
        recorded_at=pl.col("recorded_at"),
    )
    insert_rows(connection, "rejections", rows, REJECTION_COLUMNS)


@dataclass
class PeopleLookup:
    """Who is registered, fetched per batch, or all at once when a batch names many people.

    Small batches (an agency's API call) ask only for the IDs they name; big imports load
    the whole register once, which costs one scan instead of many IN-lists.
    """

    registry: Registry
    names: tuple[str, ...] = ("id", "name", "district", "public_servant")
    _everyone: pl.DataFrame | None = None
    # ``repository.people_mark`` read before the data last fetched: a writer can tell whether
    # the register changed since (people imports settle against this view).
    mark: int | None = None

    def fetch(self, ids: pl.Series) -> pl.DataFrame:
        if self._everyone is not None:
            return self._everyone
        wanted = ids.drop_nulls().unique()
        with self.registry.database.read() as connection:
            # Before the data: a change committed in between makes the view look stale, never
            # fresh (PostgreSQL's READ COMMITTED reads each statement at a new snapshot).
            self.mark = repository.people_mark(connection)
            if wanted.len() > 20_000:
                self._everyone = repository.fetch_people(connection, None, names=self.names)
                return self._everyone
            return repository.fetch_people(connection, wanted.to_list(), names=self.names)

    def forget(self) -> None:
        """Drop the cached register (someone else changed it); the next fetch reads again."""
        self._everyone = None
        self.mark = None

    def absorb(self, state: pl.DataFrame) -> None:
        """Fold people just written (id, name, district, public_servant) into the cache."""
        if self._everyone is not None and state.height:
            kept = self._everyone.filter(~pl.col("id").is_in(state["id"].implode()))
            self._everyone = pl.concat([kept, state.select(self._everyone.columns)])
