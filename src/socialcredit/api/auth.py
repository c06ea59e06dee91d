"""Authentication and authorisation: one dependency that every API route runs.

``authorise`` is installed on the application as a global dependency, so no route can forget
it. It finds the route's entry in ``permissions.ROUTE_ACCESS`` (none: nobody may call it),
authenticates the caller (a bearer token, else the portal's session cookie with its CSRF
token on state-changing requests) and checks the role, and for ``self_roles`` that the
``person_id`` in the path is the account's own. Handlers then take ``current_user``.

A token verification that misses the in-memory cache (argon2: tens of milliseconds) runs in
the thread pool, never on the event loop; a cache hit costs a SHA-256 and a dict lookup.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import iter_route_contexts
from starlette.concurrency import run_in_threadpool

from socialcredit.api.errors import ApiError
from socialcredit.api.permissions import access_for
from socialcredit.api.sessions import csrf_ok, session_cookie
from socialcredit.domain.ids import normalise_person_id
from socialcredit.services import users
from socialcredit.services.registry import Registry
from socialcredit.services.users import SessionInfo, User

__all__ = ["Principal", "authorise", "current_user", "registry_of", "route_table"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="socialcredit"'}


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    session: SessionInfo | None = None  # set when the caller came with the portal's cookie


def route_table(app: FastAPI) -> dict[tuple[str, Callable[..., Any]], str]:
    """(method, endpoint) -> path template of every route, prefixes included.

    Included routers keep their routes' own paths (without the prefix) in ``scope["route"]``,
    so the full template is found by the endpoint the router matched.
    """
    return {
        (method, context.endpoint): str(context.path)
        for context in iter_route_contexts(app.routes)
        if context.endpoint is not None
        for method in context.methods or ()
        if method != "HEAD"
    }


def _route_path(request: Request) -> str | None:
    state = request.app.state
    table = getattr(state, "route_paths", None)
    if table is None:  # built on first use: routes may be added after create_app
        table = state.route_paths = route_table(request.app)
    return table.get((request.method, request.scope.get("endpoint")))


def registry_of(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, headers=_CHALLENGE)


async def _from_token(registry: Registry, header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("the Authorization header must be 'Bearer <token>'")
    user = users.cached_token_user(registry, token)
    if user is None:
        user = await run_in_threadpool(users.authenticate_token, registry, token)
    if user is None:
        raise ApiError(
            401,
            "invalid-token",
            "the token is not valid (mistyped, unknown or revoked)",
            headers={"WWW-Authenticate": 'Bearer realm="socialcredit", error="invalid_token"'},
        )
    return Principal(user)


async def _from_session(request: Request, registry: Registry, cookie: str) -> Principal | None:
    session = await run_in_threadpool(users.verify_session, registry, cookie)
    if session is None:
        return None
    if not await csrf_ok(request, session):
        raise ApiError(403, "csrf-failed", "the request lacks the session's CSRF token")
    return Principal(session.user, session)


async def _authenticate(request: Request) -> Principal | None:
    registry = registry_of(request)
    header = request.headers.get("authorization")
    if header is not None:
        return await _from_token(registry, header)
    cookie = session_cookie(request)
    if cookie is not None:
        return await _from_session(request, registry, cookie)
    return None


def _own_record(principal: Principal, request: Request) -> bool:
    raw = request.path_params.get("person_id")
    bound = principal.user.person_id
    return isinstance(raw, str) and bound is not None and normalise_person_id(raw) == bound


async def authorise(request: Request) -> None:
    """The global dependency: authenticate, then allow or refuse by the route's entry."""
    access = access_for(request.method, _route_path(request))
    if access is not None and access.public:
        return  # credentials are not even looked at
    principal = await _authenticate(request)
    if principal is None:
        raise _unauthenticated("this resource needs a bearer token")
    request.state.principal = principal
    role = principal.user.role
    if access is None or not access.admits(role):
        raise ApiError(403, "forbidden", f"the role {role} may not use this resource")
    if role not in access.roles and not _own_record(principal, request):
        raise ApiError(403, "not-your-record", "this account may read only its own record")


async def current_user(request: Request) -> User:
    """The authenticated account (set by ``authorise``)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # a public route asked for a user: a wiring mistake, not a client's
        raise RuntimeError("current_user on a route that authorise did not authenticate")
    return principal.user
