"""Invariants: checks for programmer errors that must never be caught.

``assert`` disappears under ``python -O``; a ledger cannot afford that, so invariants raise
``InvariantViolation`` instead. Operating errors (bad input, unknown person) are never
invariants: they are ``SocialCreditError`` subclasses in ``domain.errors``.
"""

__all__ = ["InvariantViolation", "invariant"]


class InvariantViolation(Exception):
    """A condition the code relies on does not hold: a bug, never a user mistake."""


def invariant(condition: bool, message: str) -> None:
    """Raise ``InvariantViolation(message)`` unless ``condition`` holds."""
    if not condition:
        raise InvariantViolation(message)
