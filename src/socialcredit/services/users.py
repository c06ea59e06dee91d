"""Accounts of the HTTP API and the portal: users, roles, verifier grants, tokens and sessions.

Six roles (DESIGN.md, issue 3): ``agency`` (bound to one agency code), ``clerk``, ``resident``
(bound to one person ID), ``verifier`` (bound to an organisation, with the (policy, purpose)
pairs it may ask), ``admin`` and ``auditor``.

Tokens. An API token is ``sc_<user id>_<secret>``: 32 random bytes (URL-safe base64), shown
once at creation and stored only as an argon2 hash. The user id in front lets a request look up
exactly one account row instead of trying every hash; the secret is what proves possession.
Argon2 is deliberately slow (tens of milliseconds), too slow to run on every request at
hundreds of requests per second, so a successful verification is remembered in memory for
``token_cache_seconds``, keyed by the SHA-256 of the token (the token itself is not kept).
A revocation in this process forgets the account's cached tokens at once; another process
(``socialcredit users revoke`` beside a running server) is seen within the cache lifetime.

Sessions (the portal). A login creates a new random session id every time (so a session id
planted before login is worthless: session fixation) and revokes the one it replaces; the
database keeps only the SHA-256 of the cookie value, next to a CSRF token and the expiry.
"""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, insert, select, update

from socialcredit.domain.errors import InputError, NotFoundError
from socialcredit.services.access import Actor
from socialcredit.services.registry import Registry
from socialcredit.services.standing import registered_person_id
from socialcredit.services.token_cache import TokenCache
from socialcredit.store import ledger
from socialcredit.store.schema import sessions, users, verifier_grants

__all__ = [
    "OFFICE",
    "ROLES",
    "Grant",
    "NewSession",
    "NewUser",
    "SessionInfo",
    "TokenCache",
    "User",
    "add_user",
    "authenticate_token",
    "cached_token_user",
    "create_session",
    "csrf_matches",
    "find_user",
    "list_users",
    "login",
    "parse_grant",
    "revoke_session",
    "revoke_user",
    "verify_session",
]

ROLES = ("agency", "clerk", "resident", "verifier", "admin", "auditor")
OFFICE = "Social Credit Management Office"
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,127}", re.ASCII)
TOKEN = re.compile(r"sc_([1-9][0-9]{0,15})_([A-Za-z0-9_-]{43})", re.ASCII)
SECRET_BYTES = 32  # 256 bits: guessing is hopeless, so argon2 guards only a leaked table
MAX_PURPOSE_CHARS = 200
MAX_GRANTS = 100
CACHE_ENTRIES = 10_000  # tokens remembered per process; the oldest is forgotten first
LIST_LIMIT = 10_000

# OWASP's minimum argon2id profile (19 MiB, 2 passes, 1 lane): about 60 ms here. A token is
# 256 random bits, so no hash could be brute-forced; argon2 is kept so that a leaked users
# table is worthless even if secrets ever become human-chosen (portal passwords). The
# parameters travel inside each hash: changing them later does not break stored tokens.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """A (policy, purpose) pair a verifier may ask about."""

    policy: str
    purpose: str

    def as_dict(self) -> dict[str, str]:
        return {"policy": self.policy, "purpose": self.purpose}


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    agency: str | None
    person_id: str | None
    organisation: str | None
    created_at: datetime
    revoked_at: datetime | None = None
    grants: frozenset[Grant] = field(default_factory=frozenset)

    def actor(self) -> Actor:
        """Who this account is in the access log."""
        organisation = self.organisation
        if organisation is None and self.role in ("clerk", "admin", "auditor"):
            organisation = OFFICE
        if organisation is None and self.role == "agency":
            organisation = self.agency
        return Actor(self.name, self.role, organisation, self.agency, self.person_id)

    def may_check(self, policy: str, purpose: str) -> bool:
        return self.role == "verifier" and Grant(policy, purpose) in self.grants

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "agency": self.agency,
            "person_id": self.person_id,
            "organisation": self.organisation,
            "grants": [grant.as_dict() for grant in sorted(self.grants)],
            "created_at": self.created_at.isoformat(),
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class NewUser:
    user: User
    token: str  # shown once; only its hash is stored


