"""Small dependencies the routers share: the registry, settings, the declared purpose."""

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header, Query, Request

from socialcredit.api.auth import current_user, registry_of
from socialcredit.api.errors import ApiError
from socialcredit.services.registry import Registry
from socialcredit.services.standing import OFFICE_ENQUIRY
from socialcredit.services.users import User
from socialcredit.settings import Settings

__all__ = [
    "CurrentUser",
    "DEFAULT_PURPOSES",
    "Purpose",
    "RegistryDep",
    "SettingsDep",
    "clean_purpose",
]

MAX_PURPOSE_CHARS = 200
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
    text = text.strip()
    if not text or len(text) > MAX_PURPOSE_CHARS or not text.isprintable():
        raise ApiError(
            400,
            "invalid-purpose",
            f"the purpose must be 1 to {MAX_PURPOSE_CHARS} printable characters",
        )
    return text


async def declared_purpose(
    user: Annotated[User, Depends(current_user)],
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="Why the record is read (percent-encoded UTF-8); the person sees it.",
        ),
    ] = None,
    purpose: Annotated[
        str | None, Query(description="Same as the X-Purpose header.", max_length=600)
    ] = None,
) -> str:
    """The purpose of a read: header, else query, else the role's default."""
    if x_purpose is not None:
        try:
            return clean_purpose(unquote(x_purpose, errors="strict"))
        except UnicodeDecodeError:
            raise ApiError(
                400, "invalid-purpose", "X-Purpose is not percent-encoded UTF-8"
            ) from None
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
