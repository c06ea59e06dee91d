"""Synthetic residents of Rongcheng: valid resident IDs, Chinese names, districts, civil servants.

All draws are vectorised with numpy; the only loops run over ages (69 of them) and over rounds of
re-drawing colliding ID sequence numbers (a handful). One seeded generator per purpose keeps the
output identical for the same ``seed`` and ``today``.
"""

from datetime import date, timedelta

import numpy as np
import polars as pl

from socialcredit.domain.ids import CHECK_CHARACTERS, CHECK_WEIGHTS
from socialcredit.sim.data import (
    AREA_CODE,
    DISTRICTS,
    FEMALE_NAME_CHARACTERS,
    MALE_NAME_CHARACTERS,
    SURNAMES,
)
from socialcredit.sim.dates import add_years, epoch_days

__all__ = [
    "ADULT_AGE",
    "OLDEST_AGE",
    "PUBLIC_SERVANT_SHARE",
    "ZHANG_JIAN_AGE",
    "ZHANG_JIAN_DISTRICT",
    "ZHANG_JIAN_NAME",
    "build_people",
    "check_characters",
    "person_ids",
    "zhang_jian_birth",
    "zhang_jian_id_of",
]

ZHANG_JIAN_NAME = "张建"
ZHANG_JIAN_DISTRICT = "崖头街道"
ZHANG_JIAN_AGE = 42
# Odd: a man (GB 11643). Fixed, so that his ID depends only on ``today``.
ZHANG_JIAN_SEQUENCE = 31
ADULT_AGE = 18
# The scheme covers residents aged 18 and over; the oldest are born around 1940.
OLDEST_AGE = 86
PUBLIC_SERVANT_SHARE = 0.06
# Civil servants and public-institution staff are of working age; restricting the flag to these
# ages (and raising the rate there) keeps the overall share at PUBLIC_SERVANT_SHARE.
SERVANT_AGES = (22, 60)
# Relative number of residents per year of age in a band: Rongcheng is an ageing coastal city,
# so the 50-69 year olds are the largest group. Rough shape, not census figures.
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (18, 29, 0.8),
    (30, 39, 0.9),
    (40, 49, 1.0),
    (50, 59, 1.3),
    (60, 69, 1.2),
    (70, 79, 0.7),
    (80, OLDEST_AGE, 0.3),
)
TWO_CHARACTER_GIVEN_NAME_SHARE = 0.7
_STREAM_PEOPLE = 1