def parse_grant(text: str) -> Grant:
    """``POLICY:PURPOSE`` (the purpose may hold colons) as a ``Grant``."""
    policy, colon, purpose = text.partition(":")
    if not colon or not policy.strip() or not purpose.strip():
        raise InputError(f"grant {text!r} is not POLICY:PURPOSE", code="invalid-grant")
    return Grant(policy.strip(), purpose.strip())


def _check_text(what: str, value: str, limit: int) -> str:
    value = value.strip()
    if not value or len(value) > limit or not value.isprintable():
        raise InputError(f"{what} must be 1 to {limit} printable characters")
    return value


def _check_grants(registry: Registry, grants: Iterable[Grant]) -> frozenset[Grant]:
    known = {code for catalogue in registry.catalogues() for code in catalogue.policies}
    checked = set()
    for grant in grants:
        if grant.policy not in known:
            raise InputError(
                f"grant {grant.policy}:{grant.purpose}: no policy {grant.policy!r} in any "
                f"loaded catalogue version (known: {', '.join(sorted(known)) or 'none'})",
                code="unknown-policy",
            )
        purpose = _check_text("a grant's purpose", grant.purpose, MAX_PURPOSE_CHARS)
        checked.add(Grant(grant.policy, purpose))
    if len(checked) > MAX_GRANTS:
        raise InputError(f"a verifier may hold at most {MAX_GRANTS} grants")
    return frozenset(checked)


@dataclass(frozen=True, slots=True)
class _Binding:
    agency: str | None = None
    person_id: str | None = None
    organisation: str | None = None
    grants: frozenset[Grant] = frozenset()


def _binding(
    registry: Registry,
    role: str,
    agency: str | None,
    person_id: str | None,
    organisation: str | None,
    grants: Sequence[Grant],
) -> _Binding:
    """What the role is bound to; refuses a missing binding and one the role cannot have."""
    if role not in ROLES:
        raise InputError(f"role {role!r} is not one of {', '.join(ROLES)}", code="invalid-role")
    wrong = [
        option
        for option, value, owner in (
            ("--agency", agency, "agency"),
            ("--person", person_id, "resident"),
            ("--grant", grants or None, "verifier"),
        )
        if value is not None and role != owner
    ]
    if wrong:
        raise InputError(f"role {role} takes no {', '.join(wrong)}")
    org = None
    if organisation is not None:
        org = _check_text("organisation", organisation, MAX_PURPOSE_CHARS)
    if role == "agency":
        known = {code for catalogue in registry.catalogues() for code in catalogue.agencies}
        if agency is None or agency.strip() not in known:
            raise InputError(
                f"role agency needs --agency, one of the catalogue's agencies (got {agency!r})",
                code="unknown-agency",
            )
        return _Binding(agency=agency.strip(), organisation=org)
    if role == "resident":
        if person_id is None:
            raise InputError("role resident needs --person, the resident's ID")
        return _Binding(person_id=registered_person_id(registry, person_id), organisation=org)
    if role == "verifier":
        if org is None or not grants:
            raise InputError("role verifier needs --organisation and at least one --grant")
        return _Binding(organisation=org, grants=_check_grants(registry, grants))
    return _Binding(organisation=org)


def _write_account(
    connection: Connection, name: str, role: str, binding: _Binding, created_at: datetime
) -> tuple[int, str]:
    """Insert the account, its token's hash and its grants; returns (id, token)."""
    ledger.begin(connection, "users")  # the log's lock first, as every writer takes it
    if connection.execute(select(users.c.id).where(users.c.name == name)).first():
        raise InputError(f"a user named {name!r} exists already", code="name-taken")
    user_id = connection.execute(
        insert(users)
        .values(
            name=name,
            role=role,
            agency=binding.agency,
            person_id=binding.person_id,
            organisation=binding.organisation,
            secret_hash="!",  # replaced below, once the id (part of the token) is known
            created_at=created_at,
        )
        .returning(users.c.id)
    ).scalar_one()
    token = f"sc_{user_id}_{secrets.token_urlsafe(SECRET_BYTES)}"
    secret_hash = _HASHER.hash(token)
    connection.execute(update(users).where(users.c.id == user_id).values(secret_hash=secret_hash))
    account = {
        "id": user_id,
        "name": name,
        "role": role,
        "agency": binding.agency,
        "person_id": binding.person_id,
        "organisation": binding.organisation,
        "secret_hash": secret_hash,
        "created_at": created_at,
    }
    ledger.record_rows(connection, "users", [account])  # the account as finally written
    for grant in sorted(binding.grants):
        row = {
            "user_id": user_id,
            "policy": grant.policy,
            "purpose": grant.purpose,
            "recorded_at": created_at,
        }
        ledger.insert_row(connection, "verifier_grants", row)
    return int(user_id), token


