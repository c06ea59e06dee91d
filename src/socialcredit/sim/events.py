"""Three years of agency reports about the synthetic town, drawn column-wise.

How a town's events come about, in order:

1. Every resident has a window in which reports about them can occur: from the later of
   ``today - years``, the catalogue's ``effective_from`` and their 18th birthday, up to today.
2. The total (``events_target``, or a Rongcheng-like rate per person-year) is split over the
   streams of ``rates.rule_rates``: misconduct, good deeds and public-service rules.
3. Within a stream each resident has a gamma-distributed propensity with a small shape, so most
   people have nothing and a few have many entries; events are dealt to residents by a
   multinomial draw on propensity times window length, then each gets a rule of that stream.
4. Date uniform in the person's window; agency one of the rule's reporters (a public servant's
   own employer when it reports the rule); evidence from ``evidence``.
5. Zhang Jian gets exactly his two events of the seed article and nothing else.
6. Event ids count per agency and year in date order; ``noise`` adds the deliberately bad rows.
"""

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from socialcredit.domain.catalogue import Catalogue
from socialcredit.sim.dates import (
    add_years,
    days_from_yyyymmdd,
    epoch_days,
    plus_years,
    years_of,
)
from socialcredit.sim.evidence import evidence_columns, evidence_expr, template_for
from socialcredit.sim.noise import SEQUENCE_PAD, add_noise, empty_noise
from socialcredit.sim.people import ADULT_AGE, zhang_jian_id_of
from socialcredit.sim.rates import RuleRate, rule_rates

__all__ = [
    "EVENTS_PER_PERSON_YEAR",
    "EVENT_SCHEMA",
    "ZHANG_JIAN_EVENTS",
    "build_events",
    "employer_agencies",
    "event_window",
]

# Rongcheng reported 33,000 reward and 260,000 dishonesty entries for ~590,000 people in about
# 1.5 years: ~0.33 entries per person-year. A little more gives ~1.25 per person in 3 years.
EVENTS_PER_PERSON_YEAR = 0.42
# Gamma shape of the per-person propensity per stream (mean 1). Shape 0.3 leaves ~2/3 of the
# town without misconduct entries in three years and puts a large share on the top 1%.
PROPENSITY_SHAPE = {"conduct": 0.3, "merit": 0.5, "service": 1.0}
# (rule, reporting agency, days before today): the seed article's two events.
ZHANG_JIAN_EVENTS = (
    ("TRAFFIC-RED-LIGHT", "traffic-police", 200),
    ("WORK-MERIT-ANNUAL", "forestry-bureau", 90),
)
ZHANG_JIAN_EMPLOYER = "forestry-bureau"
EVENT_SCHEMA = {
    "agency": pl.String,
    "event_id": pl.String,
    "person_id": pl.String,
    "rule": pl.String,
    "occurred_on": pl.Date,
    "evidence": pl.String,
}
_STREAM_EVENTS = 2
_STREAM_EMPLOYERS = 3
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class _Residents:
    """Per-person arrays aligned with the rows of the people frame."""

    ids: pl.Series
    first_day: np.ndarray  # epoch day from which reports may occur
    servant: np.ndarray
    exposure: np.ndarray  # days in the window (0: none, or excluded like Zhang Jian)


@dataclass(frozen=True, slots=True)
class _Draw:
    """Events as index columns: into the people rows, the sorted rules, the sorted agencies."""

    person: np.ndarray
    rule: np.ndarray
    day: np.ndarray
    agency: np.ndarray


def event_window(catalogue: Catalogue, today: date, years: int) -> tuple[int, int] | None:
    """First and last epoch day events may occur on, or ``None`` if the catalogue is too new."""
    start = max(add_years(today, -years), catalogue.effective_from)
    return None if start > today else (epoch_days(start), epoch_days(today))


def _adult_days(ids: pl.Series) -> np.ndarray:
    """Epoch day of each person's 18th birthday (born 29 February: 1 March, to be safe)."""
    born = days_from_yyyymmdd(ids.str.slice(6, 8).cast(pl.Int64).to_numpy())
    return plus_years(born, ADULT_AGE)


