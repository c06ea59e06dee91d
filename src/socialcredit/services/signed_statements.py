"""Signed statements: the office's Ed25519 signature over a statement's content.

A signed statement is the canonical JSON (``ledger.canonical_json``) of

    {"format", "kind": "full" | "minimal", "statement": <content>, "checkpoint": <the signed
     checkpoint it was issued under>, "key_id", "signed_at"}

and a detached signature over its UTF-8 bytes. ``content`` is ``Statement.as_dict()`` (person,
score, grade, blacklist, every entry with rule, agency, dates, points, counting window, status)
or, for a verifier, the minimal content: the person, the grade and one policy answer.

The QR code carries a short *token* that can be checked offline with the published public key:
``SCS1.<summary>.<signature>`` (base64url), where the summary names the person, the score or
policy answer, the grade, the signing key and time, and the SHA-256 of the signed statement, so
that the token vouches for the full statement too.
"""

import base64
import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, get_args

from socialcredit.services import keys, ledger, standing
from socialcredit.services.access import LOCAL, Actor
from socialcredit.services.models import Statement, StatementEntry
from socialcredit.services.registry import Registry
from socialcredit.store.repository import get_person

__all__ = [
    "ATTACHMENT_NAME",
    "Minimal",
    "SignedStatement",
    "TokenCheck",
    "check_signed",
    "check_token",
    "minimal_statement",
    "sign_minimal",
    "sign_statement",
    "statement_from_dict",
]

STATEMENT_FORMAT = "socialcredit-signed-statement/v1"
SUMMARY_FORMAT = "socialcredit-statement-token/v1"
ATTACHMENT_FORMAT = "socialcredit-statement-attachment/v1"
ATTACHMENT_NAME = "socialcredit-signed-statement.json"
TOKEN_PREFIX = "SCS1"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Minimal:
    """What a verifier is given: who, the grade, and the answer to one policy question."""

    id: str
    name: str
    as_of: date
    grade: str
    policy: str
    policy_title: str
    eligible: bool
    reasons: tuple[dict[str, Any], ...]
    purpose: str
    issued_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "as_of": self.as_of.isoformat(),
            "grade": self.grade,
            "policy": self.policy,
            "policy_title": self.policy_title,
            "eligible": self.eligible,
            "reasons": list(self.reasons),
            "purpose": self.purpose,
            "issued_at": self.issued_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class SignedStatement:
    body: str  # canonical JSON, as signed
    signature: bytes
    token: str  # the QR code's text

    @property
    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def content(self) -> dict[str, Any]:
        content: dict[str, Any] = self.document["statement"]
        return content

    @property
    def checkpoint(self) -> ledger.Checkpoint:
        return ledger.Checkpoint.from_dict(self.document["checkpoint"])

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()

    def attachment(self) -> str:
        """The JSON file embedded in the PDF."""
        return json.dumps(
            {
                "format": ATTACHMENT_FORMAT,
                "statement": self.body,
                "signature": base64.b64encode(self.signature).decode(),
                "token": self.token,
            },
            ensure_ascii=False,
            indent=2,
        )

    @classmethod
    def from_attachment(cls, text: str) -> "SignedStatement":
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("format") != ATTACHMENT_FORMAT:
            raise ValueError(f"format {ATTACHMENT_FORMAT} expected")
        return cls(str(data["statement"]), base64.b64decode(data["signature"]), str(data["token"]))


def _summary(document: dict[str, Any], body_sha256: str) -> dict[str, Any]:
    content = document["statement"]
    summary = {
        "format": SUMMARY_FORMAT,
        "kind": document["kind"],
        "id": content["id"],
        "name": content["name"],
        "as_of": content["as_of"],
        "grade": content["grade"],
        "key_id": document["key_id"],
        "signed_at": document["signed_at"],
        "statement_sha256": body_sha256,
    }
    if document["kind"] == "full":
        summary.update(score=content["score"], blacklisted=content["blacklisted"])
    else:
        summary.update(policy=content["policy"], eligible=content["eligible"])
    return summary


def _sign(registry: Registry, kind: str, content: dict[str, Any]) -> SignedStatement:
    checkpoint = ledger.current_checkpoint(registry)
    record, private = keys.signing_key(registry)
    document = {
        "format": STATEMENT_FORMAT,
        "kind": kind,
        "statement": content,
        "checkpoint": checkpoint.as_dict(),
        "key_id": record.key_id,
        "signed_at": keys.iso_time(registry.clock.now()),
    }
    body = ledger.canonical_json(document)
    summary = ledger.canonical_json(_summary(document, hashlib.sha256(body.encode()).hexdigest()))
    token = ".".join(
        [TOKEN_PREFIX, _b64url(summary.encode()), _b64url(private.sign(summary.encode()))]
    )
    return SignedStatement(body, private.sign(body.encode()), token)


def sign_statement(registry: Registry, statement: Statement) -> SignedStatement:
    """Sign a full statement under a checkpoint that covers every leaf written so far."""
    return _sign(registry, "full", statement.as_dict())


