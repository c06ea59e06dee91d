"""The synthetic Rongcheng used by ``socialcredit demo``, the benchmarks and the tests.

``build_town`` puts together ``people.build_people`` and ``events.build_events``: 670,000 adult
residents with valid IDs, and three years of agency reports drawn from whatever catalogue is
passed in, including the seed article's Zhang Jian and, optionally, deliberately bad rows.
"""

from dataclasses import dataclass
from datetime import date

import polars as pl

from socialcredit.domain.catalogue import Catalogue
from socialcredit.sim.events import build_events
from socialcredit.sim.people import ZHANG_JIAN_NAME, build_people, zhang_jian_id_of

__all__ = ["ZHANG_JIAN_NAME", "Town", "build_events", "build_people", "build_town"]

RONGCHENG_RESIDENTS = 670_000
# The year Rongcheng started its scheme: a memorable default seed.
DEFAULT_SEED = 2014
DEFAULT_NOISE_RATE = 0.0005


@dataclass(frozen=True)
class Town:
    """Residents, their events in file order, Zhang Jian's ID, and the bad rows added."""

    people: pl.DataFrame
    events: pl.DataFrame
    zhang_jian_id: str
    noise: dict[str, int]

    @property
    def noise_total(self) -> int:
        """Bad rows in ``events``: the import must account for each of them."""
        return sum(self.noise.values())


def build_town(
    catalogue: Catalogue,
    *,
    people_count: int = RONGCHENG_RESIDENTS,
    seed: int = DEFAULT_SEED,
    today: date,
    years: int = 3,
    events_target: int | None = None,
    noise_rate: float = DEFAULT_NOISE_RATE,
) -> Town:
    """A deterministic town for ``seed`` and ``today`` under ``catalogue``."""
    people = build_people(people_count, seed=seed, today=today)
    zhang_jian = zhang_jian_id_of(people)
    if zhang_jian is None:  # build_people guarantees him; this guards a future edit
        raise AssertionError("the synthetic town has no unique Zhang Jian")
    events, noise = build_events(
        people,
        catalogue,
        seed=seed,
        today=today,
        years=years,
        events_target=events_target,
        noise_rate=noise_rate,
        zhang_jian_id=zhang_jian,
    )
    return Town(people, events, zhang_jian, noise)