def zhang_jian_birth(today: date) -> date:
    """Born in ``today.year - 42``, halfway between 1 January and today's day of that year.

    That makes him exactly 42 on ``today`` for any ``today`` (born 1984 when today is in 2026)
    with an ordinary-looking birthday rather than a conspicuous 1 January.
    """
    year_start = date(today.year - ZHANG_JIAN_AGE, 1, 1)
    return year_start + timedelta(days=(today - today.replace(month=1, day=1)).days // 2)


def check_characters(first17: np.ndarray) -> pl.Series:
    """ISO 7064 MOD 11-2 check characters for an array of 17-digit integers."""
    total = np.zeros(first17.shape, dtype=np.int64)
    rest = first17.astype(np.int64)
    for weight in reversed(CHECK_WEIGHTS):  # least significant digit has the last weight
        total += (rest % 10) * weight
        rest //= 10
    # Gathering from a small String series is much faster than building numpy unicode arrays.
    return pl.Series(list(CHECK_CHARACTERS), dtype=pl.String).gather(total % 11)


def _yyyymmdd(days: np.ndarray) -> np.ndarray:
    as_days = days.astype("datetime64[D]")
    months = as_days.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (as_days - months).astype(np.int64) + 1
    result: np.ndarray = year * 10_000 + month * 100 + day
    return result


def person_ids(born_days: np.ndarray, sequence: np.ndarray) -> pl.Series:
    """Valid 18-character Rongcheng IDs from epoch-day birth dates and 3-digit sequences."""
    first17 = int(AREA_CODE) * 10**11 + _yyyymmdd(born_days) * 1000 + sequence.astype(np.int64)
    return pl.Series(first17).cast(pl.String) + check_characters(first17)


def _birth_days(rng: np.random.Generator, count: int, today: date) -> np.ndarray:
    """Birth dates (epoch days) of adults: an age by AGE_BANDS, then a day within that age."""
    ages = np.array([age for low, high, _ in AGE_BANDS for age in range(low, high + 1)])
    weights = np.array([w for low, high, w in AGE_BANDS for _ in range(low, high + 1)])
    # Someone aged a on today was born in (today - (a+1) years, today - a years].
    latest = np.array([epoch_days(add_years(today, -int(age))) for age in ages])
    earliest = np.array([epoch_days(add_years(today, -int(age) - 1)) + 1 for age in ages])
    pick = rng.choice(len(ages), size=count, p=weights / weights.sum())
    span = latest[pick] - earliest[pick] + 1
    born: np.ndarray = earliest[pick] + (rng.random(count) * span).astype(np.int64)
    return born


def _sequences(
    rng: np.random.Generator, born: np.ndarray, male: np.ndarray, reserved: int
) -> np.ndarray:
    """3-digit sequences, odd for men and even for women, unique per birth date.

    Colliding draws are re-drawn in rounds; row 0 is Zhang Jian and keeps ``reserved``.
    """

    def draw(size: int, is_male: np.ndarray) -> np.ndarray:
        # Men 001..999 odd, women 002..998 even; 000 is avoided as it looks like a placeholder.
        return np.where(is_male, 2 * rng.integers(0, 500, size) + 1, 2 * rng.integers(1, 500, size))

    sequence = draw(len(born), male)
    sequence[0] = reserved
    while True:
        keys = pl.Series(born.astype(np.int64) * 1000 + sequence)
        # The first occurrence is kept, so row 0 (Zhang Jian) is never re-drawn.
        repeat = (~keys.is_first_distinct()).to_numpy()
        if not repeat.any():
            return sequence
        sequence[repeat] = draw(int(repeat.sum()), male[repeat])


def _weighted(
    rng: np.random.Generator, table: tuple[tuple[str, float], ...], count: int
) -> pl.Series:
    values = pl.Series([value for value, _ in table], dtype=pl.String)
    weights = np.array([weight for _, weight in table])
    return values.gather(rng.choice(len(table), size=count, p=weights / weights.sum()))


def _given_character(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    men = pl.Series(MALE_NAME_CHARACTERS, dtype=pl.String)
    women = pl.Series(FEMALE_NAME_CHARACTERS, dtype=pl.String)
    man = men.gather(rng.integers(0, len(men), len(male)))
    woman = women.gather(rng.integers(0, len(women), len(male)))
    return pl.select(pl.when(pl.lit(pl.Series(male))).then(man).otherwise(woman)).to_series()


def _names(rng: np.random.Generator, male: np.ndarray) -> pl.Series:
    surname = _weighted(rng, SURNAMES, len(male))
    first = _given_character(rng, male)
    second = _given_character(rng, male)
    two = pl.Series(rng.random(len(male)) < TWO_CHARACTER_GIVEN_NAME_SHARE)
    return (
        surname
        + first
        + pl.select(pl.when(pl.lit(two)).then(second).otherwise(pl.lit(""))).to_series()
    )


def _public_servants(rng: np.random.Generator, born: np.ndarray, today: date) -> np.ndarray:
    youngest, oldest = SERVANT_AGES
    working = (born <= epoch_days(add_years(today, -youngest))) & (
        born > epoch_days(add_years(today, -oldest - 1))
    )
    rate = min(1.0, PUBLIC_SERVANT_SHARE * len(born) / max(1, int(working.sum())))
    return working & (rng.random(len(born)) < rate)


def _unique_zhang_jian(names: pl.Series, rng: np.random.Generator) -> pl.Series:
    """Other men drawn as 张建 get a third character (张建国, 张建华, ...).

    Many real people share the name, but the demo and the docs point at "张建" by name, so the
    synthetic town keeps that name unambiguous. Row 0 is Zhang Jian himself.
    """
    extra = pl.Series(MALE_NAME_CHARACTERS, dtype=pl.String).gather(
        rng.integers(0, len(MALE_NAME_CHARACTERS), len(names))
    )
    clash = (names == ZHANG_JIAN_NAME).to_numpy().copy()
    clash[0] = False
    return pl.select(
        pl.when(pl.lit(pl.Series(clash))).then(names + extra).otherwise(names)
    ).to_series()


def build_people(count: int, *, seed: int, today: date) -> pl.DataFrame:
    """``count`` adult residents (Zhang Jian among them), sorted by ``id``."""
    if count < 1:
        raise ValueError(f"need at least one resident (Zhang Jian), got {count}")
    rng = np.random.default_rng([seed, _STREAM_PEOPLE])
    born = _birth_days(rng, count, today)
    male = rng.random(count) < 0.5
    servant = _public_servants(rng, born, today)
    district = _weighted(rng, DISTRICTS, count)
    # Row 0 is Zhang Jian: a 42-year-old man, civil servant in 崖头街道.
    born[0], male[0], servant[0] = epoch_days(zhang_jian_birth(today)), True, True
    sequence = _sequences(rng, born, male, ZHANG_JIAN_SEQUENCE)
    names = _names(rng, male).scatter(0, ZHANG_JIAN_NAME)
    people = pl.DataFrame(
        {
            "id": person_ids(born, sequence),
            "name": _unique_zhang_jian(names, rng),
            "district": district.scatter(0, ZHANG_JIAN_DISTRICT),
            "public_servant": pl.Series(servant, dtype=pl.Boolean),
        }
    )
    # IDs of equal length order as (birth date, sequence): an integer sort instead of a text one.
    return people[np.argsort(born.astype(np.int64) * 1000 + sequence, kind="stable")]


def zhang_jian_id_of(people: pl.DataFrame) -> str | None:
    """The ID of the one public servant named 张建, or ``None`` if there is not exactly one."""
    found = people.filter((pl.col("name") == ZHANG_JIAN_NAME) & pl.col("public_servant"))
    return str(found["id"][0]) if found.height == 1 else None