def add_user(
    registry: Registry,
    name: str,
    role: str,
    *,
    agency: str | None = None,
    person_id: str | None = None,
    organisation: str | None = None,
    grants: Sequence[Grant] = (),
) -> NewUser:
    """Create an account and its token (returned once; only the argon2 hash is stored)."""
    if not NAME.fullmatch(name):
        raise InputError(
            f"user name {name!r}: 1 to 128 of A-Z a-z 0-9 . _ @ -, starting with a letter or digit"
        )
    binding = _binding(registry, role, agency, person_id, organisation, grants)
    created_at = registry.clock.now()
    with registry.database.write() as connection:
        user_id, token = _write_account(connection, name, role, binding, created_at)
    user = User(
        user_id,
        name,
        role,
        binding.agency,
        binding.person_id,
        binding.organisation,
        created_at,
        None,
        binding.grants,
    )
    return NewUser(user, token)


def _grants_of(connection: Connection, user_ids: Sequence[int]) -> dict[int, set[Grant]]:
    found: dict[int, set[Grant]] = {user_id: set() for user_id in user_ids}
    if not user_ids:
        return found
    query = select(verifier_grants.c.user_id, verifier_grants.c.policy, verifier_grants.c.purpose)
    for row in connection.execute(query.where(verifier_grants.c.user_id.in_(list(user_ids)))):
        found[row.user_id].add(Grant(row.policy, row.purpose))
    return found


def _user(row: Any, grants: Iterable[Grant]) -> User:
    return User(
        row.id,
        row.name,
        row.role,
        row.agency,
        row.person_id,
        row.organisation,
        row.created_at,
        row.revoked_at,
        frozenset(grants),
    )


def list_users(
    registry: Registry, *, after_id: int | None = None, limit: int = LIST_LIMIT
) -> list[User]:
    """Accounts by id (revoked ones too), at most ``limit`` after ``after_id``."""
    query = select(users).order_by(users.c.id).limit(max(1, min(limit, LIST_LIMIT)))
    if after_id is not None:
        query = query.where(users.c.id > after_id)
    with registry.database.read() as connection:
        rows = connection.execute(query).all()
        grants = _grants_of(connection, [row.id for row in rows])
    return [_user(row, grants[row.id]) for row in rows]


