"""Use cases of an agency's account: submit a batch of events (JSON) or an events file.

Both go through the same judging and writing as ``socialcredit events import``
(``services.events.import_event_frame``); the only addition is the account's agency: a row
naming another agency is rejected with ``not-your-agency``. Every row ends as accepted,
duplicate or rejected, so ``submitted = accepted + duplicates + rejected`` holds here too.
"""

from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from socialcredit.domain.invariant import invariant
from socialcredit.services import imports
from socialcredit.services.event_judge import EVENT_COLUMNS, EVENT_REQUIRED
from socialcredit.services.events import import_event_frame
from socialcredit.services.models import EventImportResult
from socialcredit.services.registry import Registry

__all__ = ["RowOutcome", "Submission", "submit_event_file", "submit_events"]


@dataclass(frozen=True, slots=True)
class RowOutcome:
    row: int  # 1-based, in submission order
    event_id: str | None  # as judged (trimmed)
    outcome: str  # accepted | duplicate | rejected
    code: str | None  # the rejection reason
    message: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "event_id": self.event_id,
            "outcome": self.outcome,
            "code": self.code,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class Submission:
    result: EventImportResult
    rows: tuple[RowOutcome, ...]  # every row (JSON), or the first rejected ones (files)
    rows_complete: bool  # False when more rejected rows exist than ``rows`` lists

    def as_dict(self) -> dict[str, Any]:
        counts = self.result.as_dict()
        counts.pop("rejects_path", None)
        return {
            **counts,
            "rows": [row.as_dict() for row in self.rows],
            "rows_complete": self.rows_complete,
        }


class _Collector:
    """Keeps per-row outcomes: all of them, or only rejected ones up to a bound."""

    def __init__(self, *, only_rejected: bool, limit: int) -> None:
        self.only_rejected = only_rejected
        self.limit = limit
        self.rows: list[RowOutcome] = []
        self.complete = True

    def __call__(self, frame: pl.DataFrame) -> None:
        frame = frame.sort("row")
        if self.only_rejected:
            frame = frame.filter(pl.col("outcome") == "rejected")
        room = self.limit - len(self.rows)
        if frame.height > room:
            self.complete = False
            frame = frame.head(max(room, 0))
        fields = frame.select("row", "n_event_id", "outcome", "reason", "message")
        self.rows.extend(RowOutcome(*values) for values in fields.iter_rows())


def _events_frame(agency: str, events: Sequence[Mapping[str, str | None]]) -> pl.DataFrame:
    """The rows as the file readers give them: row, the event columns as text, malformed."""
    columns: dict[str, list[str | None]] = {name: [] for name in EVENT_COLUMNS}
    for event in events:
        for name in EVENT_COLUMNS:
            columns[name].append(event.get(name))
    # A row that names no agency (absent or null) reports for the account's own agency.
    columns["agency"] = [agency if value is None else value for value in columns["agency"]]
    return pl.DataFrame(
        {
            "row": pl.int_range(1, len(events) + 1, dtype=pl.Int64, eager=True),
            **{name: pl.Series(name, values, dtype=pl.String) for name, values in columns.items()},
            "malformed": pl.Series("malformed", [None] * len(events), dtype=pl.String),
        }
    )


def submit_events(
    registry: Registry,
    agency: str,
    events: Sequence[Mapping[str, str | None]],
    *,
    source: str,
    sha256: str | None = None,
) -> Submission:
    """Judge and store a batch of events sent by ``agency``'s account; an outcome per row."""
    collect = _Collector(only_rejected=False, limit=len(events))
    result = import_event_frame(
        registry,
        _events_frame(agency, events),
        list(EVENT_COLUMNS),
        source=source,
        sha256=sha256,
        bound_agency=agency,
        row_outcomes=collect,
    )
    invariant(len(collect.rows) == result.submitted, "one outcome per submitted row")
    return Submission(result, tuple(collect.rows), True)


def submit_event_file(
    registry: Registry,
    agency: str,
    path: Path,
    *,
    source: str,
    encoding: str = "utf-8",
    rejected_rows_listed: int = 1000,
    rejects_path: Path | None = None,
) -> Submission:
    """Import an uploaded events file for ``agency``'s account; lists the first rejected rows.

    Every rejected row is also stored with its import (table ``rejections``), as for the CLI;
    with ``rejects_path`` they are written there too, as the CLI's rejects file (the portal
    offers it for download).
    """
    raw = imports.read_import_file(registry, path, encoding, EVENT_REQUIRED, EVENT_COLUMNS)
    collect = _Collector(only_rejected=True, limit=rejected_rows_listed)
    with ExitStack() as stack:
        rejects = None
        if rejects_path is not None:
            rejects = stack.enter_context(imports.open_rejects(rejects_path, raw.columns))
        result = import_event_frame(
            registry,
            raw.frame,
            raw.columns,
            source=source,
            sha256=raw.sha256,
            rejects=rejects,
            bound_agency=agency,
            row_outcomes=collect,
        )
    return Submission(result, tuple(collect.rows), collect.complete)
