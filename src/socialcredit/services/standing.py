"""Use cases about one person: score, statement and policy check, as of any date.

Each answer is computed from the person's entries by the domain's reference semantics, and
each carries the invariant ``score == base_score + sum(points of counting entries)``.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from socialcredit.domain.catalogue import Catalogue, Policy
from socialcredit.domain.errors import InvalidPersonIdError, RefusedError, UnknownPersonError
from socialcredit.domain.ids import normalise_person_id, person_id_problem
from socialcredit.domain.invariant import invariant
from socialcredit.domain.policy import check_policy, find_policy
from socialcredit.domain.scoring import Entry, Standing, counts_on, standing_on, why_on
from socialcredit.services.access import LOCAL, Actor, record_access
from socialcredit.services.models import CheckResult, ScoreResult, Statement, StatementEntry
from socialcredit.services.notices import record_notice
from socialcredit.services.registry import Registry
from socialcredit.store import repository

__all__ = ["OFFICE_ENQUIRY", "check", "registered_person_id", "score", "statement"]


@dataclass(frozen=True, slots=True)
class _Record:
    person: dict[str, Any]
    entries: list[Entry]
    catalogue: Catalogue
    standing: Standing


OFFICE_ENQUIRY = "office enquiry"


def _log(
    registry: Registry,
    actor: Actor,
    record: "_Record",
    action: str,
    purpose: str,
    known_at: datetime | None,
    **detail: Any,
) -> None:
    asked = {
        "as_of": record.standing.as_of.isoformat(),
        "known_at": None if known_at is None else known_at.isoformat(),
        **detail,
    }
    record_access(registry, actor, record.person["id"], action, purpose, asked)


def _person_id(registry: Registry, raw: str) -> str:
    problem = person_id_problem(raw, registry.clock.today())
    if problem is not None:
        raise InvalidPersonIdError(f"{raw.strip()!r} is not a valid resident ID: {problem}")
    return normalise_person_id(raw)


def registered_person_id(registry: Registry, raw: str) -> str:
    """The normalised ID of a registered person; refuses invalid or unknown IDs (exit 1)."""
    person_id = _person_id(registry, raw)
    with registry.database.read() as connection:
        if repository.get_person(connection, person_id) is None:
            raise UnknownPersonError(f"{person_id} is not registered")
    return person_id


def _record(
    registry: Registry, raw_id: str, as_of: date | None, known_at: datetime | None
) -> _Record:
    person_id = _person_id(registry, raw_id)
    day = as_of or registry.clock.today()
    catalogue = registry.in_force(day, known_at)
    with registry.database.read() as connection:
        person = repository.get_person(connection, person_id, known_at=known_at)
        if person is None:
            raise UnknownPersonError(f"{person_id} is not registered")
        entries = repository.person_entries(
            connection, person_id, known_at=known_at, occurred_until=day
        )
    return _Record(person, entries, catalogue, standing_on(catalogue, entries, day))


def score(
    registry: Registry,
    person_id: str,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    actor: Actor = LOCAL,
    purpose: str = OFFICE_ENQUIRY,
) -> ScoreResult:
    """Score, grade and blacklist of one person on ``as_of`` (default today); logged."""
    record = _record(registry, person_id, as_of, known_at)
    standing = record.standing
    _log(registry, actor, record, "score", purpose, known_at)
    return ScoreResult(
        id=record.person["id"],
        as_of=standing.as_of,
        score=standing.score,
        grade=standing.grade,
        blacklisted=standing.blacklisted,
        catalogue_version=standing.catalogue_version,
        base_score=standing.base_score,
    )


def _statement_entry(registry: Registry, entry: Entry, day: date) -> StatementEntry:
    catalogue = registry.version(entry.catalogue_version)
    rule = catalogue.rules[entry.rule]
    agency = catalogue.agencies[entry.agency]
    invariant(entry.recorded_at is not None, "stored entries have a recorded_at")
    return StatementEntry(
        agency=entry.agency,
        agency_name=agency.name,
        event_id=entry.event_id,
        rule=entry.rule,
        title=rule.title,
        title_zh=rule.title_zh,
        legal_basis=rule.legal_basis,
        points=entry.points,
        occurred_on=entry.occurred_on,
        counts_until=entry.counts_until,
        blacklist_until=entry.blacklist_until,
        grade_cap=entry.grade_cap,
        status=entry.status,
        ends_on=entry.ends_on,
        counts=counts_on(entry, day),
        why=why_on(entry, day),
        catalogue_version=entry.catalogue_version,
        evidence=entry.evidence,
        recorded_at=entry.recorded_at,  # type: ignore[arg-type]  # checked just above
        status_reason=entry.status_reason,
        points_cut=entry.points_cut,
        corrects=entry.corrects,
        repairs=entry.repairs,
    )


def statement(
    registry: Registry,
    person_id: str,
    *,
    as_of: date | None = None,
    known_at: datetime | None = None,
    actor: Actor = LOCAL,
    purpose: str = OFFICE_ENQUIRY,
) -> Statement:
    """Every entry that occurred by ``as_of``, whether and why it counts, and the total; logged."""
    record = _record(registry, person_id, as_of, known_at)
    standing = record.standing
    _log(registry, actor, record, "statement", purpose, known_at)
    lines = tuple(_statement_entry(registry, entry, standing.as_of) for entry in record.entries)
    result = Statement(
        id=record.person["id"],
        name=record.person["name"],
        district=record.person["district"],
        public_servant=bool(record.person["public_servant"]),
        as_of=standing.as_of,
        score=standing.score,
        grade=standing.grade,
        blacklisted=standing.blacklisted,
        base_score=standing.base_score,
        catalogue_version=standing.catalogue_version,
        issued_at=registry.clock.now().astimezone(registry.clock.zone),
        entries=lines,
    )
    invariant(
        result.score == result.base_score + result.points_counted,
        "a statement's score is its base plus the entries it lists as counting",
    )
    return result


def _require_consent(
    registry: Registry,
    actor: Actor,
    record: _Record,
    policy: Policy,
    purpose: str,
    known_at: datetime | None,
) -> None:
    """A verifier needs the person's consent unless the policy is mandated; a refused
    attempt is logged too, so that the person sees who tried."""
    # Imported here: services.consent builds on this module (registered_person_id).
    from socialcredit.services.consent import require_consent

    try:
        require_consent(registry, actor, record.person["id"], policy, purpose)
    except RefusedError as refused:
        _log(
            registry,
            actor,
            record,
            "check-refused",
            purpose,
            known_at,
            policy=policy.code,
            refused=refused.code,
        )
        raise


def _adverse_action_notice(
    registry: Registry,
    actor: Actor,
    record: _Record,
    policy: Policy,
    purpose: str,
    reasons: list[dict[str, Any]],
) -> None:
    """FCRA-style adverse-action notice: who asked, for what, why the answer was no."""
    asker = actor.organisation or actor.name
    unmet = "; ".join(
        f"{r['requirement']}: wanted {r['wanted']}, actual {r['actual']}" for r in reasons
    )
    with registry.database.write() as connection:
        record_notice(
            connection,
            person_id=record.person["id"],
            kind="adverse-action",
            subject=f"Not eligible: {policy.code} / 不符合条件",
            body=(
                f"{asker} asked whether you are eligible for {policy.title} ({policy.code}) "
                f"for the purpose {purpose!r} and was told: not eligible ({unmet}). "
                "You may see your full statement for free and contest any entry.\n"
                f"{asker}就“{policy.title_zh or policy.title}”查询了您的资格，结果为不符合条件。"
                "您可免费查看完整的信用积分明细并对任何记录提出申诉。"
            ),
            detail={
                "verifier": asker,
                "role": actor.role,
                "policy": policy.code,
                "purpose": purpose,
                "reasons": reasons,
            },
            recorded_at=registry.clock.now(),
        )


def check(
    registry: Registry,
    person_id: str,
    policy_code: str,
    *,
    purpose: str,
    as_of: date | None = None,
    known_at: datetime | None = None,
    actor: Actor = LOCAL,
) -> CheckResult:
    """Is the person eligible under ``policy_code``? An answer with reasons, not a record.

    The question, its purpose and the answer go into the person's access log.
    """
    day = as_of or registry.clock.today()
    policy = find_policy(registry.in_force(day, known_at), policy_code)
    record = _record(registry, person_id, day, known_at)
    _require_consent(registry, actor, record, policy, purpose, known_at)
    answer = check_policy(record.catalogue, policy, record.standing)
    reasons = [reason.as_dict() for reason in answer.reasons]
    _log(
        registry,
        actor,
        record,
        "check",
        purpose,
        known_at,
        policy=policy.code,
        eligible=answer.eligible,
        reasons=reasons,
    )
    if not answer.eligible:
        _adverse_action_notice(registry, actor, record, policy, purpose, reasons)
    return CheckResult(
        id=record.person["id"],
        policy=policy.code,
        purpose=purpose,
        as_of=day,
        eligible=answer.eligible,
        reasons=tuple(reason.as_dict() for reason in answer.reasons),
    )
