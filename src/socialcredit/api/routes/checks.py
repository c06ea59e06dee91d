"""Verifiers ask a policy question within their grant and get an answer, not a record."""

import json

from fastapi import APIRouter, Request, Response

from socialcredit.api.deps import CurrentUser, RegistryDep, clean_purpose
from socialcredit.api.errors import ApiError
from socialcredit.api.limits import RateLimiter, retry_after
from socialcredit.api.params import parse_moment
from socialcredit.api.schemas import CheckIn, CheckOut
from socialcredit.services import standing

__all__ = ["router"]

router = APIRouter(tags=["checks"])


@router.post(
    "/checks",
    response_model=CheckOut,
    summary="Is the person eligible under a policy? Yes or no, with the unmet requirements",
)
def post_check(
    body: CheckIn, request: Request, registry: RegistryDep, user: CurrentUser
) -> Response:
    limiter: RateLimiter = request.app.state.check_limiter
    # Counted before anything else, refusals too: asking is what the limit bounds.
    wait = limiter.acquire(user.id)
    if wait > 0:
        raise ApiError(
            429,
            "rate-limited",
            f"this account may ask {limiter.per_minute} checks per minute",
            headers={"Retry-After": retry_after(wait)},
        )
    policy = body.policy.strip()
    purpose = clean_purpose(body.purpose)
    if not user.may_check(policy, purpose):
        granted = [grant.as_dict() for grant in sorted(user.grants)]
        raise ApiError(
            403,
            "not-granted",
            f"this account may not ask {policy!r} for the purpose {purpose!r}",
            details={"granted": granted},
        )
    result = standing.check(
        registry,
        body.person_id,
        policy,
        purpose=purpose,
        as_of=body.as_of,
        known_at=parse_moment(registry, body.known_at, "known_at"),
        actor=user.actor(),
    )
    # The answer's shape is fixed and tested against CheckOut (schemathesis); serialising it
    # directly spares FastAPI validating what this line just built, on the busiest route.
    answer = {"eligible": result.eligible, "reasons": list(result.reasons)}
    return Response(json.dumps(answer, ensure_ascii=False), media_type="application/json")
