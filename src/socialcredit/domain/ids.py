"""PRC resident identity numbers (GB 11643-1999) with the ISO 7064 MOD 11-2 check character.

Layout: 6-digit area code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd = male), and a
check character ``0-9`` or ``X``. Only ASCII digits count: full-width digits are refused, since
a registry must not silently rewrite what an agency sent. A lowercase ``x`` is read as ``X``.
"""

import re
from datetime import date

__all__ = [
    "CHECK_CHARACTERS",
    "CHECK_WEIGHTS",
    "birth_date_of",
    "check_character",
    "make_person_id",
    "normalise_person_id",
    "person_id_problem",
]

CHECK_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# Index = weighted sum mod 11, value = the check character.
CHECK_CHARACTERS = "10X98765432"

_SHAPE = re.compile(r"[0-9]{17}[0-9X]", re.ASCII)


def normalise_person_id(raw: str) -> str:
    """Trim spaces and read a lowercase ``x`` as ``X``; nothing else is changed."""
    return raw.strip().upper()


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 ASCII digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"need 17 ASCII digits, got {first17!r}")
    total = sum(int(digit) * weight for digit, weight in zip(first17, CHECK_WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def birth_date_of(person_id: str) -> date:
    """The birth date encoded in a (shape-valid) ID; raises ``ValueError`` if not a real date."""
    digits = person_id[6:14]
    return date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))


def person_id_problem(raw: str, today: date) -> str | None:
    """Why ``raw`` is not a valid resident ID on ``today``, or ``None`` when it is valid."""
    person_id = normalise_person_id(raw)
    if len(person_id) != 18:
        return f"has {len(person_id)} characters, a resident ID has 18"
    if not _SHAPE.fullmatch(person_id):
        return "must be 17 ASCII digits followed by a digit or X"
    try:
        born = birth_date_of(person_id)
    except ValueError:
        return f"birth date {person_id[6:14]} is not a real date"
    if born > today:
        return f"birth date {born.isoformat()} is in the future"
    expected = check_character(person_id[:17])
    if person_id[17] != expected:
        return f"check character is {person_id[17]}, expected {expected}"
    return None


def make_person_id(area_code: str, born: date, sequence: int) -> str:
    """Build a valid ID (used by the synthetic town and by tests)."""
    if len(area_code) != 6 or not area_code.isdigit():
        raise ValueError(f"area code must be 6 digits, got {area_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"sequence must be 0..999, got {sequence}")
    first17 = f"{area_code}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)
