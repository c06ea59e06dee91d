"""Policy checks: a verifier gets an answer (eligible or not, with reasons), never a record."""

from dataclasses import dataclass, field

from socialcredit.domain.catalogue import Catalogue, Policy
from socialcredit.domain.errors import UnknownPolicyError
from socialcredit.domain.scoring import Standing

__all__ = ["Answer", "Reason", "check_policy", "find_policy"]


@dataclass(frozen=True, slots=True)
class Reason:
    """One unmet requirement: what the policy wanted and what the person has."""

    requirement: str
    wanted: str | bool
    actual: str | bool

    def as_dict(self) -> dict[str, str | bool]:
        return {"requirement": self.requirement, "wanted": self.wanted, "actual": self.actual}


@dataclass(frozen=True, slots=True)
class Answer:
    policy: str
    eligible: bool
    reasons: tuple[Reason, ...] = field(default_factory=tuple)


def find_policy(catalogue: Catalogue, code: str) -> Policy:
    """The policy ``code`` of ``catalogue``; raises ``UnknownPolicyError`` naming the known ones."""
    policy = catalogue.policies.get(code)
    if policy is None:
        known = ", ".join(sorted(catalogue.policies)) or "none"
        raise UnknownPolicyError(
            f"no policy {code!r} in catalogue version {catalogue.version} (known: {known})"
        )
    return policy


def check_policy(catalogue: Catalogue, policy: Policy, standing: Standing) -> Answer:
    """Every unmet requirement of ``policy`` for ``standing``; eligible when there is none."""
    reasons: list[Reason] = []
    if policy.min_grade is not None:
        wanted = catalogue.grade_position(policy.min_grade)
        if catalogue.grade_position(standing.grade) > wanted:
            reasons.append(Reason("min_grade", policy.min_grade, standing.grade))
    if policy.not_blacklisted and standing.blacklisted:
        reasons.append(Reason("not_blacklisted", True, False))
    return Answer(policy=policy.code, eligible=not reasons, reasons=tuple(reasons))
