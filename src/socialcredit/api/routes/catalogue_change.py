"""Catalogue versions over HTTP (issue 4, item 10): what a new version would change, and
loading it. Both take the catalogue's YAML as the request body, at most
``MAX_CATALOGUE_BYTES`` (the command line's bound on a catalogue file).

The body is written to a temporary file and read by the same service functions as
``socialcredit catalogue diff|load``, so that it is validated exactly alike; problems name
the request body instead of the temporary file.
"""

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from socialcredit.api.deps import CurrentUser, RegistryDep, SettingsDep
from socialcredit.api.due_process_schemas import CatalogueDiffOut, LoadOut
from socialcredit.api.errors import ApiError
from socialcredit.api.pagination import page_size
from socialcredit.api.params import (
    Cursor,
    DeclaredPurpose,
    Limit,
    decode_key_cursor,
    encode_key_cursor,
)
from socialcredit.domain.errors import CatalogueInvalidError, UnreadableInputError
from socialcredit.services.catalogue import (
    MAX_CATALOGUE_BYTES,
    load_catalogue,
    read_catalogue_file,
)
from socialcredit.services.catalogue_change import (
    REVIEW_PURPOSE,
    diff_catalogues,
    grade_changes,
    version_before,
)

__all__ = ["router"]

router = APIRouter(tags=["catalogue"])

T = TypeVar("T")
SOURCE = "request body"
YAML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"A catalogue version in YAML (DESIGN.md section 3), UTF-8, at most "
        f"{MAX_CATALOGUE_BYTES} bytes.",
        "content": {"application/yaml": {"schema": {"type": "object"}}},
    }
}


async def _yaml_body(request: Request) -> bytes:
    """The body, refused (413) as soon as it is known to pass the bound."""
    too_large = ApiError(413, "too-large", f"a catalogue is at most {MAX_CATALOGUE_BYTES} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_CATALOGUE_BYTES:
        raise too_large
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_CATALOGUE_BYTES:
            raise too_large
    return bytes(data)


def _from_file(body: bytes, work: Callable[[Path], T]) -> T:
    with tempfile.TemporaryDirectory(prefix="socialcredit-catalogue-") as folder:
        path = Path(folder) / "catalogue.yaml"
        path.write_bytes(body)
        try:
            return work(path)
        except CatalogueInvalidError as error:
            raise CatalogueInvalidError(error.problems, source=SOURCE) from None
        except UnreadableInputError as error:
            raise UnreadableInputError(error.message.replace(str(path), SOURCE)) from None


@router.post(
    "/catalogue/diff",
    response_model=CatalogueDiffOut,
    openapi_extra=YAML_BODY,
    summary="What a catalogue version would change, and who would change grade; loads nothing",
)
async def post_diff(
    request: Request,
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    declared: DeclaredPurpose,
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    body = await _yaml_body(request)
    size = page_size(limit, settings.api_max_page_size)
    after = decode_key_cursor("grade-changes", cursor)

    def work(path: Path) -> dict[str, Any]:
        new = read_catalogue_file(path)
        diff = diff_catalogues(version_before(registry, new), new)
        # Listing people's old and new grades is a read of their data: logged per person.
        changes = grade_changes(
            registry,
            new,
            limit=size,
            after=after,
            actor=user.actor(),
            purpose=declared or REVIEW_PURPOSE,
        ).as_dict()
        items, next_after = changes.pop("changes"), changes.pop("next_after")
        return {
            "diff": diff.as_dict(),
            "grade_changes": changes,
            "items": items,
            "next_cursor": encode_key_cursor("grade-changes", next_after) if next_after else None,
        }

    return await run_in_threadpool(_from_file, body, work)


@router.post(
    "/catalogue",
    response_model=LoadOut,
    openapi_extra=YAML_BODY,
    summary="Validate and load a catalogue version (an identical reload changes nothing)",
)
async def post_catalogue(request: Request, registry: RegistryDep) -> dict[str, Any]:
    body = await _yaml_body(request)
    result = await run_in_threadpool(_from_file, body, lambda path: load_catalogue(registry, path))
    return result.as_dict()
