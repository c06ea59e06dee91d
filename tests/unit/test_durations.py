"""ISO-8601 date durations and date arithmetic in ``socialcredit.domain.durations``.

How: the DESIGN.md examples as fixed cases (months first with the month-end clamp, then days);
one refusal test per kind of bad input, checking the stable part of the reason; and hypothesis
properties comparing ``add_duration`` with an independent month-by-month implementation written
here, plus monotonicity in the duration and in the start date.
"""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.domain.durations import Duration, add_duration, parse_duration

# --- an independent reference implementation --------------------------------------------------


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _reference_add(start: date, years: int, months: int, weeks: int, days: int) -> date:
    """Step month by month (no clamping on the way), clamp once, then step the days."""
    year, month = start.year, start.month
    for _ in range(years * 12 + months):
        month += 1
        if month == 13:
            year, month = year + 1, 1
    day = min(start.day, _days_in_month(year, month))
    return date.fromordinal(date(year, month, day).toordinal() + weeks * 7 + days)


def _text(years: int, months: int, weeks: int, days: int) -> str:
    parts = [(years, "Y"), (months, "M"), (weeks, "W"), (days, "D")]
    return "P" + "".join(f"{n}{unit}" for n, unit in parts if n)


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "months", "days"),
    [
        ("P1Y", 12, 0),
        ("P6M", 6, 0),
        ("P90D", 0, 90),
        ("P1Y6M", 18, 0),
        ("P2W", 0, 14),
        ("P1Y2M3D", 14, 3),
        ("P3Y", 36, 0),
        ("P1D", 0, 1),
        ("P0Y1D", 0, 1),
        ("P1W3D", 0, 10),
        ("P200Y", 2400, 0),
        ("P73200D", 0, 73200),
    ],
)
def test_parse_good_durations(text: str, months: int, days: int) -> None:
    duration = parse_duration(text)
    assert duration == Duration(months=months, days=days, text=text)
    assert str(duration) == text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "is not an ISO-8601 duration"),
        ("P", "is not an ISO-8601 duration"),
        ("1Y", "is not an ISO-8601 duration"),
        ("Y", "is not an ISO-8601 duration"),
        ("p1y", "is not an ISO-8601 duration"),
        ("P1y", "is not an ISO-8601 duration"),
        (" P1Y", "is not an ISO-8601 duration"),
        ("P1Y ", "is not an ISO-8601 duration"),
        ("P1H", "is not an ISO-8601 duration"),
        ("P1.5Y", "is not an ISO-8601 duration"),
        ("P1,5Y", "is not an ISO-8601 duration"),
        ("-P1Y", "is not an ISO-8601 duration"),
        ("P-1Y", "is not an ISO-8601 duration"),
        ("+P1Y", "is not an ISO-8601 duration"),
        ("P1M1Y", "is not an ISO-8601 duration"),
        ("P1Y1Y", "is not an ISO-8601 duration"),
        ("P1D1W", "is not an ISO-8601 duration"),
        ("P１Y", "is not an ISO-8601 duration"),
        ("P1\u0661Y", "is not an ISO-8601 duration"),
        ("1 year", "is not an ISO-8601 duration"),
        ("PT1H", "has a time part"),
        ("PT12H", "has a time part"),
        ("P1YT", "has a time part"),
        ("P1DT1H", "has a time part"),
        ("P0D", "is zero"),
        ("P0Y", "is zero"),
        ("P0Y0M0W0D", "is zero"),
        ("P201Y", "longer than 200 years"),
        ("P2401M", "longer than 200 years"),
        ("P73201D", "longer than 200 years"),
        ("P10459W", "longer than 200 years"),
        ("P" + "9" * 30 + "Y", "longer than 200 years"),
    ],
)
def test_parse_refuses_bad_text(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 1, 0, 1.5, True, b"P1Y", ["P1Y"], {"years": 1}])
def test_parse_refuses_non_text(value: object) -> None:
    with pytest.raises(ValueError, match="must be an ISO-8601 duration such as P1Y"):
        parse_duration(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("length", [33, 100, 5000, 100_000])
def test_parse_refuses_absurdly_long_text_with_a_short_reason(length: int) -> None:
    text = "P" + "9" * (length - 2) + "Y"
    with pytest.raises(ValueError, match="too long") as caught:
        parse_duration(text)
    assert len(str(caught.value)) < 200  # the reason is one readable line, not the input echoed


# --- fixed arithmetic cases from DESIGN.md and around month ends -------------------------------


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),
        (date(2024, 2, 29), "P4Y", date(2028, 2, 29)),
        (date(2024, 1, 31), "P1M", date(2024, 2, 29)),
        (date(2023, 1, 31), "P1M", date(2023, 2, 28)),
        (date(2023, 12, 31), "P1Y2M3D", date(2025, 3, 3)),
        (date(2024, 3, 31), "P6M", date(2024, 9, 30)),
        (date(2024, 8, 31), "P1Y6M", date(2026, 2, 28)),
        (date(2024, 1, 1), "P90D", date(2024, 3, 31)),
        (date(2023, 1, 1), "P90D", date(2023, 4, 1)),
        (date(2024, 12, 25), "P2W", date(2025, 1, 8)),
        (date(2024, 12, 31), "P1D", date(2025, 1, 1)),
        (date(2024, 11, 30), "P1M", date(2024, 12, 30)),
        (date(2024, 12, 15), "P1M", date(2025, 1, 15)),
        (date(2024, 1, 31), "P1M1D", date(2024, 3, 1)),  # clamp to 02-29 first, then a day
        (date(2100, 1, 31), "P1M", date(2100, 2, 28)),  # 2100 is not a leap year
        (date(2000, 1, 31), "P1M", date(2000, 2, 29)),  # 2000 is
    ],
)
def test_add_duration_fixed_cases(start: date, text: str, expected: date) -> None:
    assert add_duration(start, parse_duration(text)) == expected


