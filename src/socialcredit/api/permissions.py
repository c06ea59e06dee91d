"""Who may call what: one table, deny by default.

Every route of the application has exactly one entry here, keyed by (method, path template).
A route without an entry answers 401 (no credentials) or 403 (any account): adding a route
means adding its line here, and ``tests/api/test_matrix.py`` fails until the expected answer
of every role is written down for it too.

``roles`` may call the route for anyone; ``self_roles`` only for themselves: a resident's
account may read the record of the person it is bound to, and nobody else's.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from socialcredit.services.users import ROLES

__all__ = ["PUBLIC", "ROUTE_ACCESS", "Access", "access_for"]


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[str] = frozenset()
    self_roles: frozenset[str] = frozenset()  # allowed for their own person_id only
    public: bool = False  # no credentials needed (none are looked at)

    def admits(self, role: str) -> bool:
        return role in self.roles or role in self.self_roles


def _roles(*roles: str, self_only: tuple[str, ...] = ()) -> Access:
    unknown = set(roles + self_only) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return Access(frozenset(roles), frozenset(self_only))


PUBLIC = Access(public=True)
API = "/api/v1"

ROUTE_ACCESS: Mapping[tuple[str, str], Access] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", f"{API}/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", f"{API}/catalogue"): PUBLIC,
    ("GET", f"{API}/me"): _roles(*ROLES),
    ("POST", f"{API}/events"): _roles("agency"),
    ("POST", f"{API}/events/bulk"): _roles("agency"),
    ("GET", f"{API}/people/{{person_id}}"): _roles("clerk", self_only=("resident",)),
    ("GET", f"{API}/people/{{person_id}}/statement"): _roles("clerk", self_only=("resident",)),
    ("GET", f"{API}/people/{{person_id}}/access-log"): _roles(
        "clerk", "auditor", self_only=("resident",)
    ),
    ("POST", f"{API}/checks"): _roles("verifier"),
    ("GET", f"{API}/stats"): _roles("admin", "auditor"),
    # The tamper-evident log (docs/ledger.md): keys, checkpoints and consistency are public so
    # that anyone can witness; an entry's proof names a person; checking a statement renders it.
    ("GET", f"{API}/keys"): PUBLIC,
    ("GET", f"{API}/checkpoints"): PUBLIC,
    ("GET", f"{API}/proofs/consistency"): PUBLIC,
    ("GET", f"{API}/proofs/inclusion"): _roles("clerk", "auditor", "admin"),
    ("POST", f"{API}/statements/verify"): _roles(*ROLES),
    # Due process (docs/due-process.md). Contests are not under a person's path: the services
    # scope them (a resident to their own entries, an agency to its own) and say why not.
    ("POST", f"{API}/contests"): _roles("clerk", "resident"),
    ("GET", f"{API}/contests"): _roles("agency", "clerk", "resident", "auditor"),
    ("GET", f"{API}/contests/{{agency}}/{{event_id}}"): _roles(
        "agency", "clerk", "resident", "auditor"
    ),
    ("POST", f"{API}/contests/{{agency}}/{{event_id}}/answer"): _roles("agency", "clerk"),
    ("POST", f"{API}/contests/{{agency}}/{{event_id}}/decision"): _roles("clerk", "admin"),
    ("POST", f"{API}/contests/sweep"): _roles("admin"),
    ("POST", f"{API}/entries/{{agency}}/{{event_id}}/withdraw"): _roles("agency"),
    ("GET", f"{API}/people/{{person_id}}/consents"): _roles("clerk", self_only=("resident",)),
    ("POST", f"{API}/people/{{person_id}}/consents"): _roles("clerk", self_only=("resident",)),
    ("POST", f"{API}/people/{{person_id}}/consents/revoke"): _roles(
        "clerk", self_only=("resident",)
    ),
    ("GET", f"{API}/people/{{person_id}}/notices"): _roles("clerk", self_only=("resident",)),
    ("GET", f"{API}/audit/access"): _roles("auditor", "admin"),
    ("POST", f"{API}/catalogue/diff"): _roles("admin"),
    ("POST", f"{API}/catalogue"): _roles("admin"),
}


def access_for(method: str, path: str | None) -> Access | None:
    """The entry of a route, or ``None`` (nobody may call it).

    The web portal's pages keep their table beside them (``web.access.PAGE_ACCESS``, same
    ``Access``), so that the one dependency guards pages and API alike.
    """
    if path is None:
        return None
    access = ROUTE_ACCESS.get((method, path))
    if access is None:
        from socialcredit.web.access import page_access  # web builds on api: import late

        access = page_access(method, path)
    return access
