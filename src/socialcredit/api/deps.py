"""Small dependencies the routers share: the registry, settings, the declared purpose."""

import re
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from socialcredit.api.auth import current_user, registry_of
from socialcredit.api.errors import ApiError
from socialcredit.api.schemas import MAX_PURPOSE_CHARS, PURPOSE_PATTERN
from socialcredit.services.registry import Registry
from socialcredit.services.standing import OFFICE_ENQUIRY
from socialcredit.services.users import User
from socialcredit.settings import Settings

__all__ = [
    "CurrentUser",
    "DEFAULT_PURPOSES",
    "MAX_PURPOSE_CHARS",
    "PURPOSE_PATTERN",
    "Purpose",
    "RegistryDep",
    "SettingsDep",
    "clean_purpose",
]

# A header is Latin-1 on the wire: the header form takes printable ASCII; other text goes in
# the query parameter (percent-encoded UTF-8, as every URL).
HEADER_PURPOSE_PATTERN = r"^[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$"
# What a read is logged as when the caller declares nothing (verifiers must always declare).
DEFAULT_PURPOSES = {"clerk": OFFICE_ENQUIRY, "resident": "own record", "auditor": "audit"}


# Dependencies are ``async def`` although they never wait: FastAPI runs a plain ``def``
# dependency in the thread pool, a hop that costs more than the work here.


async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def registry_dep(request: Request) -> Registry:
    return registry_of(request)


def clean_purpose(text: str) -> str:
    """The purpose without surrounding spaces; refuses what ``PURPOSE_PATTERN`` refuses."""
    if len(text) > MAX_PURPOSE_CHARS or not re.fullmatch(PURPOSE_PATTERN, text):
        raise ApiError(
            400,
            "invalid-purpose",
            f"the purpose must be 1 to {MAX_PURPOSE_CHARS} characters, not only spaces, "
            "without control characters",
        )
    return text.strip()


async def declared_purpose(
    user: Annotated[User, Depends(current_user)],
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="Why the record is read (ASCII); the person sees it in the access log.",
            max_length=MAX_PURPOSE_CHARS,
            pattern=HEADER_PURPOSE_PATTERN,
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        Query(
            description="Why the record is read, in any language (the header takes ASCII).",
            max_length=MAX_PURPOSE_CHARS,
            pattern=PURPOSE_PATTERN,
        ),
    ] = None,
) -> str:
    """The purpose of a read: header, else query, else the role's default."""
    if x_purpose is not None:
        return clean_purpose(x_purpose)
    if purpose is not None:
        return clean_purpose(purpose)
    default = DEFAULT_PURPOSES.get(user.role)
    if default is None:
        raise ApiError(400, "invalid-purpose", "declare the purpose of this read (X-Purpose)")
    return default


RegistryDep = Annotated[Registry, Depends(registry_dep)]
SettingsDep = Annotated[Settings, Depends(settings_of)]
CurrentUser = Annotated[User, Depends(current_user)]
Purpose = Annotated[str, Depends(declared_purpose)]
