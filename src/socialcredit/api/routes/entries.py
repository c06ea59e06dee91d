"""An agency withdraws one of its own entries, with a reason (issue 4, item 3).

The entry stops counting for every date and stays in the statement, marked, with the reason;
the person gets a notice. Corrections are new events naming ``corrects`` (POST /events).
"""

from typing import Any

from fastapi import APIRouter

from socialcredit.api.deps import CurrentUser, RegistryDep
from socialcredit.api.due_process_schemas import WithdrawIn, WithdrawOut
from socialcredit.services.corrections import withdraw_entry

__all__ = ["router"]

router = APIRouter(prefix="/entries", tags=["contests"])


@router.post(
    "/{agency}/{event_id}/withdraw",
    response_model=WithdrawOut,
    summary="Withdraw one of the agency's own entries (it stops counting, stays visible)",
)
def post_withdraw(
    agency: str, event_id: str, body: WithdrawIn, registry: RegistryDep, user: CurrentUser
) -> dict[str, Any]:
    # The service refuses another agency's entry (not-your-agency) before looking it up.
    return withdraw_entry(registry, agency, event_id, reason=body.reason, actor=user.actor())
