"""A verifier asks one policy question within its grant and gets an answer, not a record.

The page offers exactly the account's grants (policy and purpose), so a question outside
them cannot be asked; the answer is eligible or not with the unmet requirements, and never a
score or an entry. Checks count against the same per-account rate limit as the API's
``POST /api/v1/checks``, so the portal is no way around it. A check the person has not
consented to (and that is not mandated) is refused, and the refusal says so plainly.
"""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from socialcredit.api.limits import RateLimiter
from socialcredit.domain.errors import NoConsentError, SocialCreditError
from socialcredit.services import standing
from socialcredit.services.models import CheckResult
from socialcredit.services.users import Grant, User
from socialcredit.web.forms import field
from socialcredit.web.i18n import Translator
from socialcredit.web.pages.common import account, error_status, translator
from socialcredit.web.render import registry_of, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _grants(user: User) -> list[Grant]:
    return sorted(user.grants)


def _grant_options(request: Request, user: User) -> list[tuple[str, str]]:
    registry = registry_of(request)
    language = translator(request).language
    options = []
    for index, grant in enumerate(_grants(user)):
        title = grant.policy
        for catalogue in reversed(registry.catalogues()):
            policy = catalogue.policies.get(grant.policy)
            if policy is not None:
                title = (policy.title_zh if language == "zh" else None) or policy.title
                break
        options.append((str(index), f"{title} ({grant.policy}) — {grant.purpose}"))
    return options


def _page(request: Request, *, status: int = 200, **context: Any) -> HTMLResponse:
    user = account(request)
    values: dict[str, Any] = {
        "chosen": "",
        "person_id": "",
        "answer": None,
        "policy_title": "",
        "policy_lang": "en",
        "error": "",
        "error_title": "",
        **context,
    }
    return render(
        request,
        "verifier.html",
        title="verifier.title",
        status=status,
        organisation=user.organisation or user.name,
        grants=_grant_options(request, user),
        **values,
    )


@router.get("/verifier")
def ask_form(request: Request) -> HTMLResponse:
    return _page(request)


def _policy_title(request: Request, answer: CheckResult, t: Translator) -> tuple[str, str]:
    policy = registry_of(request).in_force(answer.as_of).policies[answer.policy]
    if t.language == "zh" and policy.title_zh:
        return policy.title_zh, "zh-Hans"
    return policy.title, "en"


def _refusal(t: Translator, refused: SocialCreditError) -> tuple[str, str]:
    """A heading that says plainly what happened, and the service's reason."""
    if isinstance(refused, NoConsentError):
        return t("verifier.no_consent"), t("verifier.no_consent.text")
    return t("verifier.refused"), refused.message


def _answer(request: Request, user: User, chosen: str, person_id: str) -> HTMLResponse:
    """Ask the chosen grant's question (blocking: runs in the thread pool)."""
    t = translator(request)
    asked: dict[str, Any] = {"chosen": chosen, "person_id": person_id}
    limiter: RateLimiter = request.app.state.check_limiter
    if limiter.acquire(user.id) > 0:  # counted before anything else, refusals too, as the API
        error = t("verifier.rate_limited", n=limiter.per_minute)
        return _page(request, status=429, error=error, error_title=t("verifier.refused"), **asked)
    grants = _grants(user)
    if not chosen.isdigit() or int(chosen) >= len(grants):
        error = t("verifier.pick_grant")
        return _page(request, status=400, error=error, error_title=t("verifier.refused"))
    grant = grants[int(chosen)]
    try:
        answer = standing.check(
            registry_of(request), person_id, grant.policy, purpose=grant.purpose,
            actor=user.actor(),
        )  # fmt: skip
    except SocialCreditError as refused:
        title, text = _refusal(t, refused)
        status = error_status(refused)
        return _page(request, status=status, error=text, error_title=title, **asked)
    policy_title, policy_lang = _policy_title(request, answer, t)
    return _page(
        request, answer=answer, policy_title=policy_title, policy_lang=policy_lang, **asked
    )


@router.post("/verifier")
async def ask(request: Request) -> HTMLResponse:
    form = await request.form()
    chosen = field(form, "grant", limit=10)
    person_id = field(form, "person_id", limit=40)
    return await run_in_threadpool(_answer, request, account(request), chosen, person_id)
