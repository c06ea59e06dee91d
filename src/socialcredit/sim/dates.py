"""Date helpers of the synthetic town: dates as epoch days, the physical value of a Polars
``Date``, so that whole columns of dates are plain numpy integer arithmetic."""

from datetime import date

import numpy as np

__all__ = ["add_years", "days_from_yyyymmdd", "epoch_days", "plus_years", "years_of"]

_EPOCH = date(1970, 1, 1)


def epoch_days(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def add_years(day: date, years: int) -> date:
    """``day`` plus whole years, 29 February clamped to the 28th (as DESIGN section 3 adds P1Y)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def years_of(days: np.ndarray) -> np.ndarray:
    """Calendar year of each epoch day."""
    if len(days) == 0:
        return np.empty(0, np.int64)
    # Look the few distinct days up in a table: far cheaper than converting millions.
    first = int(days.min())
    table = np.arange(first, int(days.max()) + 1).astype("datetime64[D]")
    years = table.astype("datetime64[Y]").astype(np.int64) + 1970
    result: np.ndarray = years[days - first]
    return result


def days_from_yyyymmdd(values: np.ndarray) -> np.ndarray:
    """Epoch days of dates written as integers YYYYMMDD (valid dates)."""
    months = (values // 10_000 - 1970) * 12 + (values // 100 % 100 - 1)
    start = months.astype("datetime64[M]").astype("datetime64[D]")
    days: np.ndarray = (start + (values % 100 - 1)).astype(np.int64)
    return days


def plus_years(days: np.ndarray, years: int) -> np.ndarray:
    """Epoch days plus whole years; 29 February becomes 1 March in a common year.

    Rolling over (not clamping to the 28th) is the conservative reading for "not before their
    18th birthday": it is never earlier than either reading.
    """
    as_days = days.astype("datetime64[D]")
    months = as_days.astype("datetime64[M]")
    shifted = (months + np.timedelta64(12 * years, "M")).astype("datetime64[D]")
    result: np.ndarray = (shifted + (as_days - months)).astype(np.int64)
    return result