def _residents(people: pl.DataFrame, window: tuple[int, int], exclude: str | None) -> _Residents:
    ids = people["id"]
    first_day = np.maximum(_adult_days(ids), window[0])
    exposure = np.clip(window[1] - first_day + 1, 0, None).astype(np.float64)
    if exclude is not None:
        exposure[(ids == exclude).to_numpy()] = 0.0
    servant = people["public_servant"].fill_null(False).to_numpy().astype(bool)
    return _Residents(ids, first_day, servant, exposure)


def employer_agencies(
    people: pl.DataFrame, catalogue: Catalogue, *, seed: int, zhang_jian_id: str | None = None
) -> np.ndarray:
    """Employer of each public servant as an index into the sorted agency codes, else -1.

    Employers are drawn among the agencies that report public-servant rules: a public servant's
    merit rating or discipline is reported by the body that employs them.
    """
    codes = sorted(catalogue.agencies)
    candidates = sorted(
        {
            agency
            for rule in catalogue.rules.values()
            if rule.applies_to == "public-servants"
            for agency in rule.reporters
        }
    )
    servant = people["public_servant"].fill_null(False).to_numpy().astype(bool)
    employer = np.full(people.height, -1, dtype=np.int64)
    if not candidates:
        return employer
    rng = np.random.default_rng([seed, _STREAM_EMPLOYERS])
    pool = np.array([codes.index(code) for code in candidates])
    employer[servant] = pool[rng.integers(0, len(pool), int(servant.sum()))]
    if zhang_jian_id is not None and ZHANG_JIAN_EMPLOYER in candidates:
        employer[(people["id"] == zhang_jian_id).to_numpy() & servant] = codes.index(
            ZHANG_JIAN_EMPLOYER
        )
    return employer


def _split(total: int, shares: list[float]) -> list[int]:
    """Integers proportional to ``shares`` that add up to ``total`` (largest remainder)."""
    exact = np.array(shares) / sum(shares) * total
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - int(counts.sum())]] += 1
    return [int(count) for count in counts]


def _stream_draw(
    rng: np.random.Generator,
    total: int,
    weight: np.ndarray,
    shape: float,
    rates: list[tuple[int, float]],
) -> tuple[np.ndarray, np.ndarray]:
    """Deal ``total`` events to people by propensity x ``weight``, then pick their rules."""
    propensity = rng.gamma(shape, 1.0 / shape, len(weight)) * weight
    if total == 0 or propensity.sum() <= 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    counts = rng.multinomial(total, propensity / propensity.sum())
    person = np.repeat(np.arange(len(weight)), counts)
    indices = np.array([index for index, _ in rates])
    chances = np.array([chance for _, chance in rates])
    rule = indices[rng.choice(len(indices), size=total, p=chances / chances.sum())]
    return person, rule


