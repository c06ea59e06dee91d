"""Scoring: which entries count on a date, the score, the grade with caps, and the blacklist.

This is the reference semantics of DESIGN.md section 3. The population path in ``batch/``
computes the same answers in one columnar pass; a property test keeps the two equal.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.invariant import invariant

__all__ = [
    "COUNTING_STATUSES",
    "STATUSES",
    "Entry",
    "Standing",
    "Why",
    "blacklisted_on",
    "counts_on",
    "grade_on",
    "standing_on",
    "why_on",
]

Status = Literal["active", "contested", "overturned", "withdrawn"]
Why = Literal["counts", "expired", "ended", "overturned", "withdrawn"]
STATUSES: tuple[Status, ...] = ("active", "contested", "overturned", "withdrawn")
COUNTING_STATUSES: frozenset[str] = frozenset({"active", "contested"})


@dataclass(frozen=True, slots=True)
class Entry:
    """An accepted event with what its catalogue version made of it, in its current state."""

    agency: str
    event_id: str
    person_id: str
    rule: str
    occurred_on: date
    catalogue_version: str
    points: int
    counts_until: date
    blacklist_until: date | None = None
    grade_cap: str | None = None
    status: str = "active"
    ends_on: date | None = None
    evidence: str | None = None
    recorded_at: datetime | None = None
    status_reason: str | None = None  # why the newest status or end was recorded
    points_cut: int = 0  # points the rule's yearly cap cut from this entry
    corrects: str | None = None  # the event_id this entry corrects
    repairs: str | None = None  # the event_id this entry repairs


@dataclass(frozen=True, slots=True)
class Standing:
    """A person's score, grade and blacklist on one date, under one catalogue version."""

    as_of: date
    catalogue_version: str
    base_score: int
    score: int
    grade: str
    blacklisted: bool
    points_counted: int


def counts_on(entry: Entry, day: date) -> bool:
    """Active or contested, ``occurred_on <= day < counts_until``, and not ended by ``day``."""
    if entry.status not in COUNTING_STATUSES:
        return False
    if not entry.occurred_on <= day < entry.counts_until:
        return False
    return entry.ends_on is None or day < entry.ends_on


def _blacklists_on(entry: Entry, day: date) -> bool:
    if entry.blacklist_until is None or entry.status not in COUNTING_STATUSES:
        return False
    if not entry.occurred_on <= day < entry.blacklist_until:
        return False
    return entry.ends_on is None or day < entry.ends_on


def blacklisted_on(entries: Iterable[Entry], day: date) -> bool:
    """Some active or contested entry blacklists on ``day`` and was not ended by then."""
    return any(_blacklists_on(entry, day) for entry in entries)


def why_on(entry: Entry, day: date) -> Why:
    """Why an entry that occurred on or before ``day`` counts or does not."""
    invariant(entry.occurred_on <= day, "why_on is asked only for entries that occurred")
    if entry.status in ("overturned", "withdrawn"):
        return entry.status  # type: ignore[return-value]  # narrowed by the test above
    if entry.ends_on is not None and entry.ends_on <= day and entry.ends_on < entry.counts_until:
        return "ended"
    if day >= entry.counts_until:
        return "expired"
    return "counts"


def grade_on(catalogue: Catalogue, score: int, caps: Iterable[str]) -> str:
    """The band of ``score``, no better than the worst of ``caps``."""
    position = catalogue.grade_position(catalogue.grade_for_points(score))
    for cap in caps:
        position = max(position, catalogue.grade_position(cap))
    return catalogue.grades[position]


def standing_on(catalogue: Catalogue, entries: Sequence[Entry], day: date) -> Standing:
    """Score, grade and blacklist on ``day`` under ``catalogue`` (the version in force then)."""
    invariant(catalogue.effective_from <= day, "the catalogue must be in force on the day")
    counting = [entry for entry in entries if counts_on(entry, day)]
    points_counted = sum(entry.points for entry in counting)
    score = catalogue.base_score + points_counted
    caps = [entry.grade_cap for entry in counting if entry.grade_cap is not None]
    standing = Standing(
        as_of=day,
        catalogue_version=catalogue.version,
        base_score=catalogue.base_score,
        score=score,
        grade=grade_on(catalogue, score, caps),
        blacklisted=blacklisted_on(entries, day),
        points_counted=points_counted,
    )
    invariant(standing.score == standing.base_score + points_counted, "score = base + counted")
    return standing