def find_user(registry: Registry, name: str) -> User:
    with registry.database.read() as connection:
        row = connection.execute(select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no user named {name!r}")
        return _user(row, _grants_of(connection, [row.id])[row.id])


def revoke_user(registry: Registry, name: str) -> User:
    """Revoke an account: its token and sessions stop working (idempotent)."""
    user = find_user(registry, name)
    if user.revoked_at is None:
        moment = registry.clock.now()
        with registry.database.write() as connection:
            revoked = connection.execute(
                update(users)
                .where(users.c.id == user.id, users.c.revoked_at.is_(None))
                .values(revoked_at=moment)
            )
            if revoked.rowcount:  # written in place: the revocation is a leaf of its own
                ledger.record_revocation(connection, user.id, moment)
            connection.execute(
                update(sessions)
                .where(sessions.c.user_id == user.id, sessions.c.revoked_at.is_(None))
                .values(revoked_at=moment)
            )
        user = find_user(registry, name)
    TOKENS.forget_user(registry.database.url, user.id)
    return user


# --- tokens ----------------------------------------------------------------------------------


TOKENS: TokenCache[User] = TokenCache(CACHE_ENTRIES)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _verify(secret_hash: str, token: str) -> bool:
    try:
        return _HASHER.verify(secret_hash, token)
    except (VerificationError, InvalidHashError):
        return False


def _active_user(connection: Connection, user_id: int) -> User | None:
    row = connection.execute(select(users).where(users.c.id == user_id)).first()
    if row is None or row.revoked_at is not None:
        return None
    return _user(row, _grants_of(connection, [row.id])[row.id])


def cached_token_user(registry: Registry, token: str) -> User | None:
    """The account of a token verified within ``token_cache_seconds``, from memory only."""
    if registry.settings.token_cache_seconds <= 0 or len(token) > 80:
        return None
    return TOKENS.get((registry.database.url, _digest(token)))


def authenticate_token(registry: Registry, token: str) -> User | None:
    """The active account holding ``token``, or ``None`` (malformed, unknown, wrong, revoked)."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    ttl = registry.settings.token_cache_seconds
    key = (registry.database.url, _digest(token))
    if ttl > 0 and (cached := TOKENS.get(key)) is not None:
        return cached
    with registry.database.read() as connection:
        row = connection.execute(select(users).where(users.c.id == int(match.group(1)))).first()
        if row is None or row.revoked_at is not None:
            return None
        grants = _grants_of(connection, [row.id])[row.id]
    if not _verify(row.secret_hash, token):
        return None
    user = _user(row, grants)
    if ttl > 0:
        TOKENS.put(key, user, ttl)
    return user


# --- sessions (the portal) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewSession:
    cookie: str  # the cookie value: give it to the browser, never store it
    csrf: str
    expires_at: datetime
    user: User


@dataclass(frozen=True, slots=True)
class SessionInfo:
    session_id: str  # SHA-256 of the cookie value
    csrf: str
    expires_at: datetime
    user: User


def create_session(registry: Registry, user: User, *, replacing: str | None = None) -> NewSession:
    """A fresh session for ``user``; the session cookie ``replacing`` (if any) is revoked."""
    now = registry.clock.now()
    cookie = secrets.token_urlsafe(SECRET_BYTES)
    csrf = secrets.token_urlsafe(SECRET_BYTES)
    expires_at = now + timedelta(minutes=registry.settings.session_minutes)
    with registry.database.write() as connection:
        if replacing:
            connection.execute(
                update(sessions)
                .where(sessions.c.id == _digest(replacing), sessions.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
        connection.execute(
            insert(sessions).values(
                id=_digest(cookie),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                expires_at=expires_at,
            )
        )
    return NewSession(cookie, csrf, expires_at, user)


def login(
    registry: Registry, name: str, token: str, *, replacing: str | None = None
) -> NewSession | None:
    """Log in with a user name and its token; ``None`` when they do not belong together."""
    user = authenticate_token(registry, token.strip())
    if user is None or not hmac.compare_digest(user.name.encode(), name.strip().encode()):
        return None
    return create_session(registry, user, replacing=replacing)


def verify_session(registry: Registry, cookie: str) -> SessionInfo | None:
    """The live session of a cookie value: not revoked, not expired, its user not revoked."""
    if not cookie or len(cookie) > 128:
        return None
    session_id = _digest(cookie)
    with registry.database.read() as connection:
        row = connection.execute(select(sessions).where(sessions.c.id == session_id)).first()
        if row is None or row.revoked_at is not None or row.expires_at <= registry.clock.now():
            return None
        user = _active_user(connection, row.user_id)
    if user is None:
        return None
    return SessionInfo(session_id, row.csrf, row.expires_at, user)


def revoke_session(registry: Registry, cookie: str) -> None:
    """Log out: the session stops working (idempotent)."""
    with registry.database.write() as connection:
        connection.execute(
            update(sessions)
            .where(sessions.c.id == _digest(cookie), sessions.c.revoked_at.is_(None))
            .values(revoked_at=registry.clock.now())
        )


def csrf_matches(session: SessionInfo, submitted: str | None) -> bool:
    """Does a form's or header's CSRF token match the session's (constant time)?"""
    if not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
