"""A person's record: score, statement (JSON or PDF) and access log. Every read is logged."""

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from socialcredit.api.deps import CurrentUser, Purpose, RegistryDep, SettingsDep
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.params import KnownAt, parse_moment
from socialcredit.api.schemas import AccessRow, Page, ScoreOut, StatementOut
from socialcredit.services import standing
from socialcredit.services.access_history import access_history
from socialcredit.services.models import Statement
from socialcredit.services.registry import Registry

__all__ = ["router"]

router = APIRouter(prefix="/people", tags=["people"])

AsOf = Annotated[date | None, Query(description="Answer as of this date; default today.")]
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}


@router.get("/{person_id}", response_model=ScoreOut, summary="Score, grade and blacklist")
def get_score(
    person_id: str,
    registry: RegistryDep,
    user: CurrentUser,
    purpose: Purpose,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    result = standing.score(
        registry,
        person_id,
        as_of=as_of,
        known_at=parse_moment(registry, known_at, "known_at"),
        actor=user.actor(),
        purpose=purpose,
    )
    return result.as_dict()


def _pdf(registry: Registry, statement: Statement) -> bytes:
    """Signed, with its QR code, as the CLI and the portal print it (docs/ledger.md)."""
    from socialcredit.reports.signed_pdf import signed_statement_pdf  # WeasyPrint: on first use

    return signed_statement_pdf(registry, statement)


@router.get(
    "/{person_id}/statement",
    response_model=StatementOut,
    responses={200: {"content": PDF, "description": "The statement; ?format=pdf: A4 PDF."}},
    summary="Every entry behind the score, and why each counts or not",
)
def get_statement(
    person_id: str,
    registry: RegistryDep,
    user: CurrentUser,
    purpose: Purpose,
    as_of: AsOf = None,
    format: Annotated[Literal["json", "pdf"], Query(description="json or pdf")] = "json",
    known_at: KnownAt = None,
) -> Any:
    result = standing.statement(
        registry,
        person_id,
        as_of=as_of,
        known_at=parse_moment(registry, known_at, "known_at"),
        actor=user.actor(),
        purpose=purpose,
    )
    if format == "pdf":
        name = f"statement-{result.id}-{result.as_of.isoformat()}.pdf"
        return Response(
            _pdf(registry, result),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return result.as_dict()


@router.get(
    "/{person_id}/access-log",
    response_model=Page[AccessRow],
    summary="Who read this record, when, in which role and why (newest first)",
)
def get_access_log(
    person_id: str,
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    purpose: Purpose,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (lowered to the max).")] = (
        None
    ),
) -> dict[str, Any]:
    size = page_size(limit, settings.api_max_page_size)
    before = decode_cursor("access-log", cursor)
    _person, rows = access_history(
        registry, person_id, actor=user.actor(), purpose=purpose, limit=size + 1, before_id=before
    )
    page = rows[:size]
    items = []
    for _id, record in page:
        row = record.as_dict()
        row.pop("person_id")
        items.append(row)
    more = len(rows) > size
    return {
        "items": items,
        "next_cursor": encode_cursor("access-log", page[-1][0]) if more else None,
    }
