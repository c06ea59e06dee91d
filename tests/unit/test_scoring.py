"""Scoring semantics of DESIGN.md section 3 in ``socialcredit.domain.scoring``.

How: hand-built entries probe every boundary of counting (``occurred_on`` inclusive,
``counts_until`` and ``ends_on`` exclusive), every status, the precedence of ``why_on``, the
blacklist window and the grade caps; the seed's Zhang Jian example is checked end to end. Hypothesis
then generates whole records and checks the defining equations against a direct re-statement of the
contract written here: score = base + sum of counting entries, the grade is the band capped by the
worst counting cap, order of entries does not matter, ``why_on`` agrees with ``counts_on``, and
without caps the grade is monotone in the score.
"""

import dataclasses
import functools
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.catalogue import Catalogue, parse_catalogue
from socialcredit.domain.invariant import InvariantViolation
from socialcredit.domain.scoring import (
    STATUSES,
    Entry,
    blacklisted_on,
    counts_on,
    grade_on,
    standing_on,
    why_on,
)

GRADES = ("AAA", "AA", "A+", "A", "B", "C", "D")
MINS = (1050, 1030, 1010, 960, 850, 600)


@functools.cache
def _catalogue(base_score: int = 1000, effective_from: str = "2020-01-01") -> Catalogue:
    grades: list[dict[str, Any]] = [
        {"grade": g, "min": m} for g, m in zip(GRADES, MINS, strict=False)
    ]
    grades.append({"grade": "D"})
    return parse_catalogue(
        {
            "version": "2020.1",
            "effective_from": effective_from,
            "base_score": base_score,
            "grades": grades,
            "agencies": [{"code": "traffic-police", "name": "Traffic Police"}],
            "rules": [],
        }
    )


CATALOGUE = _catalogue()
OCCURRED = date(2025, 3, 10)
UNTIL = date(2026, 3, 10)


def entry(
    points: int = -5,
    *,
    occurred_on: date = OCCURRED,
    counts_until: date = UNTIL,
    status: str = "active",
    ends_on: date | None = None,
    grade_cap: str | None = None,
    blacklist_until: date | None = None,
    event_id: str = "e1",
) -> Entry:
    return Entry(
        agency="traffic-police",
        event_id=event_id,
        person_id="11010519491231002X",
        rule="TRAFFIC-RED-LIGHT",
        occurred_on=occurred_on,
        catalogue_version="2020.1",
        points=points,
        counts_until=counts_until,
        blacklist_until=blacklist_until,
        grade_cap=grade_cap,
        status=status,
        ends_on=ends_on,
    )


DAY = timedelta(days=1)

# --- counts_on --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "counts"),
    [
        (OCCURRED - DAY, False),  # before it happened
        (OCCURRED, True),  # occurred_on is inclusive
        (OCCURRED + DAY, True),
        (UNTIL - DAY, True),
        (UNTIL, False),  # counts_until is exclusive
        (UNTIL + DAY, False),
    ],
)
def test_counts_on_window_boundaries(day: date, counts: bool) -> None:
    assert counts_on(entry(), day) is counts


@pytest.mark.parametrize(
    ("day", "counts"),
    [
        (date(2025, 6, 1) - DAY, True),
        (date(2025, 6, 1), False),  # ends_on is exclusive: from that day on it does not count
        (date(2025, 6, 1) + DAY, False),
    ],
)
def test_counts_on_ends_on_is_exclusive(day: date, counts: bool) -> None:
    assert counts_on(entry(ends_on=date(2025, 6, 1)), day) is counts


def test_ends_on_after_counts_until_changes_nothing() -> None:
    late_end = entry(ends_on=UNTIL + 30 * DAY)
    for day in (OCCURRED, UNTIL - DAY, UNTIL, UNTIL + 40 * DAY):
        assert counts_on(late_end, day) is counts_on(entry(), day)


def test_ends_on_on_occurred_on_means_never_counts() -> None:
    assert not counts_on(entry(ends_on=OCCURRED), OCCURRED)


@pytest.mark.parametrize("status", ["active", "contested"])
def test_active_and_contested_count(status: str) -> None:
    assert counts_on(entry(status=status), OCCURRED + DAY)


