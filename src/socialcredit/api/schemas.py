"""The API's request and response bodies (they make the OpenAPI document)."""

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "MAX_PURPOSE_CHARS",
    "PURPOSE_PATTERN",
    "AccessRow",
    "AgencyOut",
    "BandOut",
    "CatalogueOut",
    "CatalogueVersionOut",
    "CheckIn",
    "CheckOut",
    "ErrorBody",
    "ErrorDetail",
    "EventBatch",
    "EventIn",
    "GrantOut",
    "Health",
    "MeOut",
    "MonthCount",
    "Page",
    "PolicyOut",
    "ReasonOut",
    "RowResult",
    "RuleOut",
    "ScoreOut",
    "StatementEntryOut",
    "StatementOut",
    "StatsOut",
    "SubmissionOut",
]

T = TypeVar("T")

MAX_PURPOSE_CHARS = 200
# Some text that is not only spaces, and no control characters (C0, DEL, C1). The OpenAPI
# document carries the same pattern, so that it promises exactly what is accepted.
PURPOSE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable code to match on, e.g. unregistered-person.")
    message: str = Field(description="For people; may be reworded.")
    details: dict[str, Any] = Field(description="More about the error; may be empty.")


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null: none.")


# --- events ------------------------------------------------------------------------------------


class EventIn(BaseModel):
    """One event; every field is judged per row (a missing one rejects the row, not the batch).

    ``agency`` may be left out: it is then the account's agency."""

    model_config = ConfigDict(extra="forbid")

    agency: str | None = None
    event_id: str | None = None
    person_id: str | None = None
    rule: str | None = None
    occurred_on: str | None = Field(default=None, description="YYYY-MM-DD")
    evidence: str | None = None


class EventBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[EventIn] = Field(min_length=1, description="At most api_max_events rows.")


class RowResult(BaseModel):
    row: int = Field(description="1-based position of the row in the request or file.")
    event_id: str | None
    outcome: Literal["accepted", "duplicate", "rejected"]
    code: str | None = Field(description="The rejection reason; null unless rejected.")
    message: str | None


class SubmissionOut(BaseModel):
    submitted: int
    accepted: int
    duplicates: int
    rejected: int
    reasons: dict[str, int] = Field(description="Rejected rows per reason code.")
    rows: list[RowResult] = Field(
        description="JSON: every row, in order. Upload: the first rejected rows only."
    )
    rows_complete: bool = Field(description="False when more rejected rows exist than listed.")


# --- people ------------------------------------------------------------------------------------


class ScoreOut(BaseModel):
    id: str
    as_of: date
    score: int
    grade: str
    blacklisted: bool
    catalogue_version: str
    base_score: int


class StatementEntryOut(BaseModel):
    agency: str
    agency_name: str
    event_id: str
    rule: str
    title: str
    title_zh: str | None
    legal_basis: str
    points: int
    occurred_on: date
    counts_until: date
    blacklist_until: date | None
    grade_cap: str | None
    status: str
    ends_on: date | None
    counts: bool
    why: Literal["counts", "expired", "ended", "overturned", "withdrawn"]
    catalogue_version: str
    evidence: str | None
    recorded_at: datetime


class StatementOut(BaseModel):
    id: str
    name: str
    district: str
    public_servant: bool
    as_of: date
    score: int
    grade: str
    blacklisted: bool
    base_score: int
    catalogue_version: str
    issued_at: datetime
    entries: list[StatementEntryOut]


class AccessRow(BaseModel):
    recorded_at: datetime
    actor: str
    role: str
    organisation: str | None
    action: str
    purpose: str
    detail: dict[str, Any] | None


# --- checks ------------------------------------------------------------------------------------


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(max_length=64)
    policy: str = Field(max_length=64)
    purpose: str = Field(
        max_length=MAX_PURPOSE_CHARS,
        pattern=PURPOSE_PATTERN,
        description="One of the purposes granted to this account for the policy.",
    )
    as_of: date | None = None
    known_at: str | None = Field(
        default=None,
        max_length=64,
        description="Answer as the registry knew it at this moment (ISO 8601; without an "
        "offset it is read in the registry's time zone). Consent is judged now.",
    )


class ReasonOut(BaseModel):
    requirement: str
    wanted: str | bool
    actual: str | bool


class CheckOut(BaseModel):
    """An answer, not a record: no score, no entries."""

    eligible: bool
    reasons: list[ReasonOut]


# --- catalogue, stats, me ----------------------------------------------------------------------


class BandOut(BaseModel):
    grade: str
    min: int | None


class AgencyOut(BaseModel):
    code: str
    name: str
    name_zh: str | None


class RuleOut(BaseModel):
    code: str
    title: str
    title_zh: str | None
    category: str
    points: int
    counts_for: str
    blacklist_for: str | None
    grade_cap: str | None
    applies_to: str
    reporters: list[str]
    legal_basis: str
    description: str | None


class PolicyOut(BaseModel):
    code: str
    title: str
    title_zh: str | None
    min_grade: str | None
    not_blacklisted: bool


class CatalogueVersionOut(BaseModel):
    version: str
    effective_from: date
    base_score: int
    grades: list[BandOut]
    agencies: list[AgencyOut]
    rules: list[RuleOut]
    policies: list[PolicyOut]


class CatalogueOut(Page[CatalogueVersionOut]):
    in_force: str | None = Field(description="The version in force today, if any.")


class MonthCount(BaseModel):
    month: str = Field(description="YYYY-MM")
    agency: str
    entries: int


class StatsOut(BaseModel):
    as_of: date
    catalogue_version: str
    people: int
    grades: dict[str, int]
    blacklisted: int
    entries: int
    entries_by_agency: dict[str, int]
    entries_by_rule: dict[str, int]
    first_month: str
    entries_by_month: list[MonthCount]


class GrantOut(BaseModel):
    policy: str
    purpose: str


class MeOut(BaseModel):
    name: str
    role: str
    agency: str | None
    person_id: str | None
    organisation: str | None
    grants: list[GrantOut]
