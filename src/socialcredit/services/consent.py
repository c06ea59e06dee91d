"""Consent and purpose: a verifier may check a person only with that person's consent.

DESIGN.md principle 5 and issue 4, item 6. A person (or a clerk for them, on a signed form)
grants an organisation consent to check them for one declared purpose, and may revoke it at
any time. The ``consents`` table is append-only: each grant or revoke is a new row, and the
current state of a (person, organisation, purpose) is its latest row. A policy marked
``mandated`` in the catalogue (e.g. ``civil-service-promotion`` asked by the employing bureau)
needs no consent. See ``docs/due-process.md`` for the rule.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, and_, func, select

from socialcredit.domain.catalogue import Policy
from socialcredit.domain.errors import InputError, NoConsentError, NotFoundError, RefusedError
from socialcredit.services.access import LOCAL, Actor, record_access
from socialcredit.services.registry import Registry
from socialcredit.services.standing import OFFICE_ENQUIRY, registered_person_id
from socialcredit.store import ledger
from socialcredit.store.schema import consents

__all__ = [
    "CONSENT_ROLES",
    "MAX_TEXT_CHARS",
    "Basis",
    "Consent",
    "ConsentChange",
    "grant_consent",
    "has_consent",
    "list_consents",
    "normalise_text",
    "require_consent",
    "revoke_consent",
]

# Who may record consent: the person themself, or an office clerk (or admin) entering a signed
# paper form. Never the verifier: an organisation that could grant itself consent needs none.
CONSENT_ROLES = frozenset({"resident", "clerk", "admin"})
MAX_TEXT_CHARS = 200
_SPACES = re.compile(r"\s+")

Basis = Literal["mandated", "consent", "not-a-verifier"]


@dataclass(frozen=True, slots=True)
class Consent:
    """The current state of one (organisation, purpose) for a person: its latest row."""

    organisation: str
    purpose: str
    granted: bool
    since: datetime
    actor: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation,
            "purpose": self.purpose,
            "state": "granted" if self.granted else "revoked",
            "since": self.since.isoformat(),
            "actor": self.actor,
        }


@dataclass(frozen=True, slots=True)
class ConsentChange:
    person_id: str
    organisation: str
    purpose: str
    action: str  # grant | revoke
    status: str  # recorded | unchanged

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.person_id,
            "organisation": self.organisation,
            "purpose": self.purpose,
            "action": self.action,
            "status": self.status,
        }


def normalise_text(value: str, field: str) -> str:
    """Trim and collapse white space; refuse empty or over-long text (exit 2).

    Organisation and purpose are matched exactly after this, so that a stray space or a line
    break in a form does not make a consent miss the check it was given for.
    """
    text = _SPACES.sub(" ", value).strip()
    if not text:
        raise InputError(f"{field} must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InputError(f"{field} is {len(text)} characters, the limit is {MAX_TEXT_CHARS}")
    return text


def _may_record(actor: Actor, person_id: str) -> None:
    if actor.role not in CONSENT_ROLES:
        raise RefusedError(
            f"a {actor.role} account cannot record consent; the person or a clerk does",
            code="not-allowed",
        )
    if actor.role == "resident" and actor.person_id != person_id:
        raise RefusedError("a resident records consent only for themself", code="not-allowed")


def _latest(connection: Connection, person_id: str, at: datetime | None, **match: str) -> list[Any]:
    """The latest row per (organisation, purpose) of a person, as known at ``at``."""
    newest = select(func.max(consents.c.id)).where(consents.c.person_id == person_id)
    for name, value in match.items():
        newest = newest.where(consents.c[name] == value)
    if at is not None:
        newest = newest.where(consents.c.recorded_at <= at)
    newest = newest.group_by(consents.c.organisation, consents.c.purpose)
    query = (
        select(consents)
        .where(consents.c.id.in_(newest))
        .order_by(consents.c.organisation, consents.c.purpose)
    )
    return list(connection.execute(query))


def _change(
    registry: Registry,
    person_id: str,
    organisation: str,
    purpose: str,
    actor: Actor,
    action: Literal["grant", "revoke"],
) -> ConsentChange:
    person = registered_person_id(registry, person_id)
    _may_record(actor, person)
    organisation = normalise_text(organisation, "organisation")
    purpose = normalise_text(purpose, "purpose")
    key = {"organisation": organisation, "purpose": purpose}
    with registry.database.write() as connection:
        current = _latest(connection, person, None, **key)
        if not current and action == "revoke":
            raise NotFoundError(
                f"{person} never gave {organisation!r} consent for {purpose!r}; nothing to revoke"
            )
        if current and current[0].action == action:
            return ConsentChange(person, organisation, purpose, action, "unchanged")
        ledger.insert_row(
            connection,
            "consents",
            {
                "person_id": person,
                **key,
                "action": action,
                "actor": actor.name,
                "recorded_at": registry.clock.now(),
            },
        )
    return ConsentChange(person, organisation, purpose, action, "recorded")


def grant_consent(
    registry: Registry, person_id: str, organisation: str, purpose: str, actor: Actor
) -> ConsentChange:
    """Record that the person lets ``organisation`` check them for ``purpose``.

    Granting a consent that is already in force changes nothing (status ``unchanged``).
    """
    return _change(registry, person_id, organisation, purpose, actor, "grant")


def revoke_consent(
    registry: Registry, person_id: str, organisation: str, purpose: str, actor: Actor
) -> ConsentChange:
    """Record that the consent ends now; later checks by that organisation are refused.

    Revoking a consent never given is refused (``not-found``), so that a typo in the
    organisation does not look like a revocation; revoking it again changes nothing.
    """
    return _change(registry, person_id, organisation, purpose, actor, "revoke")


def list_consents(
    registry: Registry,
    person_id: str,
    *,
    actor: Actor = LOCAL,
    purpose: str = OFFICE_ENQUIRY,
) -> list[Consent]:
    """Every (organisation, purpose) the person ever consented to, in its current state.

    Consents are the person's data, so the read is logged (action ``consents``).
    """
    person = registered_person_id(registry, person_id)
    with registry.database.read() as connection:
        rows = _latest(connection, person, None)
    record_access(registry, actor, person, "consents", purpose)
    return [
        Consent(row.organisation, row.purpose, row.action == "grant", row.recorded_at, row.actor)
        for row in rows
    ]


def has_consent(
    registry: Registry,
    person_id: str,
    organisation: str,
    purpose: str,
    *,
    at: datetime | None = None,
) -> bool:
    """Was consent for (organisation, purpose) in force at ``at`` (default now)?"""
    organisation = _SPACES.sub(" ", organisation).strip()
    purpose = _SPACES.sub(" ", purpose).strip()
    condition = and_(consents.c.organisation == organisation, consents.c.purpose == purpose)
    query = select(consents.c.action).where(consents.c.person_id == person_id, condition)
    if at is not None:
        query = query.where(consents.c.recorded_at <= at)
    query = query.order_by(consents.c.id.desc()).limit(1)
    with registry.database.read() as connection:
        latest = connection.execute(query).scalar()
    return latest == "grant"


def require_consent(
    registry: Registry, actor: Actor, person_id: str, policy: Policy, purpose: str
) -> Basis:
    """Refuse (``no-consent``, exit 1) a verifier's check that lacks the person's consent.

    Returns the basis on which the check may go ahead: ``mandated`` (the policy needs no
    consent), ``consent`` (the verifier's organisation holds it for this purpose now) or
    ``not-a-verifier`` (the person themself, or the office, asks: no consent is involved).
    Consent is judged at the moment of asking, also for a question ``known_at`` the past.
    """
    if actor.role != "verifier":
        return "not-a-verifier"
    if policy.mandated:
        return "mandated"
    organisation = actor.organisation or ""
    if organisation.strip() and has_consent(registry, person_id, organisation, purpose):
        return "consent"
    raise NoConsentError(
        f"{person_id} has not given {organisation or actor.name!r} consent to check them "
        f"for {purpose!r} (policy {policy.code} is not mandated)"
    )
