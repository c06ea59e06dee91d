"""Validation helpers for catalogue documents: each problem is one line naming its place.

Kept apart from ``catalogue`` so that the model and its rules read on their own.
"""

from collections.abc import Mapping
from typing import Any

from socialcredit.domain.durations import Duration, parse_duration

__all__ = [
    "DOC_KEYS",
    "POINTS_ABS_MAX",
    "TEXT_CHARS_MAX",
    "Problems",
    "duration_field",
    "integer_field",
    "list_of_mappings",
    "text_field",
    "unknown_keys",
]

TEXT_CHARS_MAX = 2000
# Points, scores and caps must fit a 32-bit integer column with room for sums.
POINTS_ABS_MAX = 1_000_000
# Descriptive keys are allowed and kept; any other unknown key is refused, because a typo such
# as ``grade_capp`` would otherwise silently drop a sanction.
DOC_KEYS = frozenset({"description", "notes", "source", "title_zh", "name_zh", "legal_basis_zh"})


class Problems:
    """Collects one-line problems, each prefixed with where it was found."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{where}: {message}")


def text_field(
    problems: Problems, where: str, value: object, *, required: bool = True
) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.add(where, "is required and must be non-empty text")
        return None
    if not isinstance(value, str):
        problems.add(where, f"must be text, got {type(value).__name__} {value!r}")
        return None
    if len(value) > TEXT_CHARS_MAX:
        problems.add(where, f"is {len(value)} characters, the limit is {TEXT_CHARS_MAX}")
        return None
    return value.strip()


def integer_field(problems: Problems, where: str, value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(where, f"must be an integer, got {value!r}")
        return None
    if abs(value) > POINTS_ABS_MAX:
        problems.add(where, f"{value} is beyond the limit of ±{POINTS_ABS_MAX}")
        return None
    return value


def duration_field(problems: Problems, where: str, value: object) -> Duration | None:
    try:
        return parse_duration(value)  # type: ignore[arg-type]
    except ValueError as error:
        problems.add(where, str(error))
        return None


def unknown_keys(
    problems: Problems, where: str, item: Mapping[str, Any], allowed: frozenset[str]
) -> None:
    for key in item:
        if key not in allowed and key not in DOC_KEYS:
            problems.add(where, f"unknown field {key!r}")


def list_of_mappings(problems: Problems, where: str, value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        problems.add(where, "must be a list")
        return []
    good = []
    for index, item in enumerate(value):
        if isinstance(item, Mapping):
            good.append(item)
        else:
            problems.add(f"{where}[{index}]", "must be a mapping")
    return good
