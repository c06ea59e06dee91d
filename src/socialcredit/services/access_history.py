"""Use case: read a person's access log (who read their record, when and why).

Reading the log is itself a read of the person's record, so it is logged too (action
``access-log``): the person sees that an auditor or a clerk looked at who looked.
"""

from socialcredit.services.access import AccessRecord, Actor, list_access, record_access
from socialcredit.services.registry import Registry
from socialcredit.services.standing import registered_person_id

__all__ = ["access_history"]


def access_history(
    registry: Registry,
    person_id: str,
    *,
    actor: Actor,
    purpose: str,
    limit: int,
    before_id: int | None = None,
) -> tuple[str, list[tuple[int, AccessRecord]]]:
    """The person's normalised ID and up to ``limit`` access rows older than ``before_id``,
    newest first; the read is logged after the rows are taken."""
    person = registered_person_id(registry, person_id)
    rows = list_access(registry, person, limit=limit, before_id=before_id)
    detail = {"limit": limit, "before_id": before_id}
    record_access(registry, actor, person, "access-log", purpose, detail)
    return person, rows
