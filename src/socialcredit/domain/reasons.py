"""Stable rejection codes for submitted rows, in the order they are judged.

A row is rejected with the first code that applies (DESIGN.md section 3). Callers match on the
code; the message beside it is for people and may be reworded.
"""

from typing import Final

__all__ = [
    "EVENT_REASONS",
    "MALFORMED_ROW",
    "PEOPLE_REASONS",
    "REASON_HELP",
]

# A row the file reader could not split into the header's fields (wrong number of fields,
# a line that is not a JSON object). It is judged before everything else.
MALFORMED_ROW: Final = "malformed-row"

EVENT_REASONS: Final = (
    MALFORMED_ROW,
    "missing-field",
    "invalid-text",
    "not-your-agency",
    "invalid-date",
    "future-date",
    "invalid-person-id",
    "unregistered-person",
    "before-birth",
    "no-catalogue",
    "unknown-agency",
    "unknown-rule",
    "not-a-reporter",
    "not-a-public-servant",
    "unknown-original",
    "invalid-reference",
    "conflict",
)

PEOPLE_REASONS: Final = (
    MALFORMED_ROW,
    "missing-field",
    "invalid-text",
    "invalid-person-id",
    "invalid-flag",
)

REASON_HELP: Final = {
    MALFORMED_ROW: "the row could not be read as a record with the header's fields",
    "missing-field": "a required field is missing or empty",
    "invalid-text": "a field is longer than the limit or holds a control character",
    "invalid-date": "occurred_on is not a date written YYYY-MM-DD",
    "future-date": "occurred_on is after today in the registry's time zone",
    "invalid-person-id": "person_id is not a valid GB 11643 resident ID",
    "unregistered-person": "nobody with this resident ID is registered",
    "before-birth": "occurred_on is before the birth date in the resident ID",
    "no-catalogue": "no catalogue version is in force on occurred_on",
    "unknown-agency": "the agency is not in the catalogue version in force on occurred_on",
    "unknown-rule": "the rule is not in the catalogue version in force on occurred_on",
    "not-a-reporter": "the rule does not list this agency among its reporters",
    "not-a-public-servant": "the rule applies to public servants and the person is not one",
    "not-your-agency": "an agency's account (the HTTP API) sent a row naming another agency",
    "unknown-original": "corrects or repairs names an event this agency has not stored",
    "invalid-reference": "corrects or repairs names an event it may not change (another "
    "person's, ended, withdrawn, not repaired by this rule, later than the repair)",
    "conflict": "the (agency, event_id) key is already held by an entry with other content",
    "invalid-flag": "public_servant is not one of true/false, 1/0, yes/no",
}
