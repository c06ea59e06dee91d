"""Operating errors, one hierarchy for every layer.

    SocialCreditError            code, message; never a bug (bugs raise InvariantViolation)
    ├── RefusedError             exit 1: the question cannot be answered as asked
    │   ├── InvalidPersonIdError     the ID fails GB 11643 (format, birth date, check character)
    │   ├── UnknownPersonError       the ID is valid but nobody by it is registered
    │   ├── UnknownPolicyError       no such policy in the version in force
    │   ├── NoCatalogueError         the date is before every loaded catalogue version
    │   ├── NoConsentError           a verifier lacks the person's consent for its purpose
    │   └── NotFoundError            another named thing does not exist
    └── InputError               exit 2: usage or unreadable input
        ├── CatalogueInvalidError    a catalogue fails validation; ``problems`` lists each
        └── UnreadableInputError     missing file, wrong format, missing columns, bad bytes

The CLI maps the two branches to exit codes 1 and 2; the HTTP API maps them to 4xx statuses.
Every error carries a stable ``code`` that callers may match on; messages are for people.
"""

from collections.abc import Sequence

__all__ = [
    "CatalogueInvalidError",
    "InputError",
    "InvalidPersonIdError",
    "NoCatalogueError",
    "NoConsentError",
    "NotFoundError",
    "RefusedError",
    "SocialCreditError",
    "UnknownPersonError",
    "UnknownPolicyError",
    "UnreadableInputError",
]


class SocialCreditError(Exception):
    """Base of every operating error. ``code`` is stable; ``message`` is one line."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class RefusedError(SocialCreditError):
    """The request is well formed but cannot be answered (exit 1)."""

    code = "refused"


class InvalidPersonIdError(RefusedError):
    code = "invalid-person-id"


class UnknownPersonError(RefusedError):
    code = "unregistered-person"


class UnknownPolicyError(RefusedError):
    code = "unknown-policy"


class NoCatalogueError(RefusedError):
    code = "no-catalogue"


class NotFoundError(RefusedError):
    code = "not-found"


class InputError(SocialCreditError):
    """Usage error or unreadable input (exit 2)."""

    code = "invalid-input"


class UnreadableInputError(InputError):
    code = "unreadable-input"


class CatalogueInvalidError(InputError):
    """A catalogue failed validation. ``problems`` holds one line per problem."""

    code = "invalid-catalogue"

    def __init__(self, problems: Sequence[str], *, source: str = "catalogue") -> None:
        self.problems = list(problems)
        first = self.problems[0] if self.problems else "invalid"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        super().__init__(f"{source}: {first}{more}")


class NoConsentError(RefusedError):
    """A verifier asked about a person without that person's consent for its purpose."""

    code = "no-consent"
