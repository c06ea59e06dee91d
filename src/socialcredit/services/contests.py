"""Use cases: contest an entry, the agency answers, a review officer decides.

The entry becomes ``contested`` (it still counts, flagged wherever it shows). The reporting
agency answers ``verified``, ``corrected`` (naming the correcting event it sent) or ``withdrawn``
within the contest period (setting ``contest_answer_days``, 30 as in the FCRA). After
``verified`` a review officer decides ``upheld`` (the entry is active again) or ``overturned``
(it stops counting, for every date) with written reasons. A contest the agency does not answer
in time is overturned by ``sweep_overdue``: unverifiable information stops counting.
Every step is appended with its time and actor, and the person gets a notice.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from socialcredit.domain.errors import NotFoundError, RefusedError
from socialcredit.services.access import LOCAL, Actor
from socialcredit.services.notices import record_notice
from socialcredit.services.registry import Registry
from socialcredit.store import due_process
from socialcredit.store.due_process import EntryState, change_frame
from socialcredit.store.schema import contest_steps, contests, entries

__all__ = [
    "ANSWERS",
    "DECISIONS",
    "ContestError",
    "ContestView",
    "answer_contest",
    "decide_contest",
    "get_contest",
    "list_contests",
    "open_contest",
    "sweep_overdue",
]

ANSWERS = ("verified", "corrected", "withdrawn")
DECISIONS = ("upheld", "overturned")
OFFICERS = ("clerk", "admin")
GROUNDS_CHARS_MAX = 4000
SYSTEM = Actor("system:contest-deadline", "admin", "Social Credit Management Office")


class ContestError(RefusedError):
    """A contest step that is not allowed now (the code says why)."""

    code = "contest-refused"


@dataclass(frozen=True, slots=True)
class ContestView:
    id: int
    agency: str
    event_id: str
    person_id: str
    rule: str
    opened_by: str
    grounds: str | None
    answer_due: datetime
    opened_at: datetime
    state: str  # awaiting-agency | awaiting-decision | closed
    outcome: str | None  # the closing outcome
    overdue: bool
    steps: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "agency": self.agency,
            "event_id": self.event_id,
            "person_id": self.person_id,
            "rule": self.rule,
            "opened_by": self.opened_by,
            "grounds": self.grounds,
            "opened_at": self.opened_at.isoformat(),
            "answer_due": self.answer_due.isoformat(),
            "state": self.state,
            "outcome": self.outcome,
            "overdue": self.overdue,
            "steps": [
                {**step, "recorded_at": step["recorded_at"].isoformat()} for step in self.steps
            ],
        }


def _state(steps: list[dict[str, Any]]) -> tuple[str, str | None]:
    if not steps:
        return "awaiting-agency", None
    last = steps[-1]
    if last["step"] == "answered" and last["outcome"] == "verified":
        return "awaiting-decision", None
    return "closed", str(last["outcome"])


def _view(contest: dict[str, Any], entry: EntryState, now: datetime) -> ContestView:
    steps = contest["steps"]
    state, outcome = _state(steps)
    return ContestView(
        id=contest["id"],
        agency=entry.agency,
        event_id=entry.event_id,
        person_id=entry.person_id,
        rule=entry.rule,
        opened_by=contest["opened_by"],
        grounds=contest["grounds"],
        answer_due=contest["answer_due"],
        opened_at=contest["recorded_at"],
        state=state,
        outcome=outcome,
        overdue=state == "awaiting-agency" and now > contest["answer_due"],
        steps=tuple(
            {k: v for k, v in step.items() if k not in ("id", "contest_id")} for step in steps
        ),
    )


def _entry(connection: Connection, agency: str, event_id: str) -> EntryState:
    entry = due_process.entry_by_key(connection, agency.strip(), event_id.strip())
    if entry is None:
        raise NotFoundError(f"no entry {agency}/{event_id}", code="unknown-entry")
    return entry


def _notify(
    connection: Connection,
    entry: EntryState,
    subject: str,
    body: str,
    detail: dict[str, Any],
    now: datetime,
) -> None:
    record_notice(
        connection,
        person_id=entry.person_id,
        kind="contest",
        subject=subject,
        body=body,
        detail={"agency": entry.agency, "event_id": entry.event_id, **detail},
        recorded_at=now,
        entry_id=entry.id,
    )


def _change(
    connection: Connection, entry: EntryState, status: str, reason: str, actor: Actor, now: datetime
) -> None:
    due_process.append_entry_changes(
        connection, change_frame(entry, status, entry.ends_on, reason, actor.name, now)
    )


def open_contest(
    registry: Registry,
    agency: str,
    event_id: str,
    *,
    grounds: str,
    actor: Actor = LOCAL,
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> ContestView:
    """Contest an entry with written grounds (and optional attachments: name, type, bytes)."""
    grounds = grounds.strip()
    if not grounds:
        raise ContestError("grounds are required: say what is wrong", code="missing-grounds")
    if len(grounds) > GROUNDS_CHARS_MAX:
        raise ContestError(
            f"grounds are limited to {GROUNDS_CHARS_MAX} characters", code="grounds-too-long"
        )
    _check_attachments(registry, attachments)
    now = registry.clock.now()
    with registry.database.write() as connection:
        entry = _entry(connection, agency, event_id)
        if actor.role == "resident" and actor.person_id != entry.person_id:
            raise ContestError(
                "a resident may contest only their own entries", code="not-your-record"
            )
        if entry.status != "active":
            raise ContestError(
                f"entry {agency}/{event_id} is {entry.status}; only an active "
                "entry can be contested",
                code="not-contestable",
            )
        due = now + timedelta(days=registry.settings.contest_answer_days)
        contest_id = due_process.insert_contest(
            connection,
            {
                "entry_id": entry.id,
                "opened_by": actor.name,
                "opened_role": actor.role,
                "grounds": grounds,
                "answer_due": due,
                "recorded_at": now,
            },
        )
        for name, content_type, content in attachments:
            _attach(connection, contest_id, name, content_type, content, now)
        _change(connection, entry, "contested", f"contested (contest {contest_id})", actor, now)
        _notify(
            connection,
            entry,
            "Contest opened / 申诉已受理",
            f"Your contest of {entry.agency}/{entry.event_id} was opened. The agency must "
            f"answer by {due.date().isoformat()}.",
            {"contest": contest_id},
            now,
        )
        contest = due_process.open_contest_of(connection, entry.id)
    assert contest is not None
    return _view(contest, entry, now)


def _check_attachments(registry: Registry, attachments: tuple[tuple[str, str, bytes], ...]) -> None:
    limit = registry.settings.max_attachment_bytes
    if len(attachments) > registry.settings.max_attachments:
        raise ContestError(
            f"at most {registry.settings.max_attachments} attachments", code="too-many-attachments"
        )
    for name, _type, content in attachments:
        if len(content) > limit:
            raise ContestError(
                f"attachment {name!r} is {len(content)} bytes, the limit is {limit}",
                code="attachment-too-large",
            )


def _attach(
    connection: Connection,
    contest_id: int,
    name: str,
    content_type: str,
    content: bytes,
    now: datetime,
) -> None:
    import hashlib

    due_process.insert_attachment(
        connection,
        {
            "contest_id": contest_id,
            "filename": name[:255],
            "content_type": content_type[:128],
            "size_bytes": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
            "content": content,
            "recorded_at": now,
        },
    )


def _current(connection: Connection, entry: EntryState) -> dict[str, Any]:
    contest = due_process.open_contest_of(connection, entry.id)
    if contest is None:
        raise ContestError(
            f"entry {entry.agency}/{entry.event_id} has no contest", code="no-contest"
        )
    return contest


def answer_contest(
    registry: Registry,
    agency: str,
    event_id: str,
    answer: str,
    *,
    reason: str = "",
    actor: Actor = LOCAL,
    corrected_by: str | None = None,
) -> ContestView:
    """The reporting agency's answer: verified, corrected (by an event it sent) or withdrawn."""
    if answer not in ANSWERS:
        raise ContestError(f"answer must be one of {', '.join(ANSWERS)}", code="invalid-answer")
    sweep_overdue(registry)
    now = registry.clock.now()
    with registry.database.write() as connection:
        entry = _entry(connection, agency, event_id)
        if actor.role == "agency" and actor.agency != entry.agency:
            raise ContestError("only the reporting agency answers", code="not-your-agency")
        if actor.role not in ("agency", *OFFICERS):
            raise ContestError("only the reporting agency answers", code="not-permitted")
        contest = _current(connection, entry)
        if _state(contest["steps"])[0] != "awaiting-agency":
            raise ContestError(
                "this contest is not waiting for the agency's answer", code="wrong-state"
            )
        reason = reason.strip() or answer
        _answer_effects(connection, entry, answer, reason, actor, corrected_by, now)
        due_process.insert_contest_step(
            connection,
            {
                "contest_id": contest["id"],
                "step": "answered",
                "outcome": answer,
                "reason": reason,
                "actor": actor.name,
                "corrected_by": corrected_by,
                "recorded_at": now,
            },
        )
        _notify(
            connection,
            entry,
            f"Agency answered: {answer} / 报送单位答复",
            f"{entry.agency} answered your contest of {entry.event_id}: {answer}. Reason: {reason}",
            {"contest": contest["id"], "answer": answer},
            now,
        )
        contest = _current(connection, entry)
    return _view(contest, entry, now)


