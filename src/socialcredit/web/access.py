"""Who may open which page: one table, deny by default, in the API's style.

Every page route has exactly one entry here, keyed by (method, path template), with the same
``Access`` the API's routes use (``api.permissions``). The application's one authorisation
dependency (``api.auth.authorise``) finds a page's entry through ``permissions.access_for``,
so a page and an API route are guarded by the same code: no credentials -> 401 (which a page
turns into a redirect to the login form), a role not listed -> 403, a state-changing request
made with the session cookie but without the session's CSRF token -> 403.

A page route without an entry answers nobody, and ``tests/web/test_page_matrix.py`` fails
until the expected answer of every role is written down for it too.

Public pages that take a form (login, checking a statement) have no session to hold a CSRF
token: they check a double-submitted one instead (``web.forms``).
"""

from collections.abc import Mapping

from socialcredit.api.permissions import PUBLIC, Access
from socialcredit.services.users import ROLES

__all__ = ["PAGE_ACCESS", "ROLE_HOME", "page_access"]


def _roles(*roles: str) -> Access:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    return Access(frozenset(roles))


CLERK = _roles("clerk")
RESIDENT = _roles("resident")
AGENCY = _roles("agency")
VERIFIER = _roles("verifier")
# The dashboard shows aggregates only, as GET /api/v1/stats, to the same roles.
OFFICE_STATS = _roles("admin", "auditor")

PAGE_ACCESS: Mapping[tuple[str, str], Access] = {
    # Anyone: the front page, logging in, the language switch, the stylesheet, the published
    # catalogue and checking a statement one was handed.
    ("GET", "/"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/language"): PUBLIC,
    ("GET", "/static/portal.css"): PUBLIC,
    ("GET", "/catalogue"): PUBLIC,
    ("GET", "/check-a-statement"): PUBLIC,
    ("POST", "/check-a-statement"): PUBLIC,
    ("POST", "/logout"): _roles(*ROLES),
    # The office's clerks: a person's record, the printed statement, contests for them, and
    # the review queue of contests.
    ("GET", "/clerk"): CLERK,
    ("GET", "/clerk/people/{person_id}"): CLERK,
    ("GET", "/clerk/people/{person_id}/statement.pdf"): CLERK,
    ("POST", "/clerk/people/{person_id}/contests"): CLERK,
    ("GET", "/clerk/contests"): CLERK,
    ("POST", "/clerk/contests/decide"): CLERK,
    ("POST", "/clerk/contests/sweep"): CLERK,
    # A resident: always their own record (no person in the path, so nobody else's).
    ("GET", "/me"): RESIDENT,
    ("GET", "/me/statement.pdf"): RESIDENT,
    ("GET", "/me/access-log"): RESIDENT,
    ("GET", "/me/notices"): RESIDENT,
    ("POST", "/me/contests"): RESIDENT,
    ("GET", "/me/consents"): RESIDENT,
    ("POST", "/me/consents/grant"): RESIDENT,
    ("POST", "/me/consents/revoke"): RESIDENT,
    # A reporting agency: its contest queue and its uploads.
    ("GET", "/agency/contests"): AGENCY,
    ("POST", "/agency/contests/answer"): AGENCY,
    ("GET", "/agency/upload"): AGENCY,
    ("POST", "/agency/upload"): AGENCY,
    ("GET", "/agency/rejects/{token}"): AGENCY,
    # A verifier: one policy question within its grant.
    ("GET", "/verifier"): VERIFIER,
    ("POST", "/verifier"): VERIFIER,
    # The office's dashboard (aggregates) and the auditors' access-log search.
    ("GET", "/admin"): OFFICE_STATS,
    ("GET", "/admin/plots/grades.png"): OFFICE_STATS,
    ("GET", "/admin/plots/entries.png"): OFFICE_STATS,
    ("GET", "/auditor"): _roles("auditor"),
}

# Where each role lands after logging in.
ROLE_HOME: Mapping[str, str] = {
    "agency": "/agency/contests",
    "clerk": "/clerk",
    "resident": "/me",
    "verifier": "/verifier",
    "admin": "/admin",
    "auditor": "/auditor",
}


def page_access(method: str, path: str) -> Access | None:
    """The entry of a page route, or ``None`` (not a page, or nobody may open it)."""
    return PAGE_ACCESS.get((method, path))
