"""A person's consents to be checked by verifiers (issue 4, item 6): list, grant, revoke.

The person (a resident account, for themself) or a clerk (entering a signed form) records
them; the route table admits no one else, and the service checks the same again. Listing
consents is a read of the person's data and is logged (action ``consents``).
"""

from typing import Any

from fastapi import APIRouter

from socialcredit.api.deps import CurrentUser, Purpose, RegistryDep, SettingsDep
from socialcredit.api.due_process_schemas import ConsentChangeOut, ConsentIn, ConsentOut
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.params import Cursor, Limit
from socialcredit.api.schemas import Page
from socialcredit.services import consent

__all__ = ["router"]

router = APIRouter(prefix="/people/{person_id}/consents", tags=["consents"])


@router.get(
    "",
    response_model=Page[ConsentOut],
    summary="Every organisation and purpose the person consented to, granted or revoked",
)
def get_consents(
    person_id: str,
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    purpose: Purpose,
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    # A person holds a handful of consents: the service answers them all, the API pages them.
    rows = consent.list_consents(registry, person_id, actor=user.actor(), purpose=purpose)
    start = decode_cursor("consents", cursor) or 0
    size = page_size(limit, settings.api_max_page_size)
    more = start + size < len(rows)
    return {
        "items": [row.as_dict() for row in rows[start : start + size]],
        "next_cursor": encode_cursor("consents", start + size) if more else None,
    }


@router.post(
    "",
    response_model=ConsentChangeOut,
    summary="Let an organisation check the person for one purpose",
)
def post_consent(
    person_id: str, body: ConsentIn, registry: RegistryDep, user: CurrentUser
) -> dict[str, Any]:
    change = consent.grant_consent(
        registry, person_id, body.organisation, body.purpose, user.actor()
    )
    return change.as_dict()


@router.post(
    "/revoke",
    response_model=ConsentChangeOut,
    summary="End a consent; later checks by that organisation for that purpose are refused",
)
def post_revoke(
    person_id: str, body: ConsentIn, registry: RegistryDep, user: CurrentUser
) -> dict[str, Any]:
    change = consent.revoke_consent(
        registry, person_id, body.organisation, body.purpose, user.actor()
    )
    return change.as_dict()