def _answer_effects(
    connection: Connection,
    entry: EntryState,
    answer: str,
    reason: str,
    actor: Actor,
    corrected_by: str | None,
    now: datetime,
) -> None:
    if answer == "verified":
        return  # the entry stays contested until the review officer decides
    if answer == "corrected":
        if not corrected_by:
            raise ContestError(
                "a correction names the correcting event (--corrected-by)",
                code="missing-correction",
            )
        replacement = due_process.entry_by_key(connection, entry.agency, corrected_by.strip())
        if replacement is None or replacement.person_id != entry.person_id:
            raise ContestError(
                f"{entry.agency}/{corrected_by} is not an accepted event about the same person",
                code="invalid-correction",
            )
        reason = f"corrected by event {corrected_by}: {reason}"
    _change(connection, entry, "withdrawn", reason, actor, now)


def decide_contest(
    registry: Registry,
    agency: str,
    event_id: str,
    decision: str,
    *,
    reason: str,
    actor: Actor = LOCAL,
) -> ContestView:
    """A review officer's decision, with written reasons shown to the person."""
    if decision not in DECISIONS:
        raise ContestError(
            f"decision must be one of {', '.join(DECISIONS)}", code="invalid-decision"
        )
    if not reason.strip():
        raise ContestError("a decision carries written reasons", code="missing-reason")
    if actor.role not in OFFICERS:
        raise ContestError("only a review officer decides", code="not-permitted")
    sweep_overdue(registry)
    now = registry.clock.now()
    with registry.database.write() as connection:
        entry = _entry(connection, agency, event_id)
        contest = _current(connection, entry)
        state = _state(contest["steps"])[0]
        if state == "closed" or (state == "awaiting-agency" and decision == "upheld"):
            raise ContestError(
                f"this contest is {state}; it cannot be {decision} now", code="wrong-state"
            )
        status = "active" if decision == "upheld" else "overturned"
        _change(connection, entry, status, f"contest {decision}: {reason.strip()}", actor, now)
        due_process.insert_contest_step(
            connection,
            {
                "contest_id": contest["id"],
                "step": "decided",
                "outcome": decision,
                "reason": reason.strip(),
                "actor": actor.name,
                "recorded_at": now,
            },
        )
        _notify(
            connection,
            entry,
            f"Contest {decision} / 申诉{'维持' if decision == 'upheld' else '撤销'}",
            f"The review officer decided your contest of {entry.event_id}: {decision}. "
            f"Reasons: {reason.strip()}",
            {"contest": contest["id"], "decision": decision},
            now,
        )
        contest = _current(connection, entry)
    return _view(contest, entry, now)


