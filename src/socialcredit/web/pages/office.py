"""The office's dashboard (admin, auditor) and the auditors' access-log search.

The dashboard shows aggregates only (``services.stats``, as ``GET /api/v1/stats``): the grade
distribution and entries per agency over time, each as a PNG plot drawn by
``reports.plots`` with alt text, and the same numbers as tables under it.
"""

import tempfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from socialcredit.domain.errors import InputError, SocialCreditError
from socialcredit.reports.plots import (
    entries_over_time_series,
    grade_distribution_bars,
    plot_entries_over_time,
    plot_grade_distribution,
)
from socialcredit.services.audit import AUDIT_PURPOSE, search_access
from socialcredit.services.registry import Registry
from socialcredit.services.stats import Stats, registry_stats
from socialcredit.web.i18n import Translator
from socialcredit.web.pages.common import account, error_status, translator
from socialcredit.web.render import registry_of, render
from socialcredit.web.views import access_rows

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

ACTIONS = ("score", "statement", "check", "check-refused", "access-log", "consents", "notices",
           "contest", "contests", "export")  # fmt: skip
AUDIT_PAGE = 100
TOP_AGENCIES = 10


def _frame(stats: Stats) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "month": [date(int(m[:4]), int(m[5:7]), 1) for m, _agency, _n in stats.by_month],
            "agency": [agency for _m, agency, _n in stats.by_month],
            "entries": [n for _m, _agency, n in stats.by_month],
        },
        schema={"month": pl.Date, "agency": pl.String, "entries": pl.Int64},
    )


def _alt_texts(stats: Stats, t: Translator, bars: Any, series: Any) -> tuple[str, str]:
    grades = "; ".join(f"{bar.grade} {bar.count} ({bar.share:.1%})" for bar in bars)
    grades_alt = t("dashboard.grades.alt", grades=grades,
                   blacklisted=stats.distribution.blacklisted)  # fmt: skip
    leaders = ", ".join(f"{label} {sum(values)}" for label, values in series.series)
    entries_alt = t("dashboard.entries.alt", total=stats.entries_total,
                    months=len(series.months), leaders=leaders or "-")  # fmt: skip
    return grades_alt, entries_alt


@router.get("/admin")
def dashboard(request: Request) -> HTMLResponse:
    registry = registry_of(request)
    stats = registry_stats(registry)
    bars = grade_distribution_bars(stats.distribution.grades, list(stats.distribution.grades))
    series = entries_over_time_series(_frame(stats), top=TOP_AGENCIES)
    grades_alt, entries_alt = _alt_texts(stats, translator(request), bars, series)
    return render(
        request,
        "dashboard.html",
        title="dashboard.title",
        stats=stats,
        bars=bars,
        series=series,
        grades_alt=grades_alt,
        entries_alt=entries_alt,
    )


def _png(draw: Any, *args: Any, **kwargs: Any) -> Response:
    with tempfile.TemporaryDirectory(prefix="socialcredit-plot-") as folder:
        content = draw(*args, Path(folder) / "plot.png", **kwargs).read_bytes()
    return Response(content, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/admin/plots/grades.png")
def grades_plot(request: Request) -> Response:
    distribution = registry_stats(registry_of(request), months=1).distribution
    return _png(
        plot_grade_distribution,
        distribution.grades,
        list(distribution.grades),
        blacklisted=distribution.blacklisted,
    )


@router.get("/admin/plots/entries.png")
def entries_plot(request: Request) -> Response:
    stats = registry_stats(registry_of(request))
    return _png(plot_entries_over_time, _frame(stats), top=TOP_AGENCIES)


def _moment(registry: Registry, text: str, *, next_day: bool) -> datetime | None:
    """A date of the form as the start of that day (or the next) in the registry's zone."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", code="invalid-date") from None
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=registry.clock.zone)


def _search(request: Request, query: dict[str, str], cursor: str) -> dict[str, Any]:
    registry = registry_of(request)
    page = search_access(
        registry,
        person_id=query["person_id"] or None,
        actor=query["actor"] or None,
        organisation=query["organisation"] or None,
        action=query["action"] or None,
        since=_moment(registry, query["since"], next_day=False),
        until=_moment(registry, query["until"], next_day=True),
        limit=AUDIT_PAGE,
        cursor=cursor or None,
        reader=account(request).actor(),
        purpose=AUDIT_PURPOSE,
    )
    older = ""
    if page.next_cursor:
        older = "/auditor?" + urlencode({**query, "cursor": page.next_cursor})
    return {"rows": access_rows(page.rows, translator(request)), "older": older}


@router.get("/auditor")
def audit(
    request: Request,
    person_id: str = "",
    actor: str = "",
    organisation: str = "",
    action: str = "",
    since: str = "",
    until: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """Search the access log: every filter optional, newest first, a page at a time."""
    query = {
        "person_id": person_id.strip(),
        "actor": actor.strip(),
        "organisation": organisation.strip(),
        "action": action.strip() if action.strip() in ACTIONS else "",
        "since": since.strip(),
        "until": until.strip(),
    }
    searched = any(name in request.query_params for name in (*query, "cursor"))
    found: dict[str, Any] = {"rows": [], "older": ""}
    error, status = "", 200
    if searched:
        try:
            found = _search(request, query, cursor.strip())
        except SocialCreditError as refused:
            error, status = refused.message, error_status(refused)
    return render(
        request,
        "audit.html",
        title="audit.title",
        status=status,
        q=query,
        actions=ACTIONS,
        searched=searched and not error,
        done="",
        error=error,
        **found,
    )