def minimal_statement(
    registry: Registry,
    person_id: str,
    policy: str,
    *,
    purpose: str,
    as_of: date | None = None,
    actor: Actor = LOCAL,
) -> Minimal:
    """The grade and one policy answer for a verifier (both reads are logged for the person)."""
    answer = standing.check(registry, person_id, policy, purpose=purpose, as_of=as_of, actor=actor)
    result = standing.score(registry, person_id, as_of=answer.as_of, actor=actor, purpose=purpose)
    statement_policy = registry.in_force(answer.as_of).policies[answer.policy]
    with registry.database.read() as connection:
        person = get_person(connection, result.id)
    return Minimal(
        id=result.id,
        name=str(person["name"]) if person else "",
        as_of=answer.as_of,
        grade=result.grade,
        policy=answer.policy,
        policy_title=statement_policy.title,
        eligible=answer.eligible,
        reasons=answer.reasons,
        purpose=purpose,
        issued_at=registry.clock.now().astimezone(registry.clock.zone),
    )


def sign_minimal(registry: Registry, minimal: Minimal) -> SignedStatement:
    """Sign a verifier's minimal statement (the grade and one policy answer)."""
    return _sign(registry, "minimal", minimal.as_dict())


# --- checking -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenCheck:
    summary: dict[str, Any]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def _signed_at(text: Any) -> datetime | None:
    try:
        return keys.parse_time(str(text))
    except ValueError:
        return None


def check_token(token: str, keyring: keys.Keyring) -> TokenCheck:
    """Check a QR token by itself: a summary signed by one of the office's keys."""
    parts = token.strip().split(".")
    try:
        if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
            raise ValueError("not SCS1.<summary>.<signature>")
        summary_bytes, signature = _unb64url(parts[1]), _unb64url(parts[2])
        summary = json.loads(summary_bytes)
        if not isinstance(summary, dict) or summary.get("format") != SUMMARY_FORMAT:
            raise ValueError(f"format {SUMMARY_FORMAT} expected")
    except (ValueError, UnicodeDecodeError) as error:
        return TokenCheck({}, (f"the QR code is not a statement token ({error})",))
    moment = _signed_at(summary.get("signed_at"))
    if moment is None:
        return TokenCheck(summary, ("the QR code's signing time is not a timestamp",))
    problem = keyring.check(str(summary.get("key_id")), summary_bytes, signature, moment)
    return TokenCheck(summary, (f"QR code: {problem}",) if problem else ())


def check_signed(signed: SignedStatement, keyring: keys.Keyring) -> list[str]:
    """Why a signed statement (body, signature, token, checkpoint) is not valid; empty: it is."""
    try:
        document = signed.document
        moment = _signed_at(document["signed_at"])
        key_id = str(document["key_id"])
        if document.get("format") != STATEMENT_FORMAT or moment is None:
            raise ValueError(f"format {STATEMENT_FORMAT} expected")
    except (ValueError, KeyError, TypeError) as error:
        return [f"the attached statement is not a signed statement ({error})"]
    problems = []
    problem = keyring.check(key_id, signed.body.encode(), signed.signature, moment)
    if problem:
        problems.append(problem)
    token = check_token(signed.token, keyring)
    problems.extend(token.problems)
    if token.valid and token.summary != _summary(document, signed.sha256):
        problems.append("the QR code does not vouch for this statement (its summary differs)")
    try:
        checkpoint_problem = ledger.checkpoint_problem(keyring, signed.checkpoint)
    except (ValueError, KeyError, TypeError) as error:
        checkpoint_problem = f"unreadable ({error})"
    if checkpoint_problem:
        problems.append(f"the checkpoint it was issued under: {checkpoint_problem}")
    return problems


# --- the content back as objects (to print it again and compare) ----------------------------


def _value(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    types = get_args(kind) or (kind,)
    if datetime in types:
        return datetime.fromisoformat(value)
    if date in types:
        return date.fromisoformat(value)
    return value


def statement_from_dict(data: dict[str, Any]) -> Statement:
    """A ``Statement`` from its ``as_dict()`` (the signed content)."""
    entries = tuple(
        StatementEntry(
            **{
                f.name: _value(f.type, item[f.name])
                for f in fields(StatementEntry)
                if f.name in item
            }
        )
        for item in data.get("entries", [])
    )
    values = {
        f.name: _value(f.type, data.get(f.name))
        for f in fields(Statement)
        if f.name in data and f.name != "entries"
    }
    return Statement(**values, entries=entries)


def minimal_from_dict(data: dict[str, Any]) -> Minimal:
    return Minimal(
        id=data["id"],
        name=data["name"],
        as_of=date.fromisoformat(data["as_of"]),
        grade=data["grade"],
        policy=data["policy"],
        policy_title=data["policy_title"],
        eligible=bool(data["eligible"]),
        reasons=tuple(data["reasons"]),
        purpose=data["purpose"],
        issued_at=datetime.fromisoformat(data["issued_at"]),
    )