@pytest.mark.parametrize("status", ["overturned", "withdrawn", "pending", "", "ACTIVE"])
@pytest.mark.parametrize("day", [OCCURRED, OCCURRED + 100 * DAY, UNTIL - DAY, UNTIL])
def test_other_statuses_never_count(status: str, day: date) -> None:
    assert not counts_on(entry(status=status), day)


# --- why_on -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "day", "why"),
    [
        ({}, OCCURRED, "counts"),
        ({}, UNTIL - DAY, "counts"),
        ({"status": "contested"}, OCCURRED, "counts"),
        ({}, UNTIL, "expired"),
        ({}, UNTIL + 365 * DAY, "expired"),
        ({"ends_on": date(2025, 6, 1)}, date(2025, 5, 31), "counts"),
        ({"ends_on": date(2025, 6, 1)}, date(2025, 6, 1), "ended"),
        ({"ends_on": date(2025, 6, 1)}, UNTIL + DAY, "ended"),  # ended outranks expired
        ({"ends_on": UNTIL - DAY}, UNTIL - DAY, "ended"),
        ({"ends_on": UNTIL}, UNTIL, "expired"),  # ends_on not before counts_until: not "ended"
        ({"ends_on": UNTIL + 10 * DAY}, UNTIL + 20 * DAY, "expired"),
        ({"ends_on": UNTIL + 10 * DAY}, UNTIL - DAY, "counts"),
        ({"status": "overturned"}, OCCURRED, "overturned"),
        ({"status": "overturned"}, UNTIL + DAY, "overturned"),  # outranks expired
        ({"status": "overturned", "ends_on": date(2025, 6, 1)}, UNTIL, "overturned"),
        ({"status": "withdrawn"}, OCCURRED, "withdrawn"),
        ({"status": "withdrawn", "ends_on": date(2025, 6, 1)}, UNTIL + DAY, "withdrawn"),
        ({"status": "contested", "ends_on": date(2025, 6, 1)}, date(2025, 7, 1), "ended"),
    ],
)
def test_why_on_precedence(kwargs: dict[str, Any], day: date, why: str) -> None:
    assert why_on(entry(**kwargs), day) == why


def test_why_on_refuses_entries_from_the_future() -> None:
    with pytest.raises(InvariantViolation):
        why_on(entry(), OCCURRED - DAY)


# --- blacklist --------------------------------------------------------------------------------

BL_UNTIL = date(2026, 9, 10)  # later than counts_until on purpose


@pytest.mark.parametrize(
    ("day", "blacklisted"),
    [
        (OCCURRED - DAY, False),
        (OCCURRED, True),
        (UNTIL, True),  # still blacklisted after the points stopped counting
        (BL_UNTIL - DAY, True),
        (BL_UNTIL, False),  # blacklist_until is exclusive
    ],
)
def test_blacklist_window(day: date, blacklisted: bool) -> None:
    assert blacklisted_on([entry(blacklist_until=BL_UNTIL)], day) is blacklisted


@pytest.mark.parametrize(
    ("day", "blacklisted"),
    [(date(2025, 4, 30), True), (date(2025, 5, 1), False), (date(2025, 5, 2), False)],
)
def test_ends_on_ends_the_blacklist(day: date, blacklisted: bool) -> None:
    ended = entry(blacklist_until=BL_UNTIL, ends_on=date(2025, 5, 1))
    assert blacklisted_on([ended], day) is blacklisted


@pytest.mark.parametrize(
    ("status", "blacklisted"),
    [("active", True), ("contested", True), ("overturned", False), ("withdrawn", False)],
)
def test_blacklist_by_status(status: str, blacklisted: bool) -> None:
    assert blacklisted_on([entry(status=status, blacklist_until=BL_UNTIL)], OCCURRED) is blacklisted


def test_no_blacklist_without_blacklist_until() -> None:
    assert not blacklisted_on([entry(), entry(points=-300, event_id="e2")], OCCURRED)
    assert not blacklisted_on([], OCCURRED)


def test_one_blacklisting_entry_is_enough() -> None:
    entries = [entry(), entry(event_id="e2", blacklist_until=BL_UNTIL, points=0)]
    assert blacklisted_on(entries, OCCURRED + DAY)
    assert blacklisted_on(iter(entries), OCCURRED + DAY)  # any iterable