def _reporter_matrix(catalogue: Catalogue, codes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per sorted rule: padded agency indices of its reporters, and their number."""
    rules = sorted(catalogue.rules)
    width = max((len(catalogue.rules[code].reporters) for code in rules), default=1)
    matrix = np.full((max(len(rules), 1), width), -1, dtype=np.int64)  # -1: no agency
    count = np.ones(max(len(rules), 1), dtype=np.int64)
    for row, code in enumerate(rules):
        reporters = [codes.index(agency) for agency in catalogue.rules[code].reporters]
        matrix[row, : len(reporters)] = reporters
        count[row] = len(reporters)
    return matrix, count


def _agencies(
    rng: np.random.Generator,
    catalogue: Catalogue,
    person: np.ndarray,
    rule: np.ndarray,
    employer: np.ndarray,
) -> np.ndarray:
    """One reporter of each event's rule; the person's employer when it reports the rule."""
    codes = sorted(catalogue.agencies)
    matrix, count = _reporter_matrix(catalogue, codes)
    pick = (rng.random(len(rule)) * count[rule]).astype(np.int64)
    agency = matrix[rule, pick]
    # reports[r, a]: agency a reports rule r. Column -1 (no employer) is all False.
    reports = np.zeros((len(matrix), len(codes) + 1), dtype=bool)
    rows = np.repeat(np.arange(len(matrix)), matrix.shape[1])
    reports[rows, matrix.ravel()] = True
    reports[:, -1] = False
    own = employer[person]
    chosen: np.ndarray = np.where(reports[rule, own], own, agency)
    return chosen


def _random_draw(
    rng: np.random.Generator,
    catalogue: Catalogue,
    residents: _Residents,
    total: int,
    window_end: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Person, rule and day of ``total`` random events."""
    rates: list[RuleRate] = rule_rates(catalogue)
    index = {code: position for position, code in enumerate(sorted(catalogue.rules))}
    streams = sorted({rate.stream for rate in rates})
    # Who a stream can reach, weighted by the length of their window.
    reach = {
        stream: residents.exposure * (residents.servant if stream == "service" else 1.0)
        for stream in streams
    }
    expected = [sum(r.rate for r in rates if r.stream == s) * reach[s].sum() for s in streams]
    counts = _split(total, expected) if sum(expected) > 0 else [0] * len(streams)
    people, rules = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for stream, count in zip(streams, counts, strict=True):
        chosen = [(index[r.code], r.rate) for r in rates if r.stream == stream]
        person, rule = _stream_draw(rng, count, reach[stream], PROPENSITY_SHAPE[stream], chosen)
        people.append(person)
        rules.append(rule)
    person = np.concatenate(people)
    first = residents.first_day[person]
    day = first + (rng.random(len(person)) * (window_end - first + 1)).astype(np.int64)
    return person, np.concatenate(rules), day


def _zhang_jian_draw(
    catalogue: Catalogue,
    residents: _Residents,
    zhang_jian_id: str | None,
    today: date,
    window_end: int,
) -> _Draw:
    """His two events, if the catalogue has the rules and the dates fall in his window."""
    codes, rules = sorted(catalogue.agencies), sorted(catalogue.rules)
    rows = (
        np.empty(0, np.int64)
        if zhang_jian_id is None
        else np.flatnonzero((residents.ids == zhang_jian_id).to_numpy())
    )
    found: list[tuple[int, int, int, int]] = []
    for code, agency, days_before in ZHANG_JIAN_EVENTS if len(rows) else ():
        rule, row = catalogue.rules.get(code), int(rows[0])
        if rule is None or (rule.applies_to == "public-servants" and not residents.servant[row]):
            continue
        reporter = agency if agency in rule.reporters else rule.reporters[0]
        day = max(epoch_days(today - timedelta(days=days_before)), int(residents.first_day[row]))
        if day <= window_end:
            found.append((row, rules.index(code), day, codes.index(reporter)))
    columns = np.array(found, dtype=np.int64).reshape(len(found), 4).T
    return _Draw(*columns)


def _file_order(rng: np.random.Generator, draw: _Draw) -> np.ndarray:
    """Permutation into file order: by day, then agency, then at random.

    One int64 key (day, agency, 24 random bits) sorts far faster than a three-key lexsort;
    the random part keeps a day's reports from being grouped by person.
    """
    agencies = int(draw.agency.max()) + 1 if len(draw.agency) else 1
    key = (draw.day.astype(np.int64) * agencies + draw.agency) << 24
    return np.argsort(key | rng.integers(0, 1 << 24, len(key)))


def _frame(
    rng: np.random.Generator, catalogue: Catalogue, residents: _Residents, draw: _Draw
) -> pl.DataFrame:
    """Events in file order (date, agency, event id) with ids counted per agency and year."""
    codes = pl.Series(sorted(catalogue.agencies), dtype=pl.String)
    rules = sorted(catalogue.rules)
    order = _file_order(rng, draw)
    rule, day = draw.rule[order], draw.day[order]
    templates = [template_for(catalogue.rules[code]) for code in rules]
    base = pl.DataFrame(
        {
            "a": draw.agency[order],
            "r": rule,
            "p": draw.person[order],
            "day": day.astype(np.int32),
            "year": years_of(day),
            **evidence_columns(rng, rule, templates),
        }
    )
    # Rows are in date order, so the running count per agency and year numbers them in it;
    # adding 10^8 and dropping the leading 1 zero-pads faster than ``zfill``.
    sequence = pl.int_range(1, pl.len() + 1).over("a", "year") + SEQUENCE_PAD
    prefix = pl.lit(pl.Series([f"{code}-" for code in codes], dtype=pl.String))
    return base.select(
        pl.lit(codes).gather(pl.col("a")).alias("agency"),
        pl.concat_str(
            prefix.gather(pl.col("a")),
            pl.col("year").cast(pl.String),
            pl.lit("-"),
            sequence.cast(pl.String).str.slice(1),
        ).alias("event_id"),
        pl.lit(residents.ids).gather(pl.col("p")).alias("person_id"),
        pl.lit(pl.Series(rules, dtype=pl.String)).gather(pl.col("r")).alias("rule"),
        pl.col("day").cast(pl.Date).alias("occurred_on"),
        evidence_expr(templates, "r", "year").alias("evidence"),
    ).cast(EVENT_SCHEMA)  # type: ignore[arg-type]


def _check_arguments(years: int, events_target: int | None, noise_rate: float) -> None:
    if years < 1:
        raise ValueError(f"years must be at least 1, got {years}")
    if events_target is not None and events_target < 0:
        raise ValueError(f"events_target must not be negative, got {events_target}")
    if not 0.0 <= noise_rate < 1.0:
        raise ValueError(f"noise_rate must be in [0, 1), got {noise_rate}")


def build_events(
    people: pl.DataFrame,
    catalogue: Catalogue,
    *,
    seed: int,
    today: date,
    years: int = 3,
    events_target: int | None = None,
    noise_rate: float = 0.0,
    zhang_jian_id: str | None = None,
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Events about ``people`` under ``catalogue`` in file order, and the noise counts.

    ``events_target`` is the number of clean events (Zhang Jian's included; noise comes on
    top); by default EVENTS_PER_PERSON_YEAR per person-year in the window. Zhang Jian is found
    by name (see ``zhang_jian_id_of``) unless ``zhang_jian_id`` names him.
    """
    _check_arguments(years, events_target, noise_rate)
    zhang_jian = zhang_jian_id if zhang_jian_id is not None else zhang_jian_id_of(people)
    window = event_window(catalogue, today, years)
    if window is None or people.height == 0 or not catalogue.rules:
        return pl.DataFrame(schema=EVENT_SCHEMA), empty_noise()
    rng = np.random.default_rng([seed, _STREAM_EVENTS])
    residents = _residents(people, window, zhang_jian)
    fixed = _zhang_jian_draw(catalogue, residents, zhang_jian, today, window[1])
    if events_target is None:
        person_years = residents.exposure.sum() / _DAYS_PER_YEAR
        events_target = round(EVENTS_PER_PERSON_YEAR * person_years) + len(fixed.person)
    person, rule, day = _random_draw(
        rng, catalogue, residents, max(0, events_target - len(fixed.person)), window[1]
    )
    employer = employer_agencies(people, catalogue, seed=seed, zhang_jian_id=zhang_jian)
    agency = _agencies(rng, catalogue, person, rule, employer)
    draw = _Draw(
        *(
            np.concatenate([a, b])
            for a, b in zip(
                (person, rule, day, agency),
                (fixed.person, fixed.rule, fixed.day, fixed.agency),
                strict=True,
            )
        )
    )
    events = _frame(rng, catalogue, residents, draw)
    return add_noise(
        events,
        catalogue,
        rng=rng,
        today_days=window[1],
        noise_rate=noise_rate,
        protected=zhang_jian,
    )
