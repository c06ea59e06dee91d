"""Use case: an agency withdraws one of its own entries (outside a contest), with a reason.

The entry stops counting for every date; it stays visible in the statement, marked withdrawn,
with the reason. (Corrections are new events naming ``corrects``: see event_references.)
"""

from socialcredit.domain.errors import NotFoundError
from socialcredit.services.access import LOCAL, Actor
from socialcredit.services.contests import ContestError
from socialcredit.services.notices import record_notice
from socialcredit.services.registry import Registry
from socialcredit.store import due_process

__all__ = ["withdraw_entry"]


def withdraw_entry(
    registry: Registry, agency: str, event_id: str, *, reason: str, actor: Actor = LOCAL
) -> dict[str, str]:
    """Withdraw ``agency``'s entry ``event_id``; refuses other agencies and dead entries."""
    if not reason.strip():
        raise ContestError("a withdrawal carries its reason", code="missing-reason")
    if actor.role == "agency" and actor.agency != agency:
        raise ContestError("an agency withdraws only its own entries", code="not-your-agency")
    now = registry.clock.now()
    with registry.database.write() as connection:
        entry = due_process.entry_by_key(connection, agency.strip(), event_id.strip())
        if entry is None:
            raise NotFoundError(f"no entry {agency}/{event_id}", code="unknown-entry")
        if entry.status in ("withdrawn", "overturned"):
            raise ContestError(
                f"entry {agency}/{event_id} is already {entry.status}", code="not-withdrawable"
            )
        due_process.append_entry_changes(
            connection,
            due_process.change_frame(
                entry,
                "withdrawn",
                entry.ends_on,
                f"withdrawn by {agency}: {reason.strip()}",
                actor.name,
                now,
            ),
        )
        record_notice(
            connection,
            person_id=entry.person_id,
            kind="entry",
            subject="Entry withdrawn / 记录已撤回",
            body=f"{agency} withdrew event {entry.event_id}: {reason.strip()}. "
            "It no longer counts.",
            detail={"agency": agency, "event_id": entry.event_id, "status": "withdrawn"},
            recorded_at=now,
            entry_id=entry.id,
        )
    return {"agency": entry.agency, "event_id": entry.event_id, "status": "withdrawn"}
