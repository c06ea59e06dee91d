"""Helpers for the tests of the due-process routes: fresh entries in each state of a contest,
and a next catalogue version to compare or load.

None of them reads a person's record (nothing lands in an access log), so that the route
walks can count the rows a request adds.
"""

import itertools
from typing import Any

from tests.api.conftest import Town
from tests.conftest import EXAMPLE_CATALOGUE, ZHANG_JIAN, recent

from socialcredit.services import consent
from socialcredit.services.access import Actor
from socialcredit.services.contests import answer_contest, open_contest
from socialcredit.services.submissions import submit_events

__all__ = [
    "CLERK",
    "TRAFFIC",
    "contested",
    "fresh_id",
    "grant",
    "next_catalogue",
    "report",
    "verified",
]

TRAFFIC = Actor("traffic-desk", "agency", "traffic-police", agency="traffic-police")
CLERK = Actor("clerk-wang", "clerk", "Social Credit Management Office")
_numbers = itertools.count(1)


def fresh_id(prefix: str) -> str:
    return f"{prefix}-{next(_numbers)}"


def report(
    town: Town,
    event_id: str,
    *,
    person_id: str = ZHANG_JIAN,
    agency: str = "traffic-police",
    rule: str = "TRAFFIC-RED-LIGHT",
    days_ago: int = 10,
) -> None:
    """An accepted entry, as if the agency had sent it."""
    row = {
        "event_id": event_id,
        "person_id": person_id,
        "rule": rule,
        "occurred_on": recent(days_ago),
    }
    submission = submit_events(town.registry, agency, [row], source="test")
    assert submission.as_dict()["accepted"] == 1, submission.as_dict()


def contested(town: Town, event_id: str, **entry: Any) -> None:
    """A fresh traffic-police entry of Zhang Jian's, contested (awaiting the agency)."""
    report(town, event_id, **entry)
    open_contest(town.registry, "traffic-police", event_id, grounds="not my car", actor=CLERK)


def verified(town: Town, event_id: str) -> None:
    """A contested entry the agency has verified (awaiting the review officer)."""
    contested(town, event_id)
    answer_contest(
        town.registry, "traffic-police", event_id, "verified", reason="photo", actor=TRAFFIC
    )


def next_catalogue(
    *,
    version: str = "2027.1",
    effective_from: str = "2027-01-01",
    base_score: int = 2000,
    a_from: int = 960,
) -> bytes:
    """The example catalogue as a later version: another base score (by default one that
    moves everyone to AAA, so that everyone changes grade) and grade A's lower bound,
    TRAFFIC-RED-LIGHT at -10 points, and a new rule."""
    text = EXAMPLE_CATALOGUE.read_text(encoding="utf-8")
    for old, new in (
        ('version: "2026.1"', f'version: "{version}"'),
        ("effective_from: 2026-01-01", f"effective_from: {effective_from}"),
        ("base_score: 1000", f"base_score: {base_score}"),
        ("{grade: A, min: 960}", f"{{grade: A, min: {a_from}}}"),
        ("    points: -5\n", "    points: -10\n"),
        (
            "policies:\n",
            "  - code: LITTERING\n"
            "    title: Littering in a public place\n"
            "    category: public-order\n"
            "    points: -2\n"
            "    counts_for: P6M\n"
            "    reporters: [public-security]\n"
            "    legal_basis: City Appearance and Sanitation Regulations, art. 16\n"
            "policies:\n",
        ),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    return text.encode()


def grant(town: Town, *, organisation: str, purpose: str, person_id: str = ZHANG_JIAN) -> None:
    consent.grant_consent(town.registry, person_id, organisation, purpose, CLERK)
