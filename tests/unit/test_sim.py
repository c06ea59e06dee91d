"""The synthetic town in ``socialcredit.sim``: residents, their events and the deliberate noise.

How: small towns (a few thousand residents) are built once per module from three catalogues:
the example of DESIGN.md section 3 (``tests/fixtures/example-catalogue.yaml``), the bundled
reference catalogue ``catalogues/rongcheng.yaml`` and a small one written here (several
reporters per public-service rule, caps, blacklists, an effective date inside the window).
The tests check the people (valid unique IDs, adults, ~6% public servants, districts, names),
Zhang Jian and his score, that every event could be accepted by the import (rule, reporter,
public-servant flag, date window, 18th birthday, unique keys), the shape of the distribution
(many people with nothing, a heavy tail), ``events_target``, determinism, and that the noise
is exactly what ``Town.noise`` says: an independent re-implementation of the import's judging
order (DESIGN section 3) must find exactly those rejections and duplicates and accept exactly
the clean rows. A hypothesis property repeats the event checks for random valid catalogues.
"""

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.domain.catalogue import Catalogue, parse_catalogue
from socialcredit.domain.ids import person_id_problem
from socialcredit.sim import (
    NOISE_KINDS,
    ZHANG_JIAN_NAME,
    Town,
    build_events,
    build_people,
    build_town,
)
from socialcredit.sim.data import DISTRICTS, SURNAMES
from socialcredit.sim.dates import add_years, days_from_yyyymmdd, epoch_days, plus_years

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 27)
PEOPLE = 5_000
SEED = 7
EVENT_COLUMNS = ["agency", "event_id", "person_id", "rule", "occurred_on", "evidence"]
CONTENT = ["person_id", "rule", "occurred_on", "evidence"]
GRADES = [
    {"grade": "AAA", "min": 1050},
    {"grade": "AA", "min": 1030},
    {"grade": "A+", "min": 1010},
    {"grade": "A", "min": 960},
    {"grade": "B", "min": 850},
    {"grade": "C", "min": 600},
    {"grade": "D"},
]


def _rule(
    code: str, category: str, points: int, reporters: list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "code": code,
        "title": f"Test rule {code}",
        "category": category,
        "points": points,
        "counts_for": "P1Y",
        "reporters": reporters,
        "legal_basis": "Test regulation, art. 1",
        **extra,
    }


SMALL = {
    "version": "2025.2",
    "effective_from": date(2025, 3, 1),
    "base_score": 1000,
    "grades": GRADES,
    "agencies": [
        {"code": code, "name": code}
        for code in (
            "traffic-police",
            "public-security",
            "forestry-bureau",
            "education-bureau",
            "water-company",
            "red-cross",
            "court",
        )
    ],
    "rules": [
        _rule("TRAFFIC-RED-LIGHT", "traffic", -5, ["traffic-police"]),
        _rule("TRAFFIC-DRUNK", "traffic", -50, ["traffic-police"], grade_cap="B"),
        _rule("PUBLIC-FIGHT", "public-order", -30, ["public-security"], blacklist_for="P1Y"),
        _rule("FEE-LATE", "utility-fees", -20, ["water-company", "court"]),
        _rule("COURT-DEFAULTER", "judicial", 0, ["court"], grade_cap="D", blacklist_for="P2Y"),
        _rule("BLOOD-DONATION", "donation", 10, ["red-cross"]),
        _rule(
            "WORK-MERIT-ANNUAL",
            "public-service",
            20,
            ["forestry-bureau", "education-bureau", "public-security"],
            applies_to="public-servants",
        ),
        _rule(
            "WORK-LATENESS",
            "public-service",
            -5,
            ["forestry-bureau", "education-bureau"],
            applies_to="public-servants",
        ),
    ],
    "policies": [],
}


def _load(path: Path) -> Catalogue:
    return parse_catalogue(yaml.safe_load(path.read_text(encoding="utf-8")), source=str(path))


@pytest.fixture(scope="module")
def example() -> Catalogue:
    return _load(ROOT / "tests" / "fixtures" / "example-catalogue.yaml")


@pytest.fixture(scope="module")
def reference() -> Catalogue:
    return _load(ROOT / "catalogues" / "rongcheng.yaml")


