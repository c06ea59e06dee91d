"""The tamper-evident log over HTTP (docs/ledger.md): the office's public keys, its signed
checkpoints, proofs against them, and checking a signed statement."""

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool

from socialcredit.api.deps import RegistryDep, SettingsDep
from socialcredit.api.errors import ApiError
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.services import keys, ledger
from socialcredit.services.signed_statements import check_token

__all__ = ["router"]

router = APIRouter(tags=["ledger"])

MAX_TOKEN_CHARS = 4096


@router.get("/keys", summary="The office's public signing keys and when each may sign")
def get_keys(registry: RegistryDep) -> dict[str, Any]:
    return keys.public_keys_document(registry)


@router.get("/checkpoints", summary="Signed checkpoints of the log, newest first")
def get_checkpoints(
    registry: RegistryDep,
    settings: SettingsDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (lowered to the max).")] = (
        None
    ),
) -> dict[str, Any]:
    size = page_size(limit, settings.api_max_page_size)
    before = decode_cursor("checkpoints", cursor)
    found = ledger.list_checkpoints(registry, size + 1, before)
    page = found[:size]
    more = len(found) > size and page[-1].id is not None
    return {
        "items": [checkpoint.as_dict() for checkpoint in page],
        "next_cursor": encode_cursor("checkpoints", page[-1].id or 0) if more else None,
    }


@router.get(
    "/proofs/inclusion",
    summary="That an entry is a leaf of the log a signed checkpoint covers",
)
def get_inclusion(
    registry: RegistryDep,
    agency: Annotated[str, Query(min_length=1, max_length=64)],
    event_id: Annotated[str, Query(min_length=1, max_length=4096)],
    checkpoint: Annotated[
        int | None, Query(ge=1, le=2**62, description="Default: one covering the whole log.")
    ] = None,
) -> dict[str, Any]:
    signed = (
        ledger.get_checkpoint(registry, checkpoint)
        if checkpoint is not None
        else ledger.current_checkpoint(registry)
    )
    return ledger.entry_inclusion(registry, agency, event_id, checkpoint=signed).as_dict()


@router.get(
    "/proofs/consistency",
    summary="That the log a checkpoint signs extends the first `first` leaves (for witnesses)",
)
def get_consistency(
    registry: RegistryDep,
    first: Annotated[int, Query(ge=0, le=2**62, description="The size the witness holds.")],
    second: Annotated[
        int | None, Query(ge=0, le=2**62, description="Default: a checkpoint of the whole log.")
    ] = None,
) -> dict[str, Any]:
    signed = (
        ledger.checkpoint_of_size(registry, second)
        if second is not None
        else ledger.current_checkpoint(registry)
    )
    return ledger.consistency_from_size(registry, first, signed)


def _check_pdf(registry: Any, data: bytes) -> dict[str, Any]:
    from socialcredit.reports.signed_pdf import verify_statement_pdf

    with tempfile.TemporaryDirectory(prefix="scverify-") as folder:
        path = Path(folder) / "statement.pdf"
        path.write_bytes(data)
        return verify_statement_pdf(path, keys.keyring(registry)).as_dict()


@router.post(
    "/statements/verify",
    summary="Check a signed statement (PDF file) or the text of its QR code",
)
async def verify_statement(
    registry: RegistryDep,
    file: Annotated[UploadFile | None, File(description="The statement's PDF file.")] = None,
    token: Annotated[
        str | None, Form(max_length=MAX_TOKEN_CHARS, description="The QR code's text.")
    ] = None,
) -> dict[str, Any]:
    if (file is None) == (token is None):
        raise ApiError(400, "invalid-request", "send a PDF file or a token, not both")
    if file is not None:
        return await run_in_threadpool(_check_pdf, registry, await file.read())
    checked = check_token(token or "", keys.keyring(registry))
    summary = checked.summary
    return {
        "valid": checked.valid,
        "problems": list(checked.problems),
        "kind": summary.get("kind"),
        "signed_by": summary.get("key_id"),
        "signed_at": summary.get("signed_at"),
        "person": {"id": summary.get("id"), "name": summary.get("name")},
        "statement": {
            key: summary[key]
            for key in ("as_of", "score", "grade", "blacklisted", "policy", "eligible")
            if key in summary
        },
    }
