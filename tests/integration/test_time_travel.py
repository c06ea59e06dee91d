"""Time travel (issue 4, item 9): answers ``known_at`` T equal answers on a copy of the store
frozen at T, and every statement adds up, for random histories.

Method: hypothesis draws a history of steps (imports with corrections and repairs, contests,
answers, decisions, withdrawals, deadline sweeps), each done by a registry whose pinned clock
is one hour later than the previous step's. Then, for random knowledge times T and dates D,
the score, grade, blacklist and statement entries asked ``known_at=T`` must equal those of a
copy of the SQLite file from which everything recorded after T was deleted (personal details
rolled back to T). Every statement's score must be its base plus its counting entries.
"""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import FIXTURES, open_registry, person, write_csv

from socialcredit.domain.errors import RefusedError
from socialcredit.services import standing
from socialcredit.services.catalogue import init_registry
from socialcredit.services.contests import (
    answer_contest,
    decide_contest,
    open_contest,
    sweep_overdue,
)
from socialcredit.services.corrections import withdraw_entry
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PEOPLE = [person(date(1960 + 7 * n, 2, 1 + n), 2 * n + 1) for n in range(4)]
HEADER = "agency,event_id,person_id,rule,occurred_on,evidence,corrects,repairs"
RULES = {
    "TRAFFIC-RED-LIGHT": "traffic-police",
    "PUBLIC-FIGHT": "public-security",
    "DEBTOR": "court",
    "DEBT-PAID": "court",
    "DONATION": "red-cross",
}
OFFICER = standing.LOCAL

event = st.tuples(
    st.integers(0, 3),
    st.sampled_from(sorted(RULES)),
    st.integers(0, 60),
    st.sampled_from(["", "corrects", "repairs"]),
    st.integers(0, 30),
)
step = st.one_of(
    st.tuples(st.just("import"), st.lists(event, min_size=1, max_size=5)),
    st.tuples(st.just("open"), st.integers(0, 99)),
    st.tuples(st.just("answer"), st.integers(0, 99), st.sampled_from(["verified", "withdrawn"])),
    st.tuples(st.just("decide"), st.integers(0, 99), st.sampled_from(["upheld", "overturned"])),
    st.tuples(st.just("withdraw"), st.integers(0, 99)),
    st.tuples(st.just("sweep"), st.integers(0, 1)),
)