@pytest.fixture(scope="module")
def small() -> Catalogue:
    return parse_catalogue(SMALL)


@pytest.fixture(scope="module")
def town(reference: Catalogue) -> Town:
    return build_town(reference, people_count=PEOPLE, seed=SEED, today=TODAY, noise_rate=0.002)


@pytest.fixture(scope="module")
def small_town(small: Catalogue) -> Town:
    return build_town(small, people_count=PEOPLE, seed=SEED, today=TODAY, noise_rate=0.01)


def _born(ids: pl.Series) -> pl.Series:
    return ids.str.slice(6, 8).str.to_date("%Y%m%d")


def _judge(events: pl.DataFrame, people: pl.DataFrame, catalogue: Catalogue) -> dict[str, Any]:
    """Judge rows as the import does (DESIGN section 3), written independently of ``sim``."""
    problems = {pid: person_id_problem(pid, TODAY) for pid in events["person_id"].unique()}
    registered = people.select("id", "public_servant", born=_born(pl.col("id")))
    rules = catalogue.rules
    rows = (
        events.with_row_index("row")
        .join(registered, left_on="person_id", right_on="id", how="left", maintain_order="left")
        .with_columns(
            bad_id=pl.col("person_id").replace_strict(
                {k: v is not None for k, v in problems.items()}, return_dtype=pl.Boolean
            )
        )
    )
    checks = [
        ("future-date", pl.col("occurred_on") > TODAY),
        ("invalid-person-id", pl.col("bad_id")),
        ("unregistered-person", pl.col("born").is_null()),
        ("before-birth", pl.col("occurred_on") < pl.col("born")),
        ("no-catalogue", pl.col("occurred_on") < catalogue.effective_from),
        ("unknown-agency", ~pl.col("agency").is_in(list(catalogue.agencies))),
        ("unknown-rule", ~pl.col("rule").is_in(list(rules))),
        (
            "not-a-reporter",
            ~pl.struct("rule", "agency").map_elements(
                lambda r: r["rule"] in rules and r["agency"] in rules[r["rule"]].reporters,
                return_dtype=pl.Boolean,
            ),
        ),
        (
            "not-a-public-servant",
            pl.col("rule").is_in([c for c, r in rules.items() if r.applies_to == "public-servants"])
            & ~pl.col("public_servant"),
        ),
    ]
    reason = pl.lit(None, dtype=pl.String)
    for code, failed in reversed(checks):  # the first failing check gives the reason
        reason = pl.when(failed).then(pl.lit(code)).otherwise(reason)
    judged = rows.with_columns(reason=reason)
    passed = judged.filter(pl.col("reason").is_null())
    first = passed.group_by("agency", "event_id").first()
    keyed = passed.join(
        first.select("agency", "event_id", "row", *CONTENT),
        on=["agency", "event_id"],
        suffix="_first",
        maintain_order="left",
    )
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"{c}_first")) for c in CONTENT])
    later = keyed.filter(pl.col("row") != pl.col("row_first"))
    counts = judged["reason"].drop_nulls().value_counts()
    return {
        "rejected": dict(zip(counts["reason"], counts["count"], strict=True)),
        "duplicate": later.filter(same).height,
        "conflict": later.filter(~same).height,
        "accepted": keyed.filter(pl.col("row") == pl.col("row_first")).select(EVENT_COLUMNS),
    }


def _clean(town: Town, catalogue: Catalogue, **kwargs: Any) -> pl.DataFrame:
    """The same town's events without noise (the noise is drawn after the clean rows)."""
    events, noise = build_events(
        town.people, catalogue, seed=kwargs.pop("seed", SEED), today=TODAY, noise_rate=0.0, **kwargs
    )
    assert sum(noise.values()) == 0
    return events


