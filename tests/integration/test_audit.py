"""The auditor's search of the access log (issue 4, item 7): filters, newest first, pages that
cover every row once, and the search itself logged for each person it shows."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LI_NA, NOW, ZHANG_JIAN, person
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.domain.errors import SocialCreditError
from socialcredit.services import standing
from socialcredit.services.access import Actor, list_access, record_access
from socialcredit.services.audit import search_access
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings

BANK = Actor("bank-teller-7", "verifier", "Rongcheng Rural Commercial Bank")
SCHOOL = Actor("school-admissions", "verifier", "Rongcheng No. 1 Middle School")
CLERK = Actor("clerk-1", "clerk", "Social Credit Management Office")
AUDITOR = Actor("auditor-1", "auditor", "Municipal Audit Bureau")


@pytest.fixture
def log(registry: Registry, people_file: Path, database_url: str) -> Iterator[Registry]:
    """Six reads over three days (times in Rongcheng):

    id 1  11-25 09:00  bank    score      Zhang
    id 2  11-25 15:00  school  check      Li Na
    id 3  11-26 10:00  bank    check      Zhang
    id 4  11-26 10:00  clerk   statement  Li Na
    id 5  11-27 08:00  bank    score      Li Na
    id 6  11-27 12:00  clerk   statement  Zhang   (the registry's now)
    """
    import_people(registry, people_file)
    reads = [
        ("2026-11-25T09:00:00", BANK, ZHANG_JIAN, "score"),
        ("2026-11-25T15:00:00", SCHOOL, LI_NA, "check"),
        ("2026-11-26T10:00:00", BANK, ZHANG_JIAN, "check"),
        ("2026-11-26T10:00:00", CLERK, LI_NA, "statement"),
        ("2026-11-27T08:00:00", BANK, LI_NA, "score"),
    ]
    opened = []
    for moment, actor, who, action in reads:
        at = Registry.open(database_url, load_settings({}, now=moment))
        opened.append(at)
        record_access(at, actor, who, action, f"{action} for {actor.name}")
    standing.statement(registry, ZHANG_JIAN, actor=CLERK, purpose="at the service hall")
    yield registry
    for at in opened:
        at.close()


def _ids(registry: Registry, **filters: Any) -> list[int]:
    """Ids of the matching reads, leaving out the rows earlier searches wrote about themselves."""
    page = search_access(registry, reader=AUDITOR, **filters)
    return [row_id for row_id, record in page.rows if record.action != "access-log"]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_filters_match_exactly_and_combine(log: Registry):
    assert _ids(log, actor="bank-teller-7", action="score") == [5, 1]
    assert _ids(log, person_id=ZHANG_JIAN) == [6, 3, 1]
    assert _ids(log, organisation="Rongcheng No. 1 Middle School") == [2]
    assert _ids(log, organisation="Rongcheng No. 1") == []  # exact, not a prefix
    assert _ids(log, action="statement", person_id=LI_NA) == [4]
    assert _ids(log, actor="nobody") == []


def test_time_window_since_inclusive_until_exclusive(log: Registry):
    day = {"since": _at("2026-11-26T00:00:00+08:00"), "until": _at("2026-11-27T00:00:00+08:00")}
    assert _ids(log, **day) == [4, 3]
    assert _ids(
        log, since=_at("2026-11-26T10:00:00+08:00"), until=_at("2026-11-27T08:00:00+08:00")
    ) == [4, 3]
    assert _ids(log, until=_at("2026-11-25T15:00:00+08:00")) == [1]


def test_pages_cover_every_row_once_newest_first(log: Registry):
    seen: list[int] = []
    cursor = None
    while True:
        page = search_access(log, limit=4, cursor=cursor, reader=AUDITOR)
        seen += [row_id for row_id, _record in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(seen) == len(set(seen))
    assert set(range(1, 7)) <= set(seen)  # and the audit rows the first page wrote
    exact = search_access(log, action="score", limit=2, reader=AUDITOR)
    assert len(exact.rows) == 2 and exact.next_cursor is None  # no empty page at the end


def test_the_search_is_logged_for_each_person_it_shows(log: Registry):
    page = search_access(
        log, actor="school-admissions", reader=AUDITOR, purpose="complaint 2026-17"
    )
    assert [record.person_id for _id, record in page.rows] == [LI_NA]
    newest = list_access(log, LI_NA, limit=1)[0][1]
    assert (newest.actor, newest.role, newest.organisation, newest.action, newest.purpose) == (
        "auditor-1",
        "auditor",
        "Municipal Audit Bureau",
        "access-log",
        "complaint 2026-17",
    )
    assert list_access(log, ZHANG_JIAN, limit=1)[0][1].actor == "clerk-1"  # not shown: not logged
    assert search_access(log, actor="nobody", reader=AUDITOR).rows == ()


def test_a_person_id_is_normalised_and_need_not_be_registered(log: Registry):
    with_x = next(p for s in range(1, 200) if (p := person(sequence=s)).endswith("X"))
    assert search_access(log, person_id=with_x.lower(), reader=AUDITOR).rows == ()
    rows = search_access(log, person_id=f" {ZHANG_JIAN} ", reader=AUDITOR).rows
    assert [row_id for row_id, _r in rows][:3] == [6, 3, 1]


@pytest.mark.parametrize(
    ("filters", "code"),
    [
        ({"person_id": "12345"}, "invalid-person-id"),
        ({"cursor": "abc"}, "invalid-input"),
        ({"cursor": "-1"}, "invalid-input"),
        ({"limit": 0}, "invalid-input"),
        ({"limit": 10_001}, "invalid-input"),
        (
            {"since": _at("2026-11-27T00:00:00+08:00"), "until": _at("2026-11-26T00:00:00+08:00")},
            "invalid-input",
        ),
    ],
)
def test_refusals(log: Registry, filters: dict[str, Any], code: str):
    with pytest.raises(SocialCreditError) as refusal:
        search_access(log, reader=AUDITOR, **filters)
    assert refusal.value.code == code


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli(
    sqlite_registry: Registry,
    people_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    import_people(sqlite_registry, people_file)
    for moment, who in (
        ("2026-11-26T10:00:00+08:00", ZHANG_JIAN),
        ("2026-11-27T10:00:00+08:00", LI_NA),
    ):
        at = Registry.open(sqlite_registry.database.url, load_settings({}, now=moment))
        record_access(at, BANK, who, "check", "loan application")
        at.close()
    monkeypatch.setenv("SOCIALCREDIT_NOW", NOW)
    return runner(capsys, sqlite_registry.database.url)


def test_cli_search(cli: Callable[..., Run]):
    found = cli(
        "audit", "access", "--organisation", BANK.organisation, "--since", "2026-11-27", "--json"
    )
    assert found.code == 0
    [row] = found.document["access"]
    assert (row["id"], row["person_id"], row["actor"], row["action"], row["purpose"]) == (
        2,
        LI_NA,
        "bank-teller-7",
        "check",
        "loan application",
    )
    assert found.document["next_cursor"] is None
    paged = cli("audit", "access", "--actor", "bank-teller-7", "--limit", "1", "--json")
    assert [r["id"] for r in paged.document["access"]] == [2]
    rest = cli(
        "audit",
        "access",
        "--actor",
        "bank-teller-7",
        "--cursor",
        paged.document["next_cursor"],
        "--json",
    )
    assert [r["id"] for r in rest.document["access"]] == [1]
    by_person = cli("audit", "access", "--person", ZHANG_JIAN, "--action", "access-log", "--json")
    assert by_person.code == 0 and by_person.document["access"][0]["actor"].startswith("cli:")
    human = cli("audit", "access", "--person", LI_NA)
    assert human.code == 0 and "loan application" in human.out


def test_cli_refusals(cli: Callable[..., Run]):
    refused(cli("audit", "access", "--person", "12345", "--json"), 1, "invalid-person-id")
    refused(cli("audit", "access", "--since", "yesterday", "--json"), 2, "invalid-input")
    refused(cli("audit", "access", "--cursor", "x", "--json"), 2, "invalid-input")