def test_blacklisting_does_not_change_the_grade() -> None:
    clean = standing_on(CATALOGUE, [entry(points=0)], OCCURRED)
    listed = standing_on(CATALOGUE, [entry(points=0, blacklist_until=BL_UNTIL)], OCCURRED)
    assert listed.blacklisted and not clean.blacklisted
    assert (listed.score, listed.grade) == (clean.score, clean.grade) == (1000, "A")


# --- grades and caps --------------------------------------------------------------------------


def test_zhang_jian_from_the_seed() -> None:
    entries = [entry(-5, event_id="red-light"), entry(20, event_id="merit")]
    standing = standing_on(CATALOGUE, entries, OCCURRED + 30 * DAY)
    assert (standing.score, standing.grade, standing.blacklisted) == (1015, "A+", False)
    assert standing.points_counted == 15


@pytest.mark.parametrize(
    ("caps", "grade"),
    [
        ([], "A"),
        (["B"], "B"),
        (["B", "C"], "C"),  # the worst cap wins
        (["C", "B"], "C"),
        (["D", "B", "C"], "D"),
        (["AAA"], "A"),  # a cap never improves a grade
        (["A"], "A"),
        (["A+", "B"], "B"),
    ],
)
def test_grade_on_caps(caps: list[str], grade: str) -> None:
    assert grade_on(CATALOGUE, 1000, caps) == grade


def test_cap_never_improves_a_low_score() -> None:
    assert grade_on(CATALOGUE, 500, ["B"]) == "D"


def test_worst_counting_cap_wins_in_standing() -> None:
    entries = [entry(0, grade_cap="B", event_id="b"), entry(0, grade_cap="C", event_id="c")]
    assert standing_on(CATALOGUE, entries, OCCURRED).grade == "C"


@pytest.mark.parametrize(
    "capped",
    [
        entry(0, grade_cap="D", counts_until=OCCURRED + 10 * DAY),  # expired
        entry(0, grade_cap="D", status="overturned"),
        entry(0, grade_cap="D", status="withdrawn"),
        entry(0, grade_cap="D", ends_on=OCCURRED + 5 * DAY),  # ended
        entry(0, grade_cap="D", occurred_on=OCCURRED + 60 * DAY),  # not yet occurred
    ],
)
def test_cap_only_from_counting_entries(capped: Entry) -> None:
    day = OCCURRED + 30 * DAY
    assert not counts_on(capped, day)
    assert standing_on(CATALOGUE, [capped, entry(20, event_id="plus")], day).grade == "A+"


def test_contested_entry_still_caps() -> None:
    assert (
        standing_on(CATALOGUE, [entry(0, grade_cap="C", status="contested")], OCCURRED).grade == "C"
    )


# --- standing_on ------------------------------------------------------------------------------


def test_standing_fields() -> None:
    catalogue = _catalogue(base_score=900)
    entries = [
        entry(-30, event_id="a"),
        entry(10, event_id="b", status="contested"),
        entry(-100, event_id="c", status="overturned"),
        entry(-50, event_id="d", counts_until=OCCURRED + DAY),  # expired on the day asked
    ]
    day = OCCURRED + DAY
    standing = standing_on(catalogue, entries, day)
    assert standing.as_of == day
    assert standing.catalogue_version == "2020.1"
    assert standing.base_score == 900
    assert standing.points_counted == -20
    assert standing.score == 880
    assert standing.grade == "B"
    assert standing.blacklisted is False


def test_no_entries_gives_the_base_score() -> None:
    standing = standing_on(CATALOGUE, [], OCCURRED)
    assert (standing.score, standing.points_counted, standing.grade) == (1000, 0, "A")


def test_standing_refuses_a_catalogue_not_yet_in_force() -> None:
    with pytest.raises(InvariantViolation):
        standing_on(_catalogue(effective_from="2026-01-01"), [], date(2025, 12, 31))
    assert standing_on(_catalogue(effective_from="2026-01-01"), [], date(2026, 1, 1)).score == 1000


# --- properties -------------------------------------------------------------------------------

_DAYS = st.dates(min_value=date(2020, 1, 1), max_value=date(2028, 12, 31))


