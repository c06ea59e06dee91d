"""ISO-8601 date durations (``P1Y``, ``P6M``, ``P90D``, ``P1Y6M``, ``P2W``) and date arithmetic.

Adding a duration adds years and months first, clamping the day to the end of the month
(2024-02-29 + P1Y = 2025-02-28), then days. Time parts (``PT12H``) are refused: counting
periods are whole days. Zero durations are refused: a rule that counts for nothing is a mistake.
"""

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

__all__ = ["Duration", "add_duration", "parse_duration"]

_PATTERN = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", re.ASCII)
# Bound the numbers so that date arithmetic can never overflow (date.max is year 9999).
_MONTHS_MAX = 12 * 200
_DAYS_MAX = 366 * 200
# The longest text within those bounds is "P200Y12M10457W6D" and the like; anything much longer
# is refused before its digits are converted (and without echoing it whole in the message).
_TEXT_MAX = 32


@dataclass(frozen=True, slots=True)
class Duration:
    """A date duration: ``months`` (years folded in) then ``days`` (weeks folded in)."""

    months: int
    days: int
    text: str

    def __str__(self) -> str:
        return self.text


def parse_duration(text: str) -> Duration:
    """Parse an ISO-8601 date duration; raises ``ValueError`` with a one-line reason."""
    if not isinstance(text, str):
        raise ValueError(f"must be an ISO-8601 duration such as P1Y, got {text!r}")
    if len(text) > _TEXT_MAX:
        raise ValueError(
            f"{text[:_TEXT_MAX]!r}... is {len(text)} characters, too long for a "
            "duration such as P1Y"
        )
    match = _PATTERN.fullmatch(text)
    if match is None or text == "P":
        if "T" in text:
            raise ValueError(f"{text!r} has a time part; counting periods are whole days")
        raise ValueError(f"{text!r} is not an ISO-8601 duration such as P1Y, P6M, P90D, P1Y6M")
    years, months, weeks, days = (int(group) if group else 0 for group in match.groups())
    months_total = years * 12 + months
    days_total = weeks * 7 + days
    if months_total == 0 and days_total == 0:
        raise ValueError(f"{text!r} is zero; a period must be longer than that")
    if months_total > _MONTHS_MAX or days_total > _DAYS_MAX:
        raise ValueError(f"{text!r} is longer than 200 years")
    return Duration(months=months_total, days=days_total, text=text)


def add_duration(start: date, duration: Duration) -> date:
    """``start + duration``: months first with the month-end clamp, then days."""
    month_index = start.month - 1 + duration.months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=duration.days)
