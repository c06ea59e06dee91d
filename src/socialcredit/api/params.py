"""Parameters the due-process routes share: paging, ``known_at``, purposes with a default.

``known_at`` is ISO 8601 text rather than a typed datetime so that a timestamp without an
offset is read in the registry's zone (DESIGN.md section 3, *Clock*), as on the command line;
a value that is not a timestamp is ``400 invalid-input``.
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Query

from socialcredit.api.deps import (
    DEFAULT_PURPOSES,
    HEADER_PURPOSE_PATTERN,
    MAX_PURPOSE_CHARS,
    PURPOSE_PATTERN,
    clean_purpose,
)
from socialcredit.api.errors import ApiError
from socialcredit.domain.errors import InputError
from socialcredit.services.clock import parse_timestamp
from socialcredit.services.registry import Registry

__all__ = [
    "MAX_TIMESTAMP_CHARS",
    "Cursor",
    "DeclaredPurpose",
    "KnownAt",
    "Limit",
    "decode_key_cursor",
    "encode_key_cursor",
    "parse_moment",
    "purpose_or",
]

MAX_TIMESTAMP_CHARS = 64
MAX_KEY_CHARS = 64

Cursor = Annotated[
    str | None, Query(max_length=512, description="next_cursor of the previous page.")
]
Limit = Annotated[int | None, Query(ge=1, description="Page size (lowered to the max).")]
KnownAt = Annotated[
    str | None,
    Query(
        max_length=MAX_TIMESTAMP_CHARS,
        description="Answer as the registry knew it at this moment (ISO 8601; without an "
        "offset it is read in the registry's time zone). Default: now.",
    ),
]


def parse_moment(registry: Registry, text: str | None, name: str) -> datetime | None:
    """An ISO 8601 timestamp (or date) as aware UTC; without an offset, in the registry zone."""
    if text is None:
        return None
    try:
        return parse_timestamp(text, registry.clock.zone, field=name)
    except OverflowError:  # e.g. 0001-01-01T00:00+08:00 has no UTC time in range
        raise InputError(f"{name}: {text!r} is out of the range of timestamps") from None


async def declared_or_none(
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="Why the data is read (ASCII); the person sees it in the access log.",
            max_length=MAX_PURPOSE_CHARS,
            pattern=HEADER_PURPOSE_PATTERN,
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        Query(
            description="Why the data is read, in any language (the header takes ASCII).",
            max_length=MAX_PURPOSE_CHARS,
            pattern=PURPOSE_PATTERN,
        ),
    ] = None,
) -> str | None:
    """The declared purpose (header, else query), or ``None``: the route picks a default."""
    if x_purpose is not None:
        return clean_purpose(x_purpose)
    if purpose is not None:
        return clean_purpose(purpose)
    return None


DeclaredPurpose = Annotated[str | None, Depends(declared_or_none)]


def purpose_or(declared: str | None, role: str, default: str) -> str:
    """The declared purpose, else the role's usual one (as on the people routes), else
    ``default``: the routes here are used by roles that have none (agency, admin)."""
    return declared or DEFAULT_PURPOSES.get(role) or default


def encode_key_cursor(kind: str, key: str) -> str:
    """A cursor that continues after a text key (a resident ID), in the format of
    ``api.pagination`` (which holds integer positions)."""
    text = json.dumps({"k": kind, "a": key}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_key_cursor(kind: str, cursor: str | None) -> str | None:
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        document: Any = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        key = document["a"]
        if document["k"] != kind or not isinstance(key, str) or len(key) > MAX_KEY_CHARS:
            raise ValueError("not this list's cursor")
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise ApiError(400, "invalid-cursor", "the cursor is not one this list gave out") from None
    return key
