"""Rows of ``entries`` as the store's bulk functions take them (below the import)."""

from datetime import date, datetime

import polars as pl

from socialcredit.store.bulk import ENTRY_COLUMNS


def merit_rows(agency: str, event_ids: list[str], person_id: str) -> pl.DataFrame:
    """Merits (5 points each; so no notices), one per event ID, all for ``person_id``."""
    count = len(event_ids)
    return pl.DataFrame(
        {
            "agency": [agency] * count,
            "event_id": event_ids,
            "person_id": [person_id] * count,
            "rule": ["VOLUNTEER-SERVICE"] * count,
            "occurred_on": [date(2026, 5, 1)] * count,
            "evidence": [f"shift {event_id}" for event_id in event_ids],
            "catalogue_version": ["2026.1"] * count,
            "points": [5] * count,
            "counts_until": [date(2028, 5, 1)] * count,
            "blacklist_until": pl.Series([None] * count, dtype=pl.Date),
            "grade_cap": pl.Series([None] * count, dtype=pl.String),
            "import_id": pl.Series([None] * count, dtype=pl.Int64),
            "recorded_at": [datetime(2026, 11, 28, 4)] * count,
            "points_cut": [0] * count,
            "corrects": pl.Series([None] * count, dtype=pl.String),
            "repairs": pl.Series([None] * count, dtype=pl.String),
        }
    ).select(ENTRY_COLUMNS)
