"""Reading contests as someone: scoped to what the caller may see, and logged.

A contest names a person and carries their grounds, so reading one is a read of that person's
data (DESIGN.md principle 2): like a statement, each read appends access-log rows naming the
reader and the purpose. ``services.contests`` keeps the unscoped queries that the command line
(an operator of the office) uses; the HTTP API and the portal read through here.

Who sees what: the office (clerk, admin) and auditors every contest; an agency the contests
of its own entries (its queue); a resident the contests of their own entries. A resident who
names an entry that is not theirs is answered ``not-your-record`` whether it exists or not,
so that the answer tells nothing about other people's entries.
"""

from socialcredit.domain.errors import InvalidPersonIdError, NotFoundError
from socialcredit.domain.ids import normalise_person_id, person_id_problem
from socialcredit.services.access import Actor, record_access, record_bulk_access
from socialcredit.services.contests import ContestError, ContestView, get_contest, list_contests
from socialcredit.services.registry import Registry

__all__ = ["EVERY_CONTEST", "read_contest", "read_contests"]

EVERY_CONTEST = frozenset({"clerk", "admin", "auditor"})


def _not_yours() -> ContestError:
    return ContestError(
        "this account may read only the contests of its own entries", code="not-your-record"
    )


def _not_your_agency(agency: str) -> ContestError:
    return ContestError(
        f"an agency reads only the contests of its own entries, not {agency.strip()!r}",
        code="not-your-agency",
    )


def _refuse_role(actor: Actor) -> None:
    if actor.role not in (*EVERY_CONTEST, "agency", "resident"):
        raise ContestError(f"a {actor.role} account does not read contests", code="not-permitted")


def read_contest(
    registry: Registry, agency: str, event_id: str, *, actor: Actor, purpose: str
) -> ContestView:
    """The newest contest of an entry, if ``actor`` may see it; the read is logged."""
    _refuse_role(actor)
    if actor.role == "agency" and actor.agency != agency.strip():
        raise _not_your_agency(agency)  # before any lookup: nothing about others' entries
    try:
        view = get_contest(registry, agency, event_id)
    except NotFoundError:
        if actor.role == "resident":
            raise _not_yours() from None
        raise
    if actor.role == "resident" and view.person_id != actor.person_id:
        raise _not_yours()
    detail = {"agency": view.agency, "event_id": view.event_id, "contest": view.id}
    record_access(registry, actor, view.person_id, "contest", purpose, detail)
    return view


def _person_filter(registry: Registry, raw: str | None) -> str | None:
    if raw is None:
        return None
    problem = person_id_problem(raw, registry.clock.today())
    if problem is not None:
        raise InvalidPersonIdError(f"{raw.strip()!r} is not a valid resident ID: {problem}")
    return normalise_person_id(raw)


def _scope(
    actor: Actor, agency: str | None, person_id: str | None
) -> tuple[str | None, str | None]:
    """The (agency, person) filters the actor's role imposes on the ones asked for."""
    if actor.role == "agency":
        if agency is not None and agency.strip() != actor.agency:
            raise _not_your_agency(agency)
        return actor.agency, person_id
    if actor.role == "resident":
        if person_id is not None and person_id != actor.person_id:
            raise _not_yours()
        return agency, actor.person_id
    return agency, person_id


def read_contests(
    registry: Registry,
    *,
    actor: Actor,
    purpose: str,
    overdue: bool = False,
    open_only: bool = False,
    agency: str | None = None,
    person_id: str | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[ContestView]:
    """Contests by id (after ``after_id``) that ``actor`` may see and the filters keep.

    Each person with a contest in the answer gets one access-log row (action ``contests``).
    """
    _refuse_role(actor)
    person = _person_filter(registry, person_id)
    agency = None if agency is None else agency.strip()
    agency, person = _scope(actor, agency, person)
    views = list_contests(
        registry,
        overdue=overdue,
        open_only=open_only,
        agency=agency,
        person_id=person,
        limit=limit,
        after_id=after_id,
    )
    people = sorted({view.person_id for view in views})
    if people:
        record_bulk_access(registry, actor, people, "contests", purpose)
    return views
