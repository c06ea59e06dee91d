"""Use case of the office's dashboard: how the registry looks as a whole, never one person.

Grades and the blacklist come from the population scoring (``services.population``); entry
counts are plain aggregates over the entries table. Nothing here names a person, so nothing
is written to the access log.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from socialcredit.services.population import Distribution, grade_distribution
from socialcredit.services.registry import Registry
from socialcredit.store.schema import entries

__all__ = ["MAX_MONTHS", "Stats", "registry_stats"]

MAX_MONTHS = 120  # ten years of monthly rows per agency at most


@dataclass(frozen=True, slots=True)
class Stats:
    distribution: Distribution
    entries_total: int
    by_agency: dict[str, int]
    by_rule: dict[str, int]
    by_month: tuple[tuple[str, str, int], ...]  # (YYYY-MM, agency, entries), oldest first
    first_month: str

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.distribution.as_dict(),
            "entries": self.entries_total,
            "entries_by_agency": dict(self.by_agency),
            "entries_by_rule": dict(self.by_rule),
            "first_month": self.first_month,
            "entries_by_month": [
                {"month": month, "agency": agency, "entries": count}
                for month, agency, count in self.by_month
            ],
        }


def _first_month(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def registry_stats(registry: Registry, *, as_of: date | None = None, months: int = 36) -> Stats:
    """Grade distribution and blacklist on ``as_of``; entries that occurred by then per agency,
    per rule, and per month and agency over the last ``months`` months (1..MAX_MONTHS)."""
    day = as_of or registry.clock.today()
    months = max(1, min(months, MAX_MONTHS))
    distribution = grade_distribution(registry, as_of=day)
    first = _first_month(day, months)
    occurred = entries.c.occurred_on <= day
    year = func.extract("year", entries.c.occurred_on)
    month = func.extract("month", entries.c.occurred_on)
    count = func.count().label("n")
    with registry.database.read() as connection:
        agencies = connection.execute(
            select(entries.c.agency, count).where(occurred).group_by(entries.c.agency)
        ).all()
        rules = connection.execute(
            select(entries.c.rule, count).where(occurred).group_by(entries.c.rule)
        ).all()
        monthly = connection.execute(
            select(year, month, entries.c.agency, count)
            .where(occurred, entries.c.occurred_on >= first)
            .group_by(year, month, entries.c.agency)
        ).all()
    by_month = sorted((f"{int(y):04d}-{int(m):02d}", agency, int(n)) for y, m, agency, n in monthly)
    return Stats(
        distribution=distribution,
        entries_total=sum(int(n) for _agency, n in agencies),
        by_agency={agency: int(n) for agency, n in sorted(agencies, key=lambda r: (-r[1], r[0]))},
        by_rule={rule: int(n) for rule, n in sorted(rules, key=lambda r: (-r[1], r[0]))},
        by_month=tuple(by_month),
        first_month=first.strftime("%Y-%m"),
    )
