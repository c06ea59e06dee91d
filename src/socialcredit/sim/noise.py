"""Deliberately bad rows, so that the demo shows how the import accounts for every row.

Each kind is built from clean rows (never Zhang Jian's) and is bad for exactly one reason, the
one its name gives, given the order in which the import judges a row (DESIGN section 3):

* ``duplicate``: an exact resubmission of a clean row: counted as a duplicate, not an error;
* ``conflict``: the same agency and event id with different evidence: rejected as a conflict.
  The date, person and rule are kept, so the row sorts right after its original (the original
  is judged first and holds the key) and passes every earlier check;
* ``invalid-person-id``: a wrong check character, under a fresh event id;
* ``unknown-rule``: a rule code the catalogue does not have, under a fresh event id;
* ``future-date``: 1-30 days after today, under a fresh event id.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.ids import CHECK_CHARACTERS
from socialcredit.sim.dates import years_of

__all__ = ["NOISE_KINDS", "UNKNOWN_RULE_CODES", "add_noise", "empty_noise", "noise_plan"]

NOISE_KINDS = ("duplicate", "conflict", "invalid-person-id", "unknown-rule", "future-date")
# Codes an agency might still send from an old or local list.
UNKNOWN_RULE_CODES = ("LITTERING-2015", "JAYWALKING-OLD", "DOG-LEASH-V0", "SPITTING-STREET")
FUTURE_DAYS_MAX = 30
# Event ids end in an 8-digit sequence: 10^8 + n without its leading 1.
SEQUENCE_PAD = 10**8


def empty_noise() -> dict[str, int]:
    return dict.fromkeys(NOISE_KINDS, 0)


def noise_plan(rows: int, eligible: int, noise_rate: float) -> dict[str, int]:
    """How many rows of each kind: about ``noise_rate * rows`` in all, at least one each.

    Duplicates and conflicts need distinct clean rows, so there is no noise without at least
    two eligible rows, and never more of those two kinds than the eligible rows allow.
    """
    if noise_rate <= 0 or eligible < 2:
        return empty_noise()
    each = max(1, round(noise_rate * rows / len(NOISE_KINDS)))
    each = min(each, eligible // 2)
    return dict.fromkeys(NOISE_KINDS, each)


def _wrong_check(rng: np.random.Generator, person_id: pl.Series) -> pl.Series:
    """The same ID with its check character replaced by a different, wrong one."""
    position = (
        person_id.str.slice(17, 1)
        .replace_strict(
            {character: index for index, character in enumerate(CHECK_CHARACTERS)},
            return_dtype=pl.Int64,
        )
        .to_numpy()
    )
    wrong = (position + rng.integers(1, len(CHECK_CHARACTERS), len(position))) % 11
    return person_id.str.slice(0, 17) + pl.Series(list(CHECK_CHARACTERS)).gather(wrong)


def _unknown_rules(rng: np.random.Generator, catalogue: Catalogue, count: int) -> pl.Series:
    codes = [code for code in UNKNOWN_RULE_CODES if code not in catalogue.rules]
    if not codes:  # a catalogue that happens to define all of them
        code = "NO-SUCH-RULE"
        while code in catalogue.rules:
            code += "-X"
        codes = [code]
    return pl.Series(codes, dtype=pl.String).gather(rng.integers(0, len(codes), count))


@dataclass(frozen=True, slots=True)
class _FileKeys:
    """Where clean rows sit in file order: (day, agency) keys, non-decreasing by row."""

    codes: list[str]
    day: np.ndarray
    agency: np.ndarray

    @classmethod
    def of(cls, events: pl.DataFrame, catalogue: Catalogue) -> "_FileKeys":
        codes = sorted(catalogue.agencies)
        agency = events["agency"].cast(pl.Enum(codes)).to_physical().to_numpy()
        day = events["occurred_on"].to_physical().to_numpy()
        return cls(codes, day.astype(np.int64), agency.astype(np.int64))

    def key(self, day: np.ndarray, agency: np.ndarray) -> np.ndarray:
        result: np.ndarray = day * len(self.codes) + agency
        return result


def _with_fresh_ids(keys: _FileKeys, rows: pl.DataFrame) -> tuple[pl.DataFrame, np.ndarray]:
    """``rows`` in (day, agency) order under new event ids, and their place in file order.

    The ids continue each agency's sequence for the year of the row's date (clean ids run
    1..count per agency and year), so they are unused and sort after the clean rows of the day.
    """
    day = rows["occurred_on"].to_physical().to_numpy().astype(np.int64)
    agency = rows["agency"].cast(pl.Enum(keys.codes)).to_physical().to_numpy().astype(np.int64)
    order = np.lexsort((agency, day))
    rows, day, agency = rows[order], day[order], agency[order]
    year, clean_year = years_of(day), years_of(keys.day)
    first = int(min(year.min(), clean_year.min()))
    span = int(max(year.max(), clean_year.max())) - first + 1
    used = np.bincount(keys.agency * span + clean_year - first, minlength=len(keys.codes) * span)
    group = agency * span + year - first
    # Within a group the fresh rows are in day order, so their ids increase with the date.
    rank = pl.DataFrame({"g": group}).select(pl.int_range(1, pl.len() + 1).over("g"))
    sequence = pl.Series(used[group] + rank.to_series().to_numpy() + SEQUENCE_PAD)
    event_id = (
        pl.Series(keys.codes, dtype=pl.String).gather(agency)
        + "-"
        + pl.Series(year).cast(pl.String)
        + "-"
        + sequence.cast(pl.String).str.slice(1)
    )
    place = np.searchsorted(keys.key(keys.day, keys.agency), keys.key(day, agency), side="right")
    return rows.with_columns(event_id=event_id), place


def _kinds(
    rng: np.random.Generator,
    events: pl.DataFrame,
    catalogue: Catalogue,
    eligible: np.ndarray,
    plan: dict[str, int],
    today_days: int,
) -> tuple[pl.DataFrame, np.ndarray]:
    """The bad rows, in order, and for each the number of clean rows that precede it."""
    each = plan["duplicate"]
    distinct = np.sort(rng.choice(eligible, 2 * each, replace=False))
    duplicate, conflict = distinct[0::2], distinct[1::2]
    copies = pl.concat(
        [
            events[duplicate],
            events[conflict].with_columns(
                evidence=pl.when(pl.col("evidence").is_null())
                .then(pl.lit("补充材料"))
                .otherwise(pl.col("evidence") + "（更正）")
            ),
        ]
    )
    invalid = events[rng.choice(eligible, plan["invalid-person-id"])]
    invalid = invalid.with_columns(person_id=_wrong_check(rng, invalid["person_id"]))
    unknown = events[rng.choice(eligible, plan["unknown-rule"])]
    unknown = unknown.with_columns(rule=_unknown_rules(rng, catalogue, unknown.height))
    future = events[rng.choice(eligible, plan["future-date"])]
    ahead = today_days + rng.integers(1, FUTURE_DAYS_MAX + 1, future.height)
    future = future.with_columns(occurred_on=pl.Series(ahead.astype(np.int32)).cast(pl.Date))
    fresh, fresh_place = _with_fresh_ids(
        _FileKeys.of(events, catalogue), pl.concat([invalid, unknown, future])
    )
    # A copy goes right after its original; a fresh row after its day's rows of its agency
    # (and after a copy placed at the same spot, since its id is higher).
    place = np.concatenate([duplicate + 1, conflict + 1, fresh_place])
    rank = np.concatenate([np.zeros(2 * each, np.int64), 1 + np.arange(fresh.height)])
    order = np.lexsort((rank, place))
    return pl.concat([copies, fresh])[order], place[order]


def add_noise(
    events: pl.DataFrame,
    catalogue: Catalogue,
    *,
    rng: np.random.Generator,
    today_days: int,
    noise_rate: float,
    protected: str | None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """``events`` with bad rows interleaved in file order, and the count of each kind.

    ``events`` must be in file order with the ids ``events.build_events`` gives. ``protected``
    (Zhang Jian's ID) is never used as a template, so his rows stay exactly his two.
    """
    keep = events["person_id"] != protected if protected is not None else None
    eligible = np.flatnonzero(keep.to_numpy()) if keep is not None else np.arange(events.height)
    plan = noise_plan(events.height, len(eligible), noise_rate)
    if not any(plan.values()):
        return events, plan
    noisy, place = _kinds(rng, events, catalogue, eligible, plan, today_days)
    # Insert instead of re-sorting millions of rows by their text keys.
    order = np.insert(np.arange(events.height), place, events.height + np.arange(noisy.height))
    return pl.concat([events, noisy])[order], plan