def sweep_overdue(registry: Registry, *, limit: int = 10_000) -> list[ContestView]:
    """Overturn every contest the agency did not answer by its deadline."""
    now = registry.clock.now()
    overturned = []
    with registry.database.write() as connection:
        for contest_id, entry_id in _overdue(connection, now, limit):
            entry_row = connection.execute(
                select(entries.c.agency, entries.c.event_id).where(entries.c.id == entry_id)
            ).one()
            entry = _entry(connection, entry_row.agency, entry_row.event_id)
            contest = _current(connection, entry)
            reason = (
                f"the agency did not answer by {contest['answer_due'].isoformat()}: "
                "unverifiable information stops counting"
            )
            _change(connection, entry, "overturned", reason, SYSTEM, now)
            due_process.insert_contest_step(
                connection,
                {
                    "contest_id": contest_id,
                    "step": "expired",
                    "outcome": "overturned",
                    "reason": reason,
                    "actor": SYSTEM.name,
                    "recorded_at": now,
                },
            )
            _notify(
                connection,
                entry,
                "Contest overturned: no answer / 逾期未答复，记录撤销",
                reason,
                {"contest": contest_id, "decision": "overturned"},
                now,
            )
            overturned.append(_view(_current(connection, entry), entry, now))
    return overturned


def _overdue(connection: Connection, now: datetime, limit: int) -> list[tuple[int, int]]:
    answered = select(contest_steps.c.contest_id)
    query = (
        select(contests.c.id, contests.c.entry_id)
        .where(contests.c.answer_due < now, contests.c.id.not_in(answered))
        .order_by(contests.c.id)
        .limit(limit)
    )
    return [(row.id, row.entry_id) for row in connection.execute(query)]


def get_contest(registry: Registry, agency: str, event_id: str) -> ContestView:
    now = registry.clock.now()
    with registry.database.read() as connection:
        entry = _entry(connection, agency, event_id)
        return _view(_current(connection, entry), entry, now)


def list_contests(
    registry: Registry,
    *,
    overdue: bool = False,
    agency: str | None = None,
    person_id: str | None = None,
    open_only: bool = False,
    limit: int = 100,
    after_id: int | None = None,
) -> list[ContestView]:
    """Contests by id; ``overdue`` keeps the unanswered ones past their deadline."""
    now = registry.clock.now()
    query = (
        select(contests.c.id, entries.c.agency, entries.c.event_id)
        .join(entries, entries.c.id == contests.c.entry_id)
        .order_by(contests.c.id)
    )
    if agency is not None:
        query = query.where(entries.c.agency == agency)
    if person_id is not None:
        query = query.where(entries.c.person_id == person_id)
    if after_id is not None:
        query = query.where(contests.c.id > after_id)
    views = []
    with registry.database.read() as connection:
        for row in connection.execute(query):
            entry = _entry(connection, row.agency, row.event_id)
            contest = due_process.open_contest_of(connection, entry.id)
            if contest is None or contest["id"] != row.id:
                continue  # an older contest of an entry contested again
            view = _view(contest, entry, now)
            if (overdue and not view.overdue) or (open_only and view.state == "closed"):
                continue
            views.append(view)
            if len(views) >= limit:
                break
    return views
