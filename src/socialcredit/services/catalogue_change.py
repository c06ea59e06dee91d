"""Catalogue change: what a new version changes, and who would change grade (issue 4, item 10).

``diff_catalogues`` lists the rules, agencies and policies added, removed and changed (each
changed field old -> new), and changes of the base score and the grade thresholds.

``grade_changes`` answers "who would change grade on the new version's effective date if
nothing else happened": the population is scored on that date twice, from the same stored
entries (each keeps the points of the version it was scored under), once under the version
that would be in force without the new one and once under the new one (base score, bands).
It reuses the population kernel (``batch.population``): one set-based aggregate, two Polars
gradings.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

import polars as pl

from socialcredit.batch.population import grade_population, sql_aggregates
from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.durations import Duration
from socialcredit.domain.errors import InputError, NoCatalogueError
from socialcredit.services.access import LOCAL, Actor, record_bulk_access
from socialcredit.services.registry import Registry
from socialcredit.store import repository

__all__ = [
    "CatalogueDiff",
    "GradeChanges",
    "ItemsDiff",
    "diff_catalogues",
    "grade_changes",
    "version_before",
]

MAX_LISTED = 10_000
REVIEW_PURPOSE = "catalogue change review"


@dataclass(frozen=True, slots=True)
class ItemsDiff:
    """Codes added and removed, and per changed code its fields as (field, old, new)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: Mapping[str, tuple[tuple[str, Any, Any], ...]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": {
                code: {name: {"old": old, "new": new} for name, old, new in changes}
                for code, changes in self.changed.items()
            },
        }

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class CatalogueDiff:
    old_version: str
    new_version: str
    old_effective_from: date
    new_effective_from: date
    base_score: tuple[int, int] | None  # (old, new) when it changed
    bands: tuple[tuple[str, int | None, int | None], ...]  # (grade, old min, new min), changed
    rules: ItemsDiff
    agencies: ItemsDiff
    policies: ItemsDiff

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": {"version": self.old_version, "effective_from": str(self.old_effective_from)},
            "new": {"version": self.new_version, "effective_from": str(self.new_effective_from)},
            "base_score": None
            if self.base_score is None
            else {"old": self.base_score[0], "new": self.base_score[1]},
            "grades": [{"grade": g, "old_min": o, "new_min": n} for g, o, n in self.bands],
            "rules": self.rules.as_dict(),
            "agencies": self.agencies.as_dict(),
            "policies": self.policies.as_dict(),
        }


def _plain(value: Any) -> Any:
    """A field value as JSON shows it: durations as written, lists sorted where order is moot."""
    if isinstance(value, Duration):
        return value.text
    if isinstance(value, tuple):
        return sorted(value)
    return value


def _same(old: Any, new: Any) -> bool:
    # P12M and P1Y add the same to any date: not a change. Reporters are a set.
    if isinstance(old, Duration) and isinstance(new, Duration):
        return (old.months, old.days) == (new.months, new.days)
    if isinstance(old, tuple) and isinstance(new, tuple):
        return sorted(old) == sorted(new)
    return bool(old == new)


def _items(old: Mapping[str, Any], new: Mapping[str, Any]) -> ItemsDiff:
    changed: dict[str, tuple[tuple[str, Any, Any], ...]] = {}
    for code in sorted(set(old) & set(new)):
        before, after = old[code], new[code]
        changes = tuple(
            (f.name, _plain(getattr(before, f.name)), _plain(getattr(after, f.name)))
            for f in fields(before)
            if f.name != "code" and not _same(getattr(before, f.name), getattr(after, f.name))
        )
        if changes:
            changed[code] = changes
    return ItemsDiff(
        tuple(sorted(set(new) - set(old))), tuple(sorted(set(old) - set(new))), changed
    )


def diff_catalogues(old: Catalogue, new: Catalogue) -> CatalogueDiff:
    """What ``new`` changes with respect to ``old``."""
    old_bands = {band.grade: band.min_points for band in old.bands}
    bands = tuple(
        (band.grade, old_bands.get(band.grade), band.min_points)
        for band in new.bands
        if band.grade not in old_bands or old_bands[band.grade] != band.min_points
    )
    base = None if old.base_score == new.base_score else (old.base_score, new.base_score)
    return CatalogueDiff(
        old.version,
        new.version,
        old.effective_from,
        new.effective_from,
        base,
        bands,
        _items(old.rules, new.rules),
        _items(old.agencies, new.agencies),
        _items(old.policies, new.policies),
    )


