"""Cursor pagination: ``?cursor=&limit=`` in, ``{"items", "next_cursor"}`` out.

A cursor is opaque to clients (URL-safe base64 of a small JSON object naming the list and
where the next page starts); it only narrows a query the caller may make anyway, so it is not
signed. A limit above ``api_max_page_size`` is lowered to it.
"""

import base64
import binascii
import json
from typing import Any

from socialcredit.api.errors import ApiError

__all__ = ["DEFAULT_PAGE_SIZE", "decode_cursor", "encode_cursor", "page_size"]

DEFAULT_PAGE_SIZE = 100
MAX_CURSOR_CHARS = 512


def encode_cursor(kind: str, position: int) -> str:
    text = json.dumps({"k": kind, "p": position}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None) -> int | None:
    """The position in a cursor of this list, ``None`` without one; refuses anything else."""
    if cursor is None or cursor == "":
        return None
    try:
        if len(cursor) > MAX_CURSOR_CHARS:
            raise ValueError("too long")
        padded = cursor + "=" * (-len(cursor) % 4)
        document: Any = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        position = document["p"]
        if document["k"] != kind or not isinstance(position, int) or position < 0:
            raise ValueError("not this list's cursor")
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise ApiError(400, "invalid-cursor", "the cursor is not one this list gave out") from None
    return position


def page_size(limit: int | None, maximum: int) -> int:
    return max(1, min(limit or min(DEFAULT_PAGE_SIZE, maximum), maximum))
