"""What a consistent store looks like, checked with raw SQL next to the services' answers.

Used after concurrent imports, after kills and after restores: every key is held once, every
import's counters equal the rows it stored, and a person's balance is the base score plus the
raw sum of their counting entries.
"""

from datetime import date
from typing import Any

from sqlalchemy import text

from socialcredit.services import standing
from socialcredit.services.registry import Registry

__all__ = [
    "assert_balances",
    "assert_consistent",
    "entry_count",
    "event_keys",
    "import_rows",
]


def _rows(registry: Registry, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with registry.database.read() as connection:
        return [tuple(row) for row in connection.execute(text(sql), params)]


def entry_count(registry: Registry) -> int:
    return int(_rows(registry, "SELECT count(*) FROM entries")[0][0])


def event_keys(registry: Registry) -> list[tuple[str, str]]:
    return [(a, e) for a, e in _rows(registry, "SELECT agency, event_id FROM entries")]


def import_rows(registry: Registry) -> list[dict[str, Any]]:
    """Every import with its counters and what it stored (entries, changes, rejections)."""
    rows = _rows(
        registry,
        "SELECT i.id, i.kind, i.submitted, i.accepted, i.duplicates, i.unchanged, i.rejected,"
        " i.finished_at IS NOT NULL,"
        " (SELECT count(*) FROM entries e WHERE e.import_id = i.id),"
        " (SELECT count(*) FROM person_changes c WHERE c.import_id = i.id),"
        " (SELECT count(*) FROM rejections r WHERE r.import_id = i.id)"
        " FROM imports i ORDER BY i.id",
    )
    names = [
        "id",
        "kind",
        "submitted",
        "accepted",
        "duplicates",
        "unchanged",
        "rejected",
        "finished",
        "stored_entries",
        "stored_changes",
        "stored_rejections",
    ]
    return [dict(zip(names, row, strict=True)) for row in rows]


def assert_consistent(registry: Registry) -> None:
    """No key twice; each import's counters add up and equal the rows it stored."""
    duplicated = _rows(
        registry,
        "SELECT agency, event_id FROM entries GROUP BY agency, event_id HAVING count(*) > 1",
    )
    assert duplicated == []
    for row in import_rows(registry):
        outcomes = row["accepted"] + row["duplicates"] + row["unchanged"] + row["rejected"]
        assert row["submitted"] == outcomes, row
        assert row["rejected"] == row["stored_rejections"], row
        if row["kind"] == "events":
            assert row["accepted"] == row["stored_entries"], row
        else:  # people: added + updated each appended one change
            assert row["accepted"] + row["duplicates"] == row["stored_changes"], row


def assert_balances(registry: Registry, person_ids: list[str], day: date) -> None:
    """``score == base + raw SUM(points)`` of the entries counting on ``day`` (no decisions)."""
    bound: date | str = day.isoformat() if registry.database.is_sqlite else day
    for person_id in person_ids:
        raw = _rows(
            registry,
            "SELECT coalesce(sum(points), 0) FROM entries WHERE person_id = :p"
            " AND occurred_on <= :d AND counts_until > :d",
            p=person_id,
            d=bound,
        )[0][0]
        result = standing.score(registry, person_id, as_of=day)
        assert result.score == result.base_score + int(raw), person_id