def _check_events(
    events: pl.DataFrame, people: pl.DataFrame, catalogue: Catalogue, years: int = 3
) -> None:
    """Every clean row is one the import accepts, and keys are unique per agency."""
    assert events.columns == EVENT_COLUMNS
    assert events.schema["occurred_on"] == pl.Date
    joined = events.join(
        people.select("id", "public_servant", born=_born(pl.col("id"))),
        left_on="person_id",
        right_on="id",
        how="left",
    )
    assert joined["born"].null_count() == 0, "events about people who are not registered"
    for row in joined.select("rule", "agency").unique().iter_rows(named=True):
        assert row["agency"] in catalogue.rules[row["rule"]].reporters, row
    servant_rules = [c for c, r in catalogue.rules.items() if r.applies_to == "public-servants"]
    assert joined.filter(pl.col("rule").is_in(servant_rules))["public_servant"].all()
    first = max(add_years(TODAY, -years), catalogue.effective_from)
    assert events.is_empty() or (
        events["occurred_on"].min() >= first and events["occurred_on"].max() <= TODAY
    )
    adult = joined.select(pl.col("born").dt.offset_by("18y") <= pl.col("occurred_on"))
    assert adult.to_series().all(), "an event before someone's 18th birthday"
    assert events.select("agency", "event_id").is_unique().all()
    assert events.equals(events.sort("occurred_on", "agency", "event_id", maintain_order=True))


# --- people -------------------------------------------------------------------------------


def test_people_ids_are_valid_unique_rongcheng_ids_and_sorted(town: Town) -> None:
    ids = town.people["id"]
    assert town.people.columns == ["id", "name", "district", "public_servant"]
    assert [pid for pid in ids if person_id_problem(pid, TODAY) is not None] == []
    assert ids.n_unique() == PEOPLE == town.people.height
    assert ids.str.starts_with("371082").all()
    assert ids.is_sorted()


def test_people_are_adults_born_since_1939_about_half_men(town: Town) -> None:
    born = _born(town.people["id"])
    assert born.max() <= add_years(TODAY, -18)
    assert born.min() >= date(1939, 1, 1)
    men = (town.people["id"].str.slice(16, 1).cast(pl.Int64) % 2 == 1).mean()
    assert 0.47 < men < 0.53


def test_about_six_percent_are_public_servants_of_working_age(town: Town) -> None:
    servants = town.people.filter(pl.col("public_servant"))
    assert 0.05 < servants.height / PEOPLE < 0.07
    ages = _born(servants["id"]).map_elements(lambda b: TODAY.year - b.year, return_dtype=pl.Int64)
    assert ages.min() >= 21 and ages.max() <= 62


def test_districts_are_rongchengs_and_names_chinese(town: Town) -> None:
    districts = {name for name, _ in DISTRICTS}
    assert set(town.people["district"]) <= districts
    assert town.people["district"].n_unique() == len(districts)
    assert town.people["district"].mode()[0] == "崖头街道"  # the urban core is the largest
    assert town.people["name"].str.contains(r"^[\u4e00-\u9fff]{2,3}$").all()
    surnames = {name for name, _ in SURNAMES}
    assert town.people["name"].str.slice(0, 1).is_in(list(surnames)).all()
    assert town.people["name"].str.slice(0, 1).mode()[0] in {"王", "李", "张"}


def test_people_are_deterministic_for_a_seed_and_differ_for_another() -> None:
    first = build_people(2_000, seed=11, today=TODAY)
    assert first.equals(build_people(2_000, seed=11, today=TODAY))
    other = build_people(2_000, seed=12, today=TODAY)
    assert not first.equals(other)
    assert len(set(first["id"]) & set(other["id"])) < 100  # mostly different people


@pytest.mark.parametrize("today", [date(2028, 2, 29), date(2026, 1, 1), date(2030, 12, 31)])
def test_any_today_gives_valid_adults_and_a_42_year_old_zhang_jian(today: date) -> None:
    people = build_people(500, seed=1, today=today)
    assert all(person_id_problem(pid, today) is None for pid in people["id"])
    assert _born(people["id"]).max() <= add_years(today, -18)
    born = _born(people.filter(pl.col("name") == ZHANG_JIAN_NAME)["id"]).item()
    assert born.year == today.year - 42 and born <= add_years(today, -42)


# --- Zhang Jian -------------------------------------------------------------------------------


def test_zhang_jian_is_the_only_zhang_jian_a_42_year_old_male_official(town: Town) -> None:
    him = town.people.filter(pl.col("name") == ZHANG_JIAN_NAME)
    assert him.height == 1
    row = him.row(0, named=True)
    assert row["id"] == town.zhang_jian_id
    assert row["district"] == "崖头街道" and row["public_servant"] is True
    assert row["id"][6:10] == "1984" and int(row["id"][16]) % 2 == 1