class History:
    """Runs steps against one SQLite file, one hour apart; remembers event keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.url = f"sqlite:///{folder / 'live.db'}"
        self.keys: list[tuple[str, str]] = []
        self.hour = 0
        first = self.registry()
        init_registry(first, [FIXTURES / "due-process.yaml"])
        rows = [f"{pid},人{n},城西街道,false" for n, pid in enumerate(PEOPLE)]
        import_people(
            first, write_csv(folder / "people.csv", "id,name,district,public_servant", rows)
        )
        first.close()

    def registry(self) -> Registry:
        self.hour += 1
        return open_registry(self.url, now=(START + timedelta(hours=self.hour)).isoformat())

    def moment(self) -> datetime:
        return START + timedelta(hours=self.hour)

    def run(self, item: tuple) -> None:
        registry = self.registry()
        try:
            self._run(registry, item)
        except RefusedError:
            pass  # a step that is not allowed now is part of a realistic history
        finally:
            registry.close()

    def _run(self, registry: Registry, item: tuple) -> None:
        kind = item[0]
        if kind == "import":
            self._import(registry, item[1])
            return
        if kind == "sweep":
            sweep_overdue(registry)
            return
        if not self.keys:
            return
        agency, event_id = self.keys[item[1] % len(self.keys)]
        if kind == "open":
            open_contest(registry, agency, event_id, grounds="not me")
        elif kind == "answer":
            answer_contest(registry, agency, event_id, item[2])
        elif kind == "decide":
            decide_contest(registry, agency, event_id, item[2], reason="reviewed", actor=OFFICER)
        else:
            withdraw_entry(registry, agency, event_id, reason="mistake")

    def _import(self, registry: Registry, events: list) -> None:
        rows = []
        for who, rule, day, link, target in events:
            agency = RULES[rule]
            event_id = f"E{len(self.keys) + len(rows)}"
            ref = self.keys[target % len(self.keys)][1] if self.keys and link else ""
            occurred = date(2026, 1, 1) + timedelta(days=day)
            columns = [
                agency,
                event_id,
                PEOPLE[who],
                rule,
                occurred.isoformat(),
                "",
                ref if link == "corrects" else "",
                ref if link == "repairs" else "",
            ]
            rows.append(",".join(columns))
        path = write_csv(self.folder / f"e{self.hour}.csv", HEADER, rows)
        import_events(registry, path)
        self.keys += [tuple(row.split(",")[:2]) for row in rows]  # type: ignore[misc]


def frozen_copy(history: History, known_at: datetime) -> str:
    """A copy of the live file without anything recorded after ``known_at``."""
    target = history.folder / f"frozen-{known_at.timestamp():.0f}.db"
    source = sqlite3.connect(history.folder / "live.db")
    copy = sqlite3.connect(target)
    source.backup(copy)
    source.close()
    at = known_at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    later = "recorded_at > ?"
    for table in ("notices", "access_log", "contest_steps", "contest_attachments"):
        copy.execute(f"DELETE FROM {table} WHERE {later}", (at,))
    copy.execute(
        f"DELETE FROM contest_steps WHERE contest_id IN (SELECT id FROM contests WHERE {later})",
        (at,),
    )
    copy.execute(f"DELETE FROM contests WHERE {later}", (at,))
    copy.execute(f"DELETE FROM entry_changes WHERE {later}", (at,))
    copy.execute(
        f"DELETE FROM entry_changes WHERE entry_id IN (SELECT id FROM entries WHERE {later})", (at,)
    )
    copy.execute(f"DELETE FROM entries WHERE {later}", (at,))
    copy.execute(f"DELETE FROM catalogue_versions WHERE {later}", (at,))
    copy.commit()
    copy.close()
    return f"sqlite:///{target}"


def _entries(statement: dict) -> list[tuple]:
    return [
        (e["agency"], e["event_id"], e["points"], e["status"], e["counts"], e["why"], e["ends_on"])
        for e in statement["entries"]
    ]


def _answer(registry: Registry, person_id: str, day: date, known_at: datetime | None):
    try:
        statement = standing.statement(registry, person_id, as_of=day, known_at=known_at)
    except RefusedError as refused:
        return refused.code
    document = statement.as_dict()
    counted = sum(e["points"] for e in document["entries"] if e["counts"])
    assert document["score"] == document["base_score"] + counted
    return (document["score"], document["grade"], document["blacklisted"], _entries(document))


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=2, max_size=9), data=st.data())
def test_known_at_equals_a_store_frozen_then(tmp_path_factory, steps, data):
    history = History(tmp_path_factory.mktemp("history"))
    for item in steps:
        history.run(item)
    live = history.registry()
    try:
        for _ in range(3):
            known_at = START + timedelta(hours=data.draw(st.integers(1, history.hour)), minutes=30)
            day = date(2026, 1, 1) + timedelta(days=data.draw(st.integers(0, 500)))
            frozen = open_registry(frozen_copy(history, known_at), now=known_at.isoformat())
            try:
                for person_id in PEOPLE:
                    assert _answer(live, person_id, day, known_at) == _answer(
                        frozen, person_id, day, None
                    ), (person_id, day, known_at)
            finally:
                frozen.close()
    finally:
        live.close()


def test_statement_adds_up_for_every_date(tmp_path: Path):
    history = History(tmp_path)
    history.run(
        (
            "import",
            [
                (0, "DEBTOR", 10, "", 0),
                (0, "DONATION", 20, "", 0),
                (0, "PUBLIC-FIGHT", 30, "", 0),
                (0, "DONATION", 40, "", 0),
            ],
        )
    )
    history.run(("import", [(0, "DEBT-PAID", 50, "repairs", 0)]))
    history.run(("open", 2))
    live = history.registry()
    for offset in range(0, 800, 37):
        _answer(live, PEOPLE[0], date(2026, 1, 1) + timedelta(days=offset), None)
    live.close()
