"""A person's notices (issue 4, item 1), newest first, each with how it was delivered.

Reading them is a read of the person's data: logged in their access log (action ``notices``).
"""

from typing import Any

from fastapi import APIRouter

from socialcredit.api.deps import CurrentUser, Purpose, RegistryDep, SettingsDep
from socialcredit.api.due_process_schemas import NoticeOut
from socialcredit.api.pagination import decode_cursor, encode_cursor, page_size
from socialcredit.api.params import Cursor, Limit
from socialcredit.api.schemas import Page
from socialcredit.services.delivery import list_notices_for

__all__ = ["router"]

router = APIRouter(prefix="/people", tags=["people"])


@router.get(
    "/{person_id}/notices",
    response_model=Page[NoticeOut],
    summary="Notices to the person (entries, adverse actions, contests), newest first",
)
def get_notices(
    person_id: str,
    registry: RegistryDep,
    settings: SettingsDep,
    user: CurrentUser,
    purpose: Purpose,
    cursor: Cursor = None,
    limit: Limit = None,
) -> dict[str, Any]:
    size = page_size(limit, settings.api_max_page_size)
    _person, listed = list_notices_for(
        registry,
        person_id,
        size + 1,
        decode_cursor("notices", cursor),
        actor=user.actor(),
        purpose=purpose,
    )
    page = listed[:size]
    more = len(listed) > size
    return {
        "items": page,
        "next_cursor": encode_cursor("notices", page[-1]["id"]) if more else None,
    }
