"""Expiry and archive (issue 4, item 5): after the archive period the personal details of an
entry (evidence, contest grounds, attachment contents) are purged; the entry stays.

The clock is pinned (setting ``now``) at the moments that matter; nothing sleeps.
"""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from tests.conftest import EVENTS_HEADER, LI_NA, ZHANG_JIAN, write_csv
from tests.integration.cli_helpers import Run, runner

from socialcredit.services import standing
from socialcredit.services.archive import purge_personal_details
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings
from socialcredit.store import ledger
from socialcredit.store.schema import (
    contest_attachments,
    contest_steps,
    contests,
    entries,
    entry_changes,
    ledger_purged,
    purges,
)

FIVE_YEARS = 1825
TP1_UNTIL = date(2027, 1, 10)  # red light on 2026-01-10, counts P1Y
PS1_UNTIL = date(2027, 2, 1)  # fight on 2026-02-01, counts and blacklists P1Y
TP2_UNTIL = date(2027, 6, 1)  # red light on 2026-06-01


def noon(day: date) -> str:
    return f"{day.isoformat()}T12:00:00+08:00"


@pytest.fixture
def at(database_url: str) -> Iterator[Callable[..., Registry]]:
    """``at(day, **settings)``: the same registry with its clock pinned at noon on ``day``."""
    opened: list[Registry] = []

    def open_at(day: date, **settings: Any) -> Registry:
        registry = Registry.open(database_url, load_settings({}, now=noon(day), **settings))
        opened.append(registry)
        return registry

    yield open_at
    for registry in opened:
        registry.close()


def _town(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    import_people(registry, people_file)
    events = write_csv(
        tmp_path / "events.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-01-10,camera 7 photo of 鲁K12345",
            f"public-security,PS-1,{LI_NA},PUBLIC-FIGHT,2026-02-01,case 2026-88 statement",
            f"traffic-police,TP-2,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,2026-06-01,camera 9",
            f"traffic-police,TP-3,{LI_NA},TRAFFIC-RED-LIGHT,2026-01-05,",
        ],
    )
    assert import_events(registry, events).accepted == 4
    return registry


@pytest.fixture
def town(registry: Registry, people_file: Path, tmp_path: Path) -> Registry:
    return _town(registry, people_file, tmp_path)


def _entry_ids(registry: Registry) -> dict[str, int]:
    with registry.database.read() as connection:
        return {row.event_id: row.id for row in connection.execute(select(entries))}


def _table(registry: Registry, table: Any) -> list[dict[str, Any]]:
    with registry.database.read() as connection:
        return [
            dict(row._mapping) for row in connection.execute(select(table).order_by(table.c.id))
        ]


def _table_by(registry: Registry, table: Any, key: str) -> list[dict[str, Any]]:
    with registry.database.read() as connection:
        return [
            dict(row._mapping) for row in connection.execute(select(table).order_by(table.c[key]))
        ]


