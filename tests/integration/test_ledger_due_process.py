"""Principle 7 for due process: contests, their steps and attachments, notices, deliveries,
consents and archive purges are leaves too, so `verify` passes after them and names any of
their rows changed behind the application's back (SQLite and PostgreSQL)."""

from pathlib import Path

import pytest
from sqlalchemy import text
from tests.conftest import EVENTS_HEADER, LI_NA, write_csv

from socialcredit.services.access import Actor
from socialcredit.services.archive import purge_personal_details
from socialcredit.services.consent import grant_consent
from socialcredit.services.contests import answer_contest, decide_contest, open_contest
from socialcredit.services.delivery import deliver_notices
from socialcredit.services.events import import_events
from socialcredit.services.ledger_verify import verify_registry
from socialcredit.services.notifiers import FileNotifier
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry

CLERK = Actor("clerk-1", "clerk", "Social Credit Management Office")


@pytest.fixture
def history(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    import_people(registry, people_file)
    import_events(
        registry,
        write_csv(
            tmp_path / "e.csv",
            EVENTS_HEADER,
            [
                f"traffic-police,T1,{LI_NA},TRAFFIC-RED-LIGHT,2026-06-01,camera 7",
                f"public-security,P1,{LI_NA},PUBLIC-FIGHT,2026-07-01,",
            ],
        ),
    )
    open_contest(
        registry,
        "traffic-police",
        "T1",
        grounds="not me",
        actor=CLERK,
        attachments=(("photo.jpg", "image/jpeg", b"\xff\xd8 not a car"),),
    )
    answer_contest(registry, "traffic-police", "T1", "verified", reason="photo")
    decide_contest(registry, "traffic-police", "T1", "overturned", reason="other car", actor=CLERK)
    grant_consent(registry, LI_NA, "Rongcheng Rural Commercial Bank", "loan", CLERK)
    deliver_notices(registry, FileNotifier(tmp_path / "outbox.jsonl", registry.clock))
    return registry


def test_due_process_writes_verify(history: Registry, database_url: str, make_registry):
    report = verify_registry(history)
    assert report.ok, report.findings
    for table in (
        "contests",
        "contest_steps",
        "contest_attachments",
        "notices",
        "notice_deliveries",
        "consents",
    ):
        assert report.records.get(table, 0) > 0, table
    much_later = make_registry(database_url, [], now="2033-01-01T09:00:00+08:00")
    assert purge_personal_details(much_later).entries > 0
    after = verify_registry(much_later)
    assert after.ok, after.findings
    assert after.records.get("purges", 0) > 0


@pytest.mark.parametrize(
    ("table", "change"),
    [
        ("contests", "UPDATE contests SET grounds = 'I admit it'"),
        (
            "contest_steps",
            "UPDATE contest_steps SET outcome = 'upheld' WHERE outcome = 'overturned'",
        ),
        ("consents", "DELETE FROM consents"),
        ("notices", "UPDATE notices SET body = 'nothing happened'"),
    ],
)
def test_tampering_with_due_process_rows_is_named(history: Registry, table: str, change: str):
    with history.database.engine.begin() as connection:
        connection.execute(text(change))
    report = verify_registry(history)
    assert not report.ok
    assert any(finding.table == table for finding in report.findings), report.findings
