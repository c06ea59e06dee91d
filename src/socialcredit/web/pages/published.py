"""What the office publishes for everyone: the catalogue, and checking a signed statement."""

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from socialcredit.api.errors import ApiError
from socialcredit.domain.errors import NoCatalogueError
from socialcredit.services import keys
from socialcredit.services.registry import Registry
from socialcredit.services.signed_statements import check_token
from socialcredit.web.forms import check_form_token, field, uploads
from socialcredit.web.i18n import Translator
from socialcredit.web.pages.common import settings_of, translator
from socialcredit.web.render import optional_viewer, registry_of, render
from socialcredit.web.views import catalogue_view

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_TOKEN_CHARS = 4096
FACTS = ("as_of", "score", "grade", "blacklisted", "policy", "eligible", "purpose")


@router.get("/catalogue")
def catalogue(request: Request, version: str = "") -> HTMLResponse:
    optional_viewer(request)
    registry = registry_of(request)
    versions = registry.catalogues()
    try:
        in_force: str | None = registry.in_force(registry.clock.today()).version
    except NoCatalogueError:
        in_force = None
    chosen = version.strip() or in_force or (versions[-1].version if versions else "")
    shown = next((c for c in versions if c.version == chosen), None)
    if versions and shown is None:
        raise ApiError(404, "unknown-version", f"no catalogue version {chosen!r}")
    context: dict[str, Any] = {} if shown is None else catalogue_view(shown, translator(request))
    return render(
        request,
        "catalogue.html",
        title="catalogue.title",
        versions=versions,
        in_force=in_force,
        **context,
    )


def _check_page(
    request: Request, *, result: dict[str, Any] | None = None, error: str = "", status: int = 200
) -> HTMLResponse:
    return render(
        request,
        "check_statement.html",
        title="check.title",
        status=status,
        public_form=True,
        result=result,
        error=error,
    )


@router.get("/check-a-statement")
def check_statement_page(request: Request) -> HTMLResponse:
    optional_viewer(request)
    return _check_page(request)


def _facts(document: dict[str, Any], t: Translator) -> list[tuple[str, str]]:
    facts = []
    for key in FACTS:
        value = document.get(key)
        if value is None:
            continue
        if isinstance(value, bool):
            value = t("common.yes") if value else t("common.no")
        facts.append((key, str(value)))
    return facts


def _verify_pdf(registry: Registry, data: bytes) -> dict[str, Any]:
    from socialcredit.reports.signed_pdf import verify_statement_pdf  # pypdf and friends

    with tempfile.TemporaryDirectory(prefix="socialcredit-verify-") as folder:
        path = Path(folder) / "statement.pdf"
        path.write_bytes(data)
        return verify_statement_pdf(path, keys.keyring(registry)).as_dict()


def _verify_token(registry: Registry, token: str) -> dict[str, Any]:
    checked = check_token(token, keys.keyring(registry))
    summary = checked.summary
    return {
        "valid": checked.valid,
        "problems": list(checked.problems),
        "signed_by": summary.get("key_id"),
        "signed_at": summary.get("signed_at"),
        "person": {"id": summary.get("id"), "name": summary.get("name")},
        "statement": {key: summary[key] for key in FACTS if key in summary},
    }


@router.post("/check-a-statement")
async def check_statement(request: Request) -> HTMLResponse:
    """Check a signed PDF statement or the text of its QR code (``statement verify``)."""
    form = await request.form()
    check_form_token(request, form)
    await run_in_threadpool(optional_viewer, request)
    registry = registry_of(request)
    files = uploads(form, "file")
    token = field(form, "token", limit=MAX_TOKEN_CHARS)
    t = translator(request)
    if files:
        limit = settings_of(request).api_max_request_bytes
        document = await run_in_threadpool(_verify_pdf, registry, await files[0].read(limit))
    elif token:
        document = await run_in_threadpool(_verify_token, registry, token)
    else:
        return _check_page(request, error=t("check.nothing"), status=400)
    result = {**document, "facts": _facts(document.get("statement") or {}, t)}
    return _check_page(request, result=result)
