"""The registry as a whole: health, the published catalogue, statistics, and who am I."""

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from socialcredit.api.deps import CurrentUser, RegistryDep, SettingsDep
from socialcredit.api.errors import ApiError
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.schemas import CatalogueOut, Health, MeOut, StatsOut
from socialcredit.domain.catalogue import Catalogue
from socialcredit.domain.errors import NoCatalogueError
from socialcredit.services.serving import database_answers
from socialcredit.services.stats import MAX_MONTHS, registry_stats

__all__ = ["health_router", "router"]

router = APIRouter(tags=["registry"])
health_router = APIRouter(tags=["health"])


@health_router.get("/healthz", response_model=Health, summary="The server and its database are up")
async def healthz(registry: RegistryDep) -> dict[str, str]:
    if not await run_in_threadpool(database_answers, registry):
        raise ApiError(503, "unavailable", "the database is not answering")
    return {"status": "ok", "database": "ok"}


def _version(catalogue: Catalogue) -> dict[str, Any]:
    return {
        "version": catalogue.version,
        "effective_from": catalogue.effective_from,
        "base_score": catalogue.base_score,
        "grades": [{"grade": b.grade, "min": b.min_points} for b in catalogue.bands],
        "agencies": [
            {"code": a.code, "name": a.name, "name_zh": a.name_zh}
            for a in catalogue.agencies.values()
        ],
        "rules": [
            {
                "code": r.code,
                "title": r.title,
                "title_zh": r.title_zh,
                "category": r.category,
                "points": r.points,
                "counts_for": str(r.counts_for),
                "blacklist_for": None if r.blacklist_for is None else str(r.blacklist_for),
                "grade_cap": r.grade_cap,
                "applies_to": r.applies_to,
                "reporters": list(r.reporters),
                "legal_basis": r.legal_basis,
                "description": r.description,
            }
            for r in catalogue.rules.values()
        ],
        "policies": [
            {
                "code": p.code,
                "title": p.title,
                "title_zh": p.title_zh,
                "min_grade": p.min_grade,
                "not_blacklisted": p.not_blacklisted,
            }
            for p in catalogue.policies.values()
        ],
    }


@router.get(
    "/catalogue",
    response_model=CatalogueOut,
    summary="The published catalogue: every version with its agencies, rules and policies",
)
def get_catalogue(
    registry: RegistryDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, description="Versions per page.")] = None,
) -> dict[str, Any]:
    versions = registry.catalogues()
    start = decode_cursor("catalogue", cursor) or 0
    size = page_size(limit, settings.api_max_page_size)
    page = versions[start : start + size]
    more = start + size < len(versions)
    try:
        in_force: str | None = registry.in_force(registry.clock.today()).version
    except NoCatalogueError:
        in_force = None
    return {
        "in_force": in_force,
        "items": [_version(catalogue) for catalogue in page],
        "next_cursor": encode_cursor("catalogue", start + size) if more else None,
    }


@router.get(
    "/stats",
    response_model=StatsOut,
    summary="Grade distribution, blacklist, entries per agency, per rule and per month",
)
def get_stats(
    registry: RegistryDep,
    as_of: Annotated[date | None, Query(description="Default today.")] = None,
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS, description="Months per agency.")] = 36,
) -> dict[str, Any]:
    return registry_stats(registry, as_of=as_of, months=months).as_dict()


@router.get("/me", response_model=MeOut, summary="The account this token belongs to")
async def get_me(user: CurrentUser) -> dict[str, Any]:
    document = user.as_dict()
    return {key: document[key] for key in MeOut.model_fields}
