"""Request and response bodies of the due-process routes (issue 4): contests, withdrawals,
consents, notices, the auditors' access-log search and catalogue changes.

Kept apart from ``api.schemas`` (the registry core's bodies) so that each module stays small.
The limits here are the services' own (grounds, reasons, consent text), stated in the OpenAPI
document so that it promises exactly what is accepted.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.schemas import Page
from socialcredit.services.consent import MAX_TEXT_CHARS
from socialcredit.services.contests import GROUNDS_CHARS_MAX

__all__ = [
    "AccessSearchRow",
    "AnswerIn",
    "AttachmentIn",
    "CatalogueDiffOut",
    "ConsentChangeOut",
    "ConsentIn",
    "ConsentOut",
    "ContestIn",
    "ContestOut",
    "DecisionIn",
    "GradeChangeRow",
    "LoadOut",
    "NoticeOut",
    "SweepOut",
    "WithdrawIn",
    "WithdrawOut",
]

MAX_KEY_CHARS = 4096  # an agency's event_id is free text
MAX_REASON_CHARS = 4000
# Some text that is not only white space; no control characters but tab, line feed, return.
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
CONSENT_TEXT_PATTERN = rf"^{_TEXT_CHAR}*[^\s\x00-\x1f\x7f-\x9f]{_TEXT_CHAR}*$"
# Standard base64 (RFC 4648 section 4), padded; the decoder checks the rest.
BASE64_PATTERN = r"^[A-Za-z0-9+/]*={0,2}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- contests ----------------------------------------------------------------------------------


class AttachmentIn(_In):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        default="application/octet-stream",
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    )
    content_base64: str = Field(
        pattern=BASE64_PATTERN,
        description="The file, base64 (at most max_attachment_bytes once decoded).",
    )


class ContestIn(_In):
    agency: str = Field(min_length=1, max_length=64, description="The reporting agency.")
    event_id: str = Field(min_length=1, max_length=MAX_KEY_CHARS)
    grounds: str = Field(
        min_length=1, max_length=GROUNDS_CHARS_MAX, description="What is wrong with the entry."
    )
    attachments: list[AttachmentIn] = Field(
        default_factory=list, max_length=100, description="At most max_attachments."
    )


class ContestStepOut(BaseModel):
    step: Literal["answered", "decided", "expired"]
    outcome: str
    reason: str
    actor: str
    corrected_by: str | None
    recorded_at: datetime


class ContestOut(BaseModel):
    id: int
    agency: str
    event_id: str
    person_id: str
    rule: str
    opened_by: str
    grounds: str | None = Field(description="Null once purged after the archive period.")
    opened_at: datetime
    answer_due: datetime
    state: Literal["awaiting-agency", "awaiting-decision", "closed"]
    outcome: str | None
    overdue: bool
    steps: list[ContestStepOut]


class AnswerIn(_In):
    answer: Literal["verified", "corrected", "withdrawn"]
    reason: str = Field(default="", max_length=MAX_REASON_CHARS)
    corrected_by: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_KEY_CHARS,
        description="For 'corrected': the event_id of the correcting event the agency sent.",
    )


class DecisionIn(_In):
    decision: Literal["upheld", "overturned"]
    reason: str = Field(
        min_length=1, max_length=MAX_REASON_CHARS, description="Shown to the person."
    )


class SweepOut(BaseModel):
    overturned: list[ContestOut]


class WithdrawIn(_In):
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class WithdrawOut(BaseModel):
    agency: str
    event_id: str
    status: Literal["withdrawn"]


# --- consents and notices ----------------------------------------------------------------------


class ConsentIn(_In):
    """Runs of white space (tabs and line breaks too, as a form may hold) become one space
    before matching; other control characters are refused."""

    organisation: str = Field(
        max_length=MAX_TEXT_CHARS,
        pattern=CONSENT_TEXT_PATTERN,
        description="The verifier's organisation, exactly as on its account.",
    )
    purpose: str = Field(
        max_length=MAX_TEXT_CHARS,
        pattern=CONSENT_TEXT_PATTERN,
        description="What the check is for.",
    )


class ConsentChangeOut(BaseModel):
    id: str
    organisation: str
    purpose: str
    action: Literal["grant", "revoke"]
    status: Literal["recorded", "unchanged"]


class ConsentOut(BaseModel):
    organisation: str
    purpose: str
    state: Literal["granted", "revoked"]
    since: datetime
    actor: str


class DeliveryOut(BaseModel):
    channel: str
    status: str
    address: str | None
    error: str | None
    recorded_at: datetime


class NoticeOut(BaseModel):
    id: int
    person_id: str
    kind: str
    subject: str
    body: str
    detail: dict[str, Any] | None
    recorded_at: datetime
    deliveries: list[DeliveryOut]


# --- audit -------------------------------------------------------------------------------------


class AccessSearchRow(BaseModel):
    id: int
    person_id: str
    recorded_at: datetime
    actor: str
    role: str
    organisation: str | None
    action: str
    purpose: str
    detail: dict[str, Any] | None


# --- catalogue change --------------------------------------------------------------------------


class ChangeOut(BaseModel):
    old: Any
    new: Any


class ItemsDiffOut(BaseModel):
    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, ChangeOut]] = Field(
        description="Per code present in both versions, each field that differs."
    )


class VersionRef(BaseModel):
    version: str
    effective_from: date


class ScoreChange(BaseModel):
    old: int
    new: int


class BandChange(BaseModel):
    grade: str
    old_min: int | None
    new_min: int | None


class DiffOut(BaseModel):
    old: VersionRef
    new: VersionRef
    base_score: ScoreChange | None
    grades: list[BandChange]
    rules: ItemsDiffOut
    agencies: ItemsDiffOut
    policies: ItemsDiffOut


class TransitionOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    people: int


class GradeChangesOut(BaseModel):
    on: date
    old_version: str
    new_version: str
    people: int = Field(description="Everyone registered.")
    unchanged: int = Field(description="People whose grade stays.")
    score_changed: int
    transitions: list[TransitionOut]


class GradeChangeRow(BaseModel):
    id: str
    old_score: int
    old_grade: str
    new_score: int
    new_grade: str
    blacklisted: bool


class CatalogueDiffOut(Page[GradeChangeRow]):
    """The diff, the counts, and one page of the people who would change grade (by ID)."""

    diff: DiffOut
    grade_changes: GradeChangesOut


class LoadOut(BaseModel):
    version: str
    effective_from: date
    status: Literal["loaded", "unchanged"]
    rules: int
    agencies: int
    policies: int