@pytest.mark.parametrize("catalogue_name", ["example", "reference", "small"])
def test_zhang_jian_has_exactly_his_two_events_and_1015_points(
    catalogue_name: str, request: pytest.FixtureRequest
) -> None:
    catalogue: Catalogue = request.getfixturevalue(catalogue_name)
    town = build_town(catalogue, people_count=1_000, seed=3, today=TODAY, noise_rate=0.3)
    his = town.events.filter(pl.col("person_id") == town.zhang_jian_id).sort("occurred_on")
    assert his.select("rule", "agency").rows() == [
        ("TRAFFIC-RED-LIGHT", "traffic-police"),
        ("WORK-MERIT-ANNUAL", "forestry-bureau"),
    ]
    assert his["occurred_on"].min() > TODAY - timedelta(days=365)
    assert his["occurred_on"].max() <= TODAY
    score = catalogue.base_score + sum(catalogue.rules[r].points for r in his["rule"])
    assert score == 1000 - 5 + 20 == 1015
    assert catalogue.grade_for_points(score) == "A+"


def test_zhang_jian_gets_nothing_the_catalogue_lacks(small: Catalogue) -> None:
    document = {**SMALL, "rules": [r for r in SMALL["rules"] if r["code"] != "WORK-MERIT-ANNUAL"]}
    town = build_town(parse_catalogue(document), people_count=500, seed=3, today=TODAY)
    his = town.events.filter(pl.col("person_id") == town.zhang_jian_id)
    assert his["rule"].to_list() == ["TRAFFIC-RED-LIGHT"]


# --- events -------------------------------------------------------------------------------


@pytest.mark.parametrize("catalogue_name", ["example", "reference", "small"])
def test_clean_events_are_all_acceptable(
    catalogue_name: str, request: pytest.FixtureRequest
) -> None:
    catalogue: Catalogue = request.getfixturevalue(catalogue_name)
    people = build_people(3_000, seed=5, today=TODAY)
    events, _ = build_events(people, catalogue, seed=5, today=TODAY)
    assert events.height > 0
    _check_events(events, people, catalogue)


def test_event_ids_count_per_agency_and_year(town: Town, reference: Catalogue) -> None:
    events = _clean(town, reference)
    pattern = events.select(ok=pl.concat_str("agency", pl.lit(r"-\d{4}-\d{8}"))).to_series()
    assert all(re.fullmatch(p, e) for p, e in zip(pattern, events["event_id"], strict=True))
    year = events["event_id"].str.slice(-13, 4).cast(pl.Int32)
    assert (year == events["occurred_on"].dt.year()).all()
    sequence = events.select(
        pl.col("event_id")
        .str.slice(-8)
        .cast(pl.Int64)
        .max()
        .over("agency", pl.col("occurred_on").dt.year())
        - pl.len().over("agency", pl.col("occurred_on").dt.year())
    )
    assert (sequence.to_series() == 0).all()  # 1..n without gaps


def test_public_servants_get_service_events_from_their_employer(
    small_town: Town, small: Catalogue
) -> None:
    events = _clean(small_town, small)
    service = events.filter(pl.col("rule").is_in(["WORK-MERIT-ANNUAL", "WORK-LATENESS"]))
    assert service.height > 20
    # WORK-LATENESS is not reported by public-security, so those employees get it from
    # either bureau; everyone else hears from one employer only.
    merit = service.filter(pl.col("rule") == "WORK-MERIT-ANNUAL")
    assert merit.group_by("person_id").agg(pl.col("agency").n_unique())["agency"].max() == 1
    assert merit["agency"].n_unique() == 3


def test_deductions_dominate_serious_items_are_rare(town: Town, reference: Catalogue) -> None:
    events = _clean(town, reference)
    rules = reference.rules
    points = events["rule"].replace_strict({c: r.points for c, r in rules.items()})
    serious = events["rule"].is_in(
        [c for c, r in rules.items() if r.grade_cap is not None or r.blacklist_for is not None]
    )
    deductions, bonuses = (points < 0).mean(), (points > 0).mean()
    assert deductions > 0.6 and 0.05 < bonuses < 0.3
    assert serious.mean() < 0.02
    assert events["rule"].value_counts(sort=True)["rule"][0].startswith("TRAFFIC-")


