"""What the services return: plain, frozen data that the CLI, the API and the reports render."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

__all__ = [
    "CheckResult",
    "EventImportResult",
    "PeopleImportResult",
    "ScoreResult",
    "Statement",
    "StatementEntry",
]


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class ScoreResult:
    id: str
    as_of: date
    score: int
    grade: str
    blacklisted: bool
    catalogue_version: str
    base_score: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "grade": self.grade,
            "blacklisted": self.blacklisted,
            "catalogue_version": self.catalogue_version,
            "base_score": self.base_score,
        }


@dataclass(frozen=True, slots=True)
class StatementEntry:
    """One entry as a statement shows it: what was reported, what it counts, and why."""

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
    why: str
    catalogue_version: str
    evidence: str | None
    recorded_at: datetime
    status_reason: str | None = None
    points_cut: int = 0
    corrects: str | None = None
    repairs: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "agency_name": self.agency_name,
            "event_id": self.event_id,
            "rule": self.rule,
            "title": self.title,
            "title_zh": self.title_zh,
            "legal_basis": self.legal_basis,
            "points": self.points,
            "occurred_on": self.occurred_on.isoformat(),
            "counts_until": self.counts_until.isoformat(),
            "blacklist_until": _iso(self.blacklist_until),
            "grade_cap": self.grade_cap,
            "status": self.status,
            "ends_on": _iso(self.ends_on),
            "counts": self.counts,
            "why": self.why,
            "catalogue_version": self.catalogue_version,
            "evidence": self.evidence,
            "recorded_at": _iso(self.recorded_at),
            "status_reason": self.status_reason,
            "points_cut": self.points_cut,
            "corrects": self.corrects,
            "repairs": self.repairs,
        }


@dataclass(frozen=True, slots=True)
class Statement:
    """The printed statement of the management office: the score and every entry behind it."""

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
    entries: tuple[StatementEntry, ...] = field(default_factory=tuple)

    @property
    def points_counted(self) -> int:
        return sum(entry.points for entry in self.entries if entry.counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "district": self.district,
            "public_servant": self.public_servant,
            "as_of": self.as_of.isoformat(),
            "score": self.score,
            "grade": self.grade,
            "blacklisted": self.blacklisted,
            "base_score": self.base_score,
            "catalogue_version": self.catalogue_version,
            "issued_at": _iso(self.issued_at),
            "entries": [entry.as_dict() for entry in self.entries],
        }


@dataclass(frozen=True, slots=True)
class CheckResult:
    id: str
    policy: str
    purpose: str
    as_of: date
    eligible: bool
    reasons: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "policy": self.policy,
            "purpose": self.purpose,
            "as_of": self.as_of.isoformat(),
            "eligible": self.eligible,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class EventImportResult:
    submitted: int
    accepted: int
    duplicates: int
    rejected: int
    rejects_path: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects_path": self.rejects_path,
            "reasons": dict(self.reasons),
        }


@dataclass(frozen=True, slots=True)
class PeopleImportResult:
    submitted: int
    added: int
    updated: int
    unchanged: int
    rejected: int
    rejects_path: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "submitted": self.submitted,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "rejects_path": self.rejects_path,
            "reasons": dict(self.reasons),
        }