def test_months_are_added_in_one_step_not_year_then_month() -> None:
    # Clamping after the year and again after the month would give 2025-03-28.
    assert add_duration(date(2024, 2, 29), parse_duration("P1Y1M")) == date(2025, 3, 29)


# --- properties -------------------------------------------------------------------------------

_START = st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31))
_PARTS = st.tuples(
    st.integers(0, 150), st.integers(0, 11), st.integers(0, 60), st.integers(0, 400)
).filter(lambda p: any(p))


@settings(deadline=None, max_examples=500)
@given(start=_START, parts=_PARTS)
def test_property_matches_independent_implementation(
    start: date, parts: tuple[int, int, int, int]
) -> None:
    years, months, weeks, days = parts
    duration = parse_duration(_text(*parts))
    assert add_duration(start, duration) == _reference_add(start, years, months, weeks, days)


@settings(deadline=None, max_examples=300)
@given(start=_START, months=st.integers(1, 2400))
def test_property_month_arithmetic_lands_in_the_right_month(start: date, months: int) -> None:
    result = add_duration(start, parse_duration(f"P{months}M"))
    assert (result.year * 12 + result.month) - (start.year * 12 + start.month) == months
    assert result.day == min(start.day, _days_in_month(result.year, result.month))


@settings(deadline=None, max_examples=300)
@given(start=_START, days=st.integers(1, 73200))
def test_property_days_are_plain_days(start: date, days: int) -> None:
    assert add_duration(start, parse_duration(f"P{days}D")) == start + timedelta(days=days)


@settings(deadline=None, max_examples=500)
@given(
    start=_START,
    shorter=_PARTS,
    extra=st.tuples(st.integers(0, 3), st.integers(0, 11), st.integers(0, 5), st.integers(0, 40)),
)
def test_property_longer_duration_never_gives_an_earlier_date(
    start: date, shorter: tuple[int, int, int, int], extra: tuple[int, int, int, int]
) -> None:
    longer = tuple(a + b for a, b in zip(shorter, extra, strict=True))
    short_end = add_duration(start, parse_duration(_text(*shorter)))
    long_end = add_duration(start, parse_duration(_text(*longer)))
    assert short_end <= long_end
    assert start < short_end  # every accepted duration is non-zero, so it moves forward


@settings(deadline=None, max_examples=300)
@given(first=_START, gap=st.integers(0, 400), parts=_PARTS)
def test_property_later_start_never_gives_an_earlier_end(
    first: date, gap: int, parts: tuple[int, int, int, int]
) -> None:
    duration = parse_duration(_text(*parts))
    assert add_duration(first, duration) <= add_duration(first + timedelta(days=gap), duration)


@settings(deadline=None, max_examples=300)
@given(parts=_PARTS)
def test_property_parse_folds_years_and_weeks(parts: tuple[int, int, int, int]) -> None:
    years, months, weeks, days = parts
    duration = parse_duration(_text(*parts))
    assert (duration.months, duration.days) == (years * 12 + months, weeks * 7 + days)