def _evidence(registry: Registry) -> dict[str, str | None]:
    return {row["event_id"]: row["evidence"] for row in _table(registry, entries)}


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def _contest(
    registry: Registry,
    entry_id: int,
    *,
    opened: str,
    due: str,
    steps: tuple[tuple[str, str, str], ...] = (),  # (step, outcome, when)
    attachment: bytes | None = b"%PDF receipt",
) -> int:
    with registry.database.write() as connection:
        contest_id = connection.execute(
            insert(contests).values(
                entry_id=entry_id,
                opened_by="zhang",
                opened_role="resident",
                grounds="I was at the hospital with my mother that day",
                answer_due=_moment(due),
                recorded_at=_moment(opened),
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        for step, outcome, when in steps:
            connection.execute(
                insert(contest_steps).values(
                    contest_id=contest_id,
                    step=step,
                    outcome=outcome,
                    reason="the camera photo is clear",
                    actor="clerk-1",
                    recorded_at=_moment(when),
                )
            )
        if attachment is not None:
            connection.execute(
                insert(contest_attachments).values(
                    contest_id=contest_id,
                    filename="receipt.pdf",
                    content_type="application/pdf",
                    size_bytes=len(attachment),
                    sha256="0" * 64,
                    content=attachment,
                    recorded_at=_moment(opened),
                )
            )
    return int(contest_id)


def test_nothing_is_purged_before_the_archive_period_ends(
    town: Registry, at: Callable[..., Registry]
):
    day_before = at(TP1_UNTIL + timedelta(days=FIVE_YEARS - 1))
    result = purge_personal_details(day_before)
    assert (result.entries, result.evidence, result.batches) == (0, 0, 0)
    assert result.cutoff == TP1_UNTIL - timedelta(days=1)
    assert _evidence(town)["TP-1"] == "camera 7 photo of 鲁K12345"
    assert _table(town, purges) == []


def test_on_the_day_the_evidence_goes_and_the_entry_stays(
    town: Registry, at: Callable[..., Registry]
):
    before = _table(town, entries)
    on_the_day = at(TP1_UNTIL + timedelta(days=FIVE_YEARS))
    result = purge_personal_details(on_the_day)
    assert (result.entries, result.evidence, result.grounds, result.attachments) == (1, 1, 0, 0)
    assert result.cutoff == TP1_UNTIL and result.as_of == TP1_UNTIL + timedelta(days=FIVE_YEARS)
    after = _table(town, entries)
    assert len(after) == len(before) == 4
    for old, new in zip(before, after, strict=True):
        purged = old["event_id"] == "TP-1"
        assert new == ({**old, "evidence": None} if purged else old)
    [purge] = _table(town, purges)
    assert purge["entry_id"] == _entry_ids(town)["TP-1"]
    assert json.loads(purge["fields"]) == {"entries.evidence": 1}
    assert purge["recorded_at"] == on_the_day.clock.now()


def test_the_ledger_keeps_the_digests_of_what_is_purged(
    town: Registry, at: Callable[..., Registry]
):
    ids = _entry_ids(town)
    with town.database.read() as connection:
        leaves = ledger.locate(connection, "entries", [ids["TP-1"], ids["PS-1"]])
    purge_personal_details(at(PS1_UNTIL + timedelta(days=FIVE_YEARS)))
    kept = {(row["leaf"], row["field"]) for row in _table_by(town, ledger_purged, "leaf")}
    assert kept == {
        (leaves[ids["TP-1"]].index, "evidence"),
        (leaves[ids["PS-1"]].index, "evidence"),
    }


def test_the_later_of_counting_and_blacklisting_starts_the_period(
    town: Registry, at: Callable[..., Registry]
):
    ids = _entry_ids(town)
    with town.database.write() as connection:  # a longer blacklist than counting window
        connection.execute(
            entries.update()
            .where(entries.c.id == ids["PS-1"])
            .values(blacklist_until=date(2028, 2, 1))
        )
    purge_personal_details(at(PS1_UNTIL + timedelta(days=FIVE_YEARS)))
    assert _evidence(town)["PS-1"] is not None
    purge_personal_details(at(date(2028, 2, 1) + timedelta(days=FIVE_YEARS)))
    assert _evidence(town)["PS-1"] is None


def test_a_contest_holds_details_back_until_its_last_step_is_old(
    town: Registry, at: Callable[..., Registry]
):
    ids = _entry_ids(town)
    decided = "2027-03-01T10:00:00+08:00"
    closed = _contest(
        town,
        ids["TP-1"],
        opened="2026-12-01T10:00:00+08:00",
        due="2026-12-31T10:00:00+08:00",
        steps=(
            ("answered", "verified", "2026-12-20T10:00:00+08:00"),
            ("decided", "upheld", decided),
        ),
    )
    still_open = _contest(
        town, ids["TP-2"], opened="2026-12-01T10:00:00+08:00", due="2040-01-01T00:00:00+08:00"
    )
    early = purge_personal_details(at(date(2027, 3, 1) + timedelta(days=FIVE_YEARS - 1)))
    assert early.entries == 1  # PS-1; TP-1's window is long over, but its contest ended later
    assert _evidence(town)["TP-1"] is not None
    result = purge_personal_details(at(date(2027, 3, 1) + timedelta(days=FIVE_YEARS)))
    assert (result.entries, result.evidence, result.grounds, result.attachments) == (1, 1, 1, 1)
    assert _evidence(town) == {"TP-1": None, "PS-1": None, "TP-2": "camera 9", "TP-3": None}
    by_id = {row["id"]: row for row in _table(town, contests)}
    assert by_id[closed]["grounds"] is None
    assert by_id[still_open]["grounds"] is not None  # open until 2040: not purged
    attachments = {row["contest_id"]: row for row in _table(town, contest_attachments)}
    assert attachments[closed]["content"] is None
    assert (
        attachments[closed]["filename"] == "receipt.pdf"
        and attachments[closed]["sha256"] == "0" * 64
    )
    assert attachments[still_open]["content"] == b"%PDF receipt"
    assert len(_table(town, contest_steps)) == 2  # the answer, the decision and reasons stay
    fields = {row["entry_id"]: json.loads(row["fields"]) for row in _table(town, purges)}
    assert fields == {
        ids["TP-1"]: {
            "entries.evidence": 1,
            "contests.grounds": 1,
            "contest_attachments.content": 1,
        },
        ids["PS-1"]: {"entries.evidence": 1},
    }


def test_an_open_contest_holds_details_back_however_old(
    town: Registry, at: Callable[..., Registry]
):
    ids = _entry_ids(town)
    unanswered = _contest(  # never answered, and nobody swept it
        town, ids["TP-1"], opened="2026-12-01T10:00:00+08:00", due="2026-12-31T10:00:00+08:00"
    )
    _contest(  # the agency verified; the review officer has not decided
        town,
        ids["PS-1"],
        opened="2026-12-01T10:00:00+08:00",
        due="2026-12-31T10:00:00+08:00",
        steps=(("answered", "verified", "2026-12-10T10:00:00+08:00"),),
    )
    far = at(date(2045, 1, 1))
    assert purge_personal_details(far).entries == 1  # only TP-2, which has no contest
    assert _evidence(town)["TP-1"] is not None and _evidence(town)["PS-1"] is not None
    with town.database.write() as connection:
        connection.execute(
            insert(contest_steps).values(
                contest_id=unanswered,
                step="expired",
                outcome="overturned",
                reason="not answered in time",
                actor="sweep",
                recorded_at=_moment("2030-01-01T10:00:00+08:00"),
            )
        )
    assert purge_personal_details(far).entries == 1  # TP-1 now; PS-1 still awaits a decision
    assert _evidence(town)["TP-1"] is None and _evidence(town)["PS-1"] is not None


def test_an_entry_with_only_contest_details_is_purged_too(
    town: Registry, at: Callable[..., Registry]
):
    ids = _entry_ids(town)  # TP-3 has no evidence; its contest has grounds, no attachment
    _contest(
        town,
        ids["TP-3"],
        opened="2026-03-01T10:00:00+08:00",
        due="2026-03-31T10:00:00+08:00",
        steps=(("answered", "withdrawn", "2026-03-20T10:00:00+08:00"),),
        attachment=None,
    )
    result = purge_personal_details(at(TP2_UNTIL + timedelta(days=FIVE_YEARS)))
    assert (result.entries, result.evidence, result.grounds, result.attachments) == (4, 3, 1, 0)
    assert json.loads(
        next(r["fields"] for r in _table(town, purges) if r["entry_id"] == ids["TP-3"])
    ) == {"contests.grounds": 1}


def test_a_second_run_purges_nothing_and_batches_are_bounded(
    town: Registry, at: Callable[..., Registry]
):
    later = at(TP2_UNTIL + timedelta(days=FIVE_YEARS), archive_batch_rows=1)
    first = purge_personal_details(later)
    assert (first.entries, first.batches) == (3, 3)
    again = purge_personal_details(later)
    assert (again.entries, again.evidence, again.batches) == (0, 0, 0)
    assert len(_table(town, purges)) == 3


def test_a_dry_run_counts_the_same_and_changes_nothing(town: Registry, at: Callable[..., Registry]):
    ids = _entry_ids(town)
    _contest(
        town,
        ids["TP-1"],
        opened="2026-12-01T10:00:00+08:00",
        due="2026-12-31T10:00:00+08:00",
        steps=(("expired", "overturned", "2027-01-01T10:00:00+08:00"),),
    )
    later = at(PS1_UNTIL + timedelta(days=FIVE_YEARS))
    dry = purge_personal_details(later, dry_run=True)
    assert dry.dry_run and (dry.entries, dry.evidence, dry.grounds, dry.attachments) == (2, 2, 1, 1)
    assert _table(town, purges) == [] and _evidence(town)["TP-1"] is not None
    real = purge_personal_details(later)
    assert (real.entries, real.evidence, real.grounds, real.attachments) == (2, 2, 1, 1)


def test_the_archive_period_is_a_setting(town: Registry, at: Callable[..., Registry]):
    result = purge_personal_details(at(TP1_UNTIL + timedelta(days=30), archive_after_days=30))
    assert (result.archive_after_days, result.entries) == (30, 1)


def test_statements_still_list_purged_entries(town: Registry, at: Callable[..., Registry]):
    later = at(TP2_UNTIL + timedelta(days=FIVE_YEARS))
    purge_personal_details(later)
    statement = standing.statement(later, ZHANG_JIAN)
    assert [(e.event_id, e.why, e.evidence) for e in statement.entries] == [
        ("TP-1", "expired", None),
        ("TP-2", "expired", None),
    ]
    assert statement.score == statement.base_score
    with town.database.read() as connection:  # status history is untouched
        assert connection.execute(select(entry_changes)).all() == []


# --- the command line -------------------------------------------------------------------------


def _cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, url: str, day: date
) -> Callable[..., Run]:
    monkeypatch.setenv("SOCIALCREDIT_NOW", noon(day))
    return runner(capsys, url)


def test_cli_purge_and_dry_run(
    sqlite_registry: Registry,
    people_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
):
    town = _town(sqlite_registry, people_file, tmp_path)
    cli = _cli(capsys, monkeypatch, town.database.url, PS1_UNTIL + timedelta(days=FIVE_YEARS))
    dry = cli("archive", "purge", "--dry-run", "--json")
    assert dry.code == 0
    assert dry.document == {
        "as_of": "2032-01-31",
        "archive_after_days": FIVE_YEARS,
        "cutoff": "2027-02-01",
        "dry_run": True,
        "entries": 2,
        "evidence": 2,
        "grounds": 0,
        "attachments": 0,
        "rejected_rows": 0,
        "batches": 0,
    }
    done = cli("archive", "purge", "--json")
    assert done.code == 0 and done.document["entries"] == 2 and not done.document["dry_run"]
    human = cli("archive", "purge")
    assert human.code == 0 and "purged the personal details of 0 entries" in human.out
    assert "the copies of 0 rows rejected by then" in human.out
    monkeypatch.setenv("SOCIALCREDIT_ARCHIVE_AFTER_DAYS", "0")
    bad = cli("archive", "purge", "--json")
    assert bad.code == 2 and bad.document["error"]["code"] == "invalid-input"


def test_rejected_rows_lose_their_copy_after_the_archive_period(
    town: Registry, at: Callable[..., Registry], tmp_path: Path
):
    """A rejected row keeps the agency's original (nothing is lost) until its archive period
    is over; then the copy goes, the rejection stays, a purge row names it and verify still
    passes (the ledger kept the digests)."""
    from socialcredit.services.ledger_verify import verify_registry
    from socialcredit.store.schema import rejections

    bad = write_csv(
        tmp_path / "bad.csv",
        EVENTS_HEADER,
        [f"traffic-police,TP-9,{ZHANG_JIAN},NO-SUCH-RULE,2026-03-01,camera 3 photo of 鲁K999"],
    )
    assert import_events(town, bad).rejected == 1
    [kept] = _table(town, rejections)
    assert "鲁K999" in kept["record"] and kept["reason"] == "unknown-rule"
    rejected_on = date(2026, 11, 27)  # the pinned clock of the town (tests.conftest.NOW)
    day_before = at(rejected_on + timedelta(days=FIVE_YEARS - 1))
    assert purge_personal_details(day_before).rejected_rows == 0
    assert _table(town, rejections) == [kept]
    on_the_day = at(rejected_on + timedelta(days=FIVE_YEARS))
    assert purge_personal_details(on_the_day, dry_run=True).rejected_rows == 1
    assert _table(town, rejections) == [kept]
    result = purge_personal_details(on_the_day)
    assert result.rejected_rows == 1 and result.as_dict()["rejected_rows"] == 1
    assert _table(town, rejections) == [{**kept, "record": None, "message": None}]
    [purge] = [row for row in _table(town, purges) if row["rejection_id"] is not None]
    assert purge["rejection_id"] == kept["id"] and purge["entry_id"] is None
    assert json.loads(purge["fields"]) == {"rejections.record": 1, "rejections.message": 1}
    assert purge_personal_details(on_the_day).rejected_rows == 0  # nothing twice
    report = verify_registry(on_the_day)
    assert report.ok, report.findings
    assert report.purged == 1  # this record (no entry is old enough yet)
