"""Columnar checks shared by the imports: resident IDs, text limits, missing fields.

These are Polars expressions over a whole batch, mirroring the scalar reference functions in
``domain.ids``; ``tests/unit/test_columnar.py`` checks that both agree on random input.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from socialcredit.domain.ids import CHECK_CHARACTERS, CHECK_WEIGHTS

__all__ = [
    "CONTROL_CHARACTERS",
    "birth_date_expr",
    "Check",
    "apply_checks",
    "invalid_text",
    "missing_fields",
    "person_id_valid",
    "invalid_text_message",
    "missing_fields_message",
    "person_id_message",
    "stripped",
]

# C0 controls, DEL and the C1 controls (U+0080-U+009F: U+009B opens a terminal escape
# sequence like ESC [ does). Tab, newline and carriage return are allowed in free text only.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"
FREE_TEXT_CONTROLS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"


def stripped(name: str) -> pl.Expr:
    """Trimmed text; empty becomes null (missing, empty and null are the same)."""
    value = pl.col(name).str.strip_chars()
    return pl.when(value.str.len_chars() > 0).then(value).otherwise(None)


def missing_fields_message(required: Sequence[str]) -> pl.Expr:
    """'missing field: a, b' for the required fields that are null or blank, else null."""
    parts = [pl.when(stripped(name).is_null()).then(pl.lit(name)) for name in required]
    names = pl.concat_str(parts, separator=", ", ignore_nulls=True)
    return pl.when(names.str.len_chars() > 0).then(pl.lit("missing field: ") + names)


def invalid_text_message(
    columns: Sequence[str], free_text: Sequence[str], max_chars: int
) -> pl.Expr:
    """The first field that is too long or holds a control character, else null."""
    parts = []
    for name in columns:
        value = pl.col(name)
        controls = FREE_TEXT_CONTROLS if name in free_text else CONTROL_CHARACTERS
        parts.append(
            pl.when(value.str.len_chars() > max_chars)
            .then(
                pl.format(
                    f"field {name} is {{}} characters, the limit is {max_chars}",
                    value.str.len_chars(),
                )
            )
            .when(value.str.contains(controls))
            .then(pl.lit(f"field {name} holds a control character"))
        )
    return pl.coalesce(parts) if parts else pl.lit(None, dtype=pl.String)


def _check_character(person_id: pl.Expr) -> pl.Expr:
    total = pl.sum_horizontal(
        person_id.str.slice(index, 1).cast(pl.Int32, strict=False) * weight
        for index, weight in enumerate(CHECK_WEIGHTS)
    )
    mapping = {index: char for index, char in enumerate(CHECK_CHARACTERS)}
    return (total % 11).replace_strict(mapping, return_dtype=pl.String)


def birth_date_expr(person_id: pl.Expr) -> pl.Expr:
    """The birth date in an ID, or null when the 8 digits are not a real date."""
    return person_id.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)


def person_id_message(person_id: pl.Expr, today: date) -> pl.Expr:
    """Why a normalised ID is invalid (same wording as ``domain.ids``), or null if valid."""
    length = person_id.str.len_chars()
    shape_ok = person_id.str.contains(r"^[0-9]{17}[0-9X]$")
    born = birth_date_expr(person_id)
    expected = _check_character(person_id)
    return (
        pl.when(length != 18)
        .then(pl.format("has {} characters, a resident ID has 18", length))
        .when(~shape_ok)
        .then(pl.lit("must be 17 ASCII digits followed by a digit or X"))
        .when(born.is_null())
        .then(pl.format("birth date {} is not a real date", person_id.str.slice(6, 8)))
        .when(born > pl.lit(today))
        .then(pl.format("birth date {} is in the future", born.dt.to_string("%Y-%m-%d")))
        .when(person_id.str.slice(17, 1) != expected)
        .then(pl.format("check character is {}, expected {}", person_id.str.slice(17, 1), expected))
    )


@dataclass(frozen=True, slots=True)
class Check:
    """One reason a row can be rejected: a cheap boolean test and the message for failures."""

    code: str
    fails: pl.Expr  # true when the row fails (null counts as passing)
    message: pl.Expr  # evaluated on failing rows only


def missing_fields(required: Sequence[str]) -> pl.Expr:
    return pl.any_horizontal([stripped(name).is_null() for name in required])


def invalid_text(columns: Sequence[str], free_text: Sequence[str], max_chars: int) -> pl.Expr:
    tests = []
    for name in columns:
        controls = FREE_TEXT_CONTROLS if name in free_text else CONTROL_CHARACTERS
        value = pl.col(name)
        tests.append(
            ((value.str.len_chars() > max_chars) | value.str.contains(controls)).fill_null(False)
        )
    return pl.any_horizontal(tests) if tests else pl.lit(False)


def person_id_valid(person_id: pl.Expr, today: date) -> pl.Expr:
    """True for a valid normalised ID: the columnar twin of ``domain.ids.person_id_problem``."""
    born = birth_date_expr(person_id)
    return (
        (person_id.str.len_chars() == 18)
        & person_id.str.contains(r"^[0-9]{17}[0-9X]$")
        & born.is_not_null()
        & (born <= pl.lit(today))
        & (person_id.str.slice(17, 1) == _check_character(person_id))
    ).fill_null(False)


def apply_checks(frame: pl.DataFrame, checks: Sequence[Check]) -> pl.DataFrame:
    """Add ``reason`` (the first failing check, in order) and its ``message``.

    Reasons come from the boolean tests over the whole batch; messages, which format text,
    are built only for the rejected rows. ``frame`` must have a unique ``row`` column.
    """
    # Each test is its own column first: Polars evaluates separate expressions in parallel,
    # while one nested when/then chain ran on one core.
    flags = [f"@fails:{index}" for index in range(len(checks))]
    frame = frame.with_columns(
        check.fails.fill_null(False).alias(flag) for check, flag in zip(checks, flags, strict=True)
    )
    reason = pl.coalesce(
        pl.when(pl.col(flag)).then(pl.lit(check.code))
        for check, flag in zip(checks, flags, strict=True)
    )
    frame = frame.with_columns(reason=reason.cast(pl.String)).drop(flags)
    failing = frame.filter(pl.col("reason").is_not_null())
    passing = frame.filter(pl.col("reason").is_null()).with_columns(
        message=pl.lit(None, dtype=pl.String)
    )
    if failing.height == 0:
        return passing
    message: pl.Expr = pl.lit(None, dtype=pl.String)
    for check in reversed(checks):
        message = pl.when(pl.col("reason") == check.code).then(check.message).otherwise(message)
    failing = failing.with_columns(message=message.cast(pl.String))
    return pl.concat([passing, failing], how="vertical_relaxed").sort("row")
