"""The pure domain: no I/O, no SQLAlchemy, no FastAPI (tests/unit/test_layers.py checks)."""

from socialcredit.domain.catalogue import (
    Agency,
    Band,
    Catalogue,
    Policy,
    Rule,
    check_successor,
    parse_catalogue,
)
from socialcredit.domain.durations import Duration, add_duration, parse_duration
from socialcredit.domain.ids import (
    birth_date_of,
    check_character,
    make_person_id,
    normalise_person_id,
    person_id_problem,
)
from socialcredit.domain.invariant import InvariantViolation, invariant
from socialcredit.domain.policy import Answer, Reason, check_policy, find_policy
from socialcredit.domain.scoring import (
    Entry,
    Standing,
    blacklisted_on,
    counts_on,
    grade_on,
    standing_on,
    why_on,
)

__all__ = [
    "Agency",
    "Answer",
    "Band",
    "Catalogue",
    "Duration",
    "Entry",
    "InvariantViolation",
    "Policy",
    "Reason",
    "Rule",
    "Standing",
    "add_duration",
    "birth_date_of",
    "blacklisted_on",
    "check_character",
    "check_policy",
    "check_successor",
    "counts_on",
    "find_policy",
    "grade_on",
    "invariant",
    "make_person_id",
    "normalise_person_id",
    "parse_catalogue",
    "parse_duration",
    "person_id_problem",
    "standing_on",
    "why_on",
]