@st.composite
def entries_strategy(draw: st.DrawFn) -> Entry:
    occurred = draw(_DAYS)
    counts_until = occurred + timedelta(days=draw(st.integers(1, 1100)))
    blacklist = draw(st.none() | st.integers(1, 1100))
    ends = draw(st.none() | st.integers(-5, 1200))
    return entry(
        draw(st.integers(-300, 300)),
        occurred_on=occurred,
        counts_until=counts_until,
        status=draw(st.sampled_from(STATUSES)),
        ends_on=None if ends is None else occurred + timedelta(days=ends),
        grade_cap=draw(st.none() | st.sampled_from(GRADES)),
        blacklist_until=None if blacklist is None else occurred + timedelta(days=blacklist),
        event_id=str(draw(st.integers(0, 10**6))),
    )


def _contract_counts(e: Entry, day: date) -> bool:
    return (
        e.status in ("active", "contested")
        and e.occurred_on <= day < e.counts_until
        and (e.ends_on is None or day < e.ends_on)
    )


@settings(deadline=None, max_examples=400)
@given(entries=st.lists(entries_strategy(), max_size=12), day=_DAYS, base=st.integers(0, 2000))
def test_property_standing_follows_the_contract(entries: list[Entry], day: date, base: int) -> None:
    catalogue = _catalogue(base_score=base)
    standing = standing_on(catalogue, entries, day)
    counting = [e for e in entries if _contract_counts(e, day)]
    assert standing.score == base + sum(e.points for e in counting)
    assert standing.points_counted == sum(e.points for e in counting)
    band = next(
        g for g, m in zip(GRADES, (*MINS, None), strict=True) if m is None or standing.score >= m
    )
    worst = max(
        [GRADES.index(band)]
        + [GRADES.index(e.grade_cap) for e in counting if e.grade_cap is not None]
    )
    assert standing.grade == GRADES[worst]
    assert standing.blacklisted == any(
        e.status in ("active", "contested")
        and e.blacklist_until is not None
        and e.occurred_on <= day < e.blacklist_until
        and (e.ends_on is None or day < e.ends_on)
        for e in entries
    )


@settings(deadline=None, max_examples=300)
@given(entries=st.lists(entries_strategy(), max_size=12), day=_DAYS, data=st.data())
def test_property_order_of_entries_does_not_matter(
    entries: list[Entry], day: date, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(entries))
    assert standing_on(CATALOGUE, shuffled, day) == standing_on(CATALOGUE, entries, day)
    assert standing_on(CATALOGUE, list(reversed(entries)), day) == standing_on(
        CATALOGUE, entries, day
    )


@settings(deadline=None, max_examples=400)
@given(e=entries_strategy(), offset=st.integers(0, 1500))
def test_property_why_on_agrees_with_counts_on(e: Entry, offset: int) -> None:
    day = e.occurred_on + timedelta(days=offset)
    why = why_on(e, day)
    assert (why == "counts") == counts_on(e, day) == _contract_counts(e, day)
    if e.status in ("overturned", "withdrawn"):
        assert why == e.status
    elif why == "ended":
        assert e.ends_on is not None and e.ends_on <= day and e.ends_on < e.counts_until
    elif why == "expired":
        assert day >= e.counts_until


@settings(deadline=None, max_examples=400)
@given(low=st.integers(-5000, 5000), high=st.integers(-5000, 5000))
def test_property_grade_is_monotone_in_score_without_caps(low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    worse = CATALOGUE.grade_position(grade_on(CATALOGUE, low, []))
    better = CATALOGUE.grade_position(grade_on(CATALOGUE, high, []))
    assert better <= worse


@settings(deadline=None, max_examples=300)
@given(score=st.integers(-5000, 5000), caps=st.lists(st.sampled_from(GRADES), max_size=4))
def test_property_caps_only_make_a_grade_worse(score: int, caps: list[str]) -> None:
    uncapped = CATALOGUE.grade_position(grade_on(CATALOGUE, score, []))
    capped = CATALOGUE.grade_position(grade_on(CATALOGUE, score, caps))
    assert capped == max([uncapped] + [CATALOGUE.grade_position(c) for c in caps])


@settings(deadline=None, max_examples=200)
@given(entries=st.lists(entries_strategy(), max_size=8), day=_DAYS)
def test_property_overturning_an_entry_removes_exactly_its_points(
    entries: list[Entry], day: date
) -> None:
    if not entries:
        return
    target = entries[0]
    overturned = [dataclasses.replace(target, status="overturned"), *entries[1:]]
    before = standing_on(CATALOGUE, entries, day)
    after = standing_on(CATALOGUE, overturned, day)
    removed = target.points if counts_on(target, day) else 0
    assert after.score == before.score - removed