def test_default_volume_is_about_one_and_a_quarter_events_per_person(
    town: Town, reference: Catalogue
) -> None:
    per_person = _clean(town, reference).height / PEOPLE
    assert 1.0 <= per_person <= 1.5


def test_most_people_have_few_events_and_the_top_one_percent_many(
    town: Town, reference: Catalogue
) -> None:
    counts = _clean(town, reference).group_by("person_id").len()["len"].to_numpy()
    everyone = np.sort(np.concatenate([counts, np.zeros(PEOPLE - len(counts))]))
    assert (everyone == 0).mean() > 0.4
    assert np.median(everyone) <= 1
    top = everyone[-PEOPLE // 100 :].sum() / everyone.sum()
    assert top > 0.07  # more than seven times their share


def test_events_target_is_respected(small: Catalogue) -> None:
    people = build_people(2_000, seed=2, today=TODAY)
    for target in (0, 2, 10_000, 25_000):
        events, _ = build_events(people, small, seed=2, today=TODAY, events_target=target)
        assert abs(events.height - target) <= max(2, target // 100)
    events, _ = build_events(people, small, seed=2, today=TODAY, events_target=25_000)
    _check_events(events, people, small)


def test_evidence_is_short_text_or_null_for_about_thirty_percent(town: Town) -> None:
    evidence = town.events["evidence"]
    assert 0.25 < evidence.null_count() / len(evidence) < 0.35
    assert evidence.drop_nulls().str.len_chars().max() <= 40


def test_events_are_deterministic_for_a_seed_and_differ_for_another(
    town: Town, reference: Catalogue
) -> None:
    again = build_town(reference, people_count=PEOPLE, seed=SEED, today=TODAY, noise_rate=0.002)
    assert again.events.equals(town.events) and again.noise == town.noise
    other = build_events(town.people, reference, seed=SEED + 1, today=TODAY)[0]
    assert not other.equals(_clean(town, reference))


def test_no_events_when_the_catalogue_starts_after_today(small: Catalogue) -> None:
    late = parse_catalogue({**SMALL, "effective_from": TODAY + timedelta(days=1)})
    events, noise = build_events(
        build_people(100, seed=1, today=TODAY), late, seed=1, today=TODAY, noise_rate=0.5
    )
    assert events.is_empty() and events.columns == EVENT_COLUMNS
    assert set(noise) == set(NOISE_KINDS) and sum(noise.values()) == 0


# --- noise --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "town_name, catalogue_name", [("town", "reference"), ("small_town", "small")]
)
def test_noise_is_exactly_what_the_import_will_find(
    town_name: str, catalogue_name: str, request: pytest.FixtureRequest
) -> None:
    town: Town = request.getfixturevalue(town_name)
    catalogue: Catalogue = request.getfixturevalue(catalogue_name)
    clean = _clean(town, catalogue)
    assert set(town.noise) == set(NOISE_KINDS) and min(town.noise.values()) >= 1
    assert town.events.height == clean.height + town.noise_total
    judged = _judge(town.events, town.people, catalogue)
    expected = {
        kind: town.noise[kind] for kind in ("invalid-person-id", "unknown-rule", "future-date")
    }
    assert judged["rejected"] == expected
    assert judged["duplicate"] == town.noise["duplicate"]
    assert judged["conflict"] == town.noise["conflict"]
    assert judged["accepted"].equals(clean)


def test_noise_counts_match_rows_by_kind(small_town: Town, small: Catalogue) -> None:
    events, noise = small_town.events, small_town.noise
    bad_ids = [p for p in events["person_id"].unique() if person_id_problem(p, TODAY)]
    assert events["person_id"].is_in(bad_ids).sum() == noise["invalid-person-id"]
    assert (~events["rule"].is_in(list(small.rules))).sum() == noise["unknown-rule"]
    assert (events["occurred_on"] > TODAY).sum() == noise["future-date"]
    assert events["occurred_on"].max() <= TODAY + timedelta(days=30)
    repeated = events.filter(pl.struct("agency", "event_id").is_duplicated())
    assert repeated.height == 2 * (noise["duplicate"] + noise["conflict"])
    assert events.is_duplicated().sum() == 2 * noise["duplicate"]
    assert events.equals(events.sort("occurred_on", "agency", "event_id", maintain_order=True))


def test_noise_rate_sets_the_amount(small: Catalogue) -> None:
    people = build_people(3_000, seed=4, today=TODAY)
    clean, none = build_events(people, small, seed=4, today=TODAY)
    noisy, noise = build_events(people, small, seed=4, today=TODAY, noise_rate=0.01)
    assert sum(none.values()) == 0
    assert abs(sum(noise.values()) - 0.01 * clean.height) <= len(NOISE_KINDS)
    tiny = build_events(people, small, seed=4, today=TODAY, noise_rate=1e-9)[1]
    assert tiny == dict.fromkeys(NOISE_KINDS, 1)  # at least one of each kind


# --- any valid catalogue ------------------------------------------------------------------

_CATEGORIES = [
    "traffic",
    "public-order",
    "utility-fees",
    "judicial",
    "volunteering",
    "donation",
    "public-service",
    "tax",
    "commercial",
    "environment",
]


@st.composite
def catalogues(draw: st.DrawFn) -> Catalogue:
    agencies = draw(
        st.lists(
            st.sampled_from(["a", "b-1", "c-office", "dept-9", "x", "yy"]),
            min_size=1,
            max_size=6,
            unique=True,
        )
    )
    rules = []
    for index in range(draw(st.integers(1, 8))):
        extra: dict[str, Any] = {}
        if draw(st.booleans()):
            extra["applies_to"] = draw(st.sampled_from(["everyone", "public-servants"]))
        if draw(st.integers(0, 4)) == 0:
            extra["grade_cap"] = draw(st.sampled_from(["A", "B", "C", "D"]))
        if draw(st.integers(0, 4)) == 0:
            extra["blacklist_for"] = "P6M"
        rules.append(
            _rule(
                f"R{index}",
                draw(st.sampled_from(_CATEGORIES)),
                draw(st.integers(-150, 150)),
                draw(st.lists(st.sampled_from(agencies), min_size=1, unique=True)),
                **extra,
            )
        )
    effective = draw(st.dates(date(2015, 1, 1), TODAY))
    return parse_catalogue(
        {
            "version": "1",
            "effective_from": effective,
            "base_score": 1000,
            "grades": GRADES,
            "rules": rules,
            "agencies": [{"code": a, "name": a} for a in agencies],
        }
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalogue=catalogues(), seed=st.integers(0, 2**32 - 1))
def test_any_valid_catalogue_gives_acceptable_events_and_exact_noise(
    catalogue: Catalogue, seed: int
) -> None:
    people = build_people(400, seed=seed, today=TODAY)
    clean, _ = build_events(people, catalogue, seed=seed, today=TODAY, events_target=600)
    _check_events(clean, people, catalogue)
    noisy, noise = build_events(
        people, catalogue, seed=seed, today=TODAY, events_target=600, noise_rate=0.05
    )
    judged = _judge(noisy, people, catalogue)
    assert judged["accepted"].equals(clean)
    assert judged["duplicate"] == noise["duplicate"]
    assert judged["conflict"] == noise["conflict"]
    assert judged["rejected"] == {
        k: v for k, v in noise.items() if k not in ("duplicate", "conflict") and v
    }


# --- date helpers -------------------------------------------------------------------------


def test_date_helpers_agree_with_the_calendar() -> None:
    days = [date(2008, 2, 29), date(1984, 6, 14), date(1999, 12, 31), date(2000, 2, 29)]
    epoch = np.array([epoch_days(d) for d in days])
    assert (
        days_from_yyyymmdd(np.array([int(f"{d:%Y%m%d}") for d in days])).tolist() == epoch.tolist()
    )
    # 29 February rolls over to 1 March: never earlier than the clamped reading of add_years.
    assert plus_years(epoch, 18).tolist() == [
        epoch_days(d)
        for d in (date(2026, 3, 1), date(2002, 6, 14), date(2017, 12, 31), date(2018, 3, 1))
    ]
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
