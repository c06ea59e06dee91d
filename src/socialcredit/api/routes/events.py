"""Agencies submit events: a JSON batch, or a CSV/JSONL/Parquet upload."""

import hashlib
import json
import tempfile
from pathlib import Path
from typing import IO, Annotated, Any

from fastapi import APIRouter, File, Header, Query, Response, UploadFile

from socialcredit.api.deps import CurrentUser, RegistryDep, SettingsDep
from socialcredit.api.errors import ApiError
from socialcredit.api.idempotent import answer_once, request_digest
from socialcredit.api.schemas import EventBatch, SubmissionOut
from socialcredit.files.readers import FORMATS
from socialcredit.services.submissions import Submission, submit_event_file, submit_events
from socialcredit.services.users import User

__all__ = ["router"]

router = APIRouter(tags=["events"])

COPY_CHUNK = 1024 * 1024
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        pattern=r"^[\x21-\x7e]{1,128}$",
        description="Send the same key with a retried request to get the first answer back "
        "(1 to 128 printable ASCII characters, no spaces).",
    ),
]


def _agency_of(user: User) -> str:
    if user.agency is None:  # the users service never creates such an account
        raise RuntimeError(f"agency account {user.name} is bound to no agency")
    return user.agency


def _answer(submission: Submission) -> dict[str, Any]:
    return SubmissionOut.model_validate(submission.as_dict()).model_dump(mode="json")


@router.post(
    "/events",
    response_model=SubmissionOut,
    summary="Submit a batch of events (an outcome per row)",
)
def post_events(
    batch: EventBatch,
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    if len(batch.events) > settings.api_max_events:
        raise ApiError(
            413,
            "too-many-events",
            f"{len(batch.events)} events; at most {settings.api_max_events} per request "
            "(send larger batches to /api/v1/events/bulk)",
        )
    agency = _agency_of(user)
    events = [event.model_dump() for event in batch.events]
    canonical = json.dumps(events, sort_keys=True, ensure_ascii=False)
    sha256 = hashlib.sha256(canonical.encode()).hexdigest()

    def work() -> dict[str, Any]:
        source = f"api:{user.name}"
        return _answer(submit_events(registry, agency, events, source=source, sha256=sha256))

    return answer_once(registry, user, idempotency_key, request_digest("events", sha256), work)


def _store_upload(upload: IO[bytes], path: Path) -> str:
    """Copy the upload in chunks (never whole in memory); returns its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        while chunk := upload.read(COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def _upload_suffix(file: UploadFile) -> str:
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in FORMATS:
        raise ApiError(
            415,
            "unsupported-media-type",
            f"the file name must end in {', '.join(sorted(FORMATS))} (got {file.filename!r})",
        )
    return suffix


@router.post(
    "/events/bulk",
    response_model=SubmissionOut,
    summary="Upload an events file (CSV, JSON Lines or Parquet, by its file name)",
)
def post_events_bulk(
    file: Annotated[UploadFile, File(description="The events file; .csv, .jsonl or .parquet.")],
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    encoding: Annotated[str, Query(max_length=32, description="Text encoding of CSV/JSONL.")] = (
        "utf-8"
    ),
    idempotency_key: IdempotencyKey = None,
) -> Response:
    suffix = _upload_suffix(file)
    agency = _agency_of(user)
    name = Path(file.filename or "upload").name[:200]
    with tempfile.TemporaryDirectory(prefix="socialcredit-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        sha256 = _store_upload(file.file, path)

        def work() -> dict[str, Any]:
            submission = submit_event_file(
                registry,
                agency,
                path,
                source=f"api:{user.name}:{name}",
                encoding=encoding,
                rejected_rows_listed=settings.api_max_page_size,
            )
            return _answer(submission)

        digest = request_digest("events/bulk", suffix, encoding, sha256)
        return answer_once(registry, user, idempotency_key, digest, work)