def version_before(registry: Registry, new: Catalogue) -> Catalogue:
    """The loaded version that would be in force on ``new.effective_from`` without ``new``."""
    candidates = [
        catalogue
        for catalogue in registry.catalogues()
        if catalogue.effective_from <= new.effective_from and catalogue.version != new.version
    ]
    if not candidates:
        raise NoCatalogueError(
            f"no loaded catalogue version is in force on {new.effective_from.isoformat()} "
            f"besides {new.version!r}: nothing to compare it with"
        )
    return candidates[-1]


@dataclass(frozen=True, slots=True)
class GradeChanges:
    on: date
    old_version: str
    new_version: str
    people: int
    unchanged: int  # people whose grade stays
    score_changed: int  # people whose score moves (a base-score change moves everyone's)
    transitions: tuple[tuple[str, str, int], ...]  # (old grade, new grade, people), changed only
    changes: tuple[dict[str, Any], ...]  # one page of the people who change grade, by id
    next_after: str | None  # pass as ``after`` for the next page

    def as_dict(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "old_version": self.old_version,
            "new_version": self.new_version,
            "people": self.people,
            "unchanged": self.unchanged,
            "score_changed": self.score_changed,
            "transitions": [
                {"from": old, "to": new, "people": count} for old, new, count in self.transitions
            ],
            "changes": list(self.changes),
            "next_after": self.next_after,
        }


def _both(registry: Registry, old: Catalogue, new: Catalogue) -> pl.DataFrame:
    """id, old_score, old_grade, new_score, new_grade, blacklisted for everyone, by id."""
    day = new.effective_from
    with registry.database.read() as connection:
        repository.batch_memory(connection, registry.settings.pg_batch_work_mem_mib)
        people = repository.person_ids(connection)
        aggregates = sql_aggregates(connection, day, old.grades)
    before = grade_population(people, aggregates, old)
    after = grade_population(people, aggregates, new)
    return before.select(
        "id", old_score="score", old_grade="grade", blacklisted="blacklisted"
    ).join(after.select("id", new_score="score", new_grade="grade"), on="id", how="left")


def _transitions(changed: pl.DataFrame, position: Callable[[str], int]) -> tuple[Any, ...]:
    counts = changed.group_by("old_grade", "new_grade").len().rows()
    return tuple(
        sorted(
            ((old, new, int(count)) for old, new, count in counts),
            key=lambda row: (position(row[0]), position(row[1])),
        )
    )


def grade_changes(
    registry: Registry,
    new: Catalogue,
    *,
    limit: int = 100,
    after: str | None = None,
    actor: Actor = LOCAL,
    purpose: str = REVIEW_PURPOSE,
) -> GradeChanges:
    """Who would change grade on ``new.effective_from`` if nothing else happened.

    ``new`` may be loaded already or not (a file under review). Counts cover everyone; the
    people are listed ``limit`` at a time by ID, after ``after``. Listing a person's old and
    new score is a read of their data: the listed people's access logs record it.
    """
    if not 0 <= limit <= MAX_LISTED:
        raise InputError(f"limit must be between 0 and {MAX_LISTED}, got {limit}")
    old = version_before(registry, new)
    if old.grades != new.grades:
        raise InputError(
            f"grades {', '.join(new.grades)} differ from {', '.join(old.grades)}: "
            "this version cannot be loaded (names and order must stay the same)"
        )
    both = _both(registry, old, new)
    changed = both.filter(pl.col("old_grade") != pl.col("new_grade"))
    page = changed.filter(pl.col("id") > (after or "")).head(limit)
    rows = tuple(page.to_dicts())
    if rows:
        record_bulk_access(registry, actor, page["id"], "grade-change", purpose)
    more = page.height == limit and changed.filter(pl.col("id") > (after or "")).height > limit
    return GradeChanges(
        on=new.effective_from,
        old_version=old.version,
        new_version=new.version,
        people=both.height,
        unchanged=both.height - changed.height,
        score_changed=both.filter(pl.col("old_score") != pl.col("new_score")).height,
        transitions=_transitions(changed, new.grade_position),
        changes=rows,
        next_after=str(rows[-1]["id"]) if more and rows else None,
    )
