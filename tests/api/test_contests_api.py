"""Contests and withdrawals over HTTP (issue 4, items 2-3): every step through the API, with
the roles that take it, the refusals by their codes, and the deadline on a later clock.

Time does not pass in a test: a second application over the same database, whose registry's
clock is pinned later, plays the registry a month on (never sleeping).
"""

import base64
from collections.abc import Callable
from typing import Any

from tests.api.conftest import API, TestClient, Town
from tests.api.due_process import contested, report, verified
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN, recent

from socialcredit.api import create_app
from socialcredit.services.contests import list_contests

CONTESTS = f"{API}/contests"
LATER = "2026-12-28T09:00:00+08:00"  # 31 days after the towns' pinned now (contest_answer_days 30)


def entry_of(town: Town, role: str, event_id: str, person_id: str = ZHANG_JIAN) -> dict[str, Any]:
    statement = town.get(f"{API}/people/{person_id}/statement", role).json()
    return next(entry for entry in statement["entries"] if entry["event_id"] == event_id)


def later(town: Town, make_registry: Callable[..., Any], when: str = LATER) -> Town:
    """The same registry, as a server started at ``when`` would see it."""
    registry = make_registry(town.registry.database.url, [], now=when)
    client = TestClient(create_app(registry), base_url="https://testserver")
    return Town(registry, client, town.tokens, town.accounts)


def test_open_answer_decide_over_http(town_any_db: Town):
    town = town_any_db
    opened = town.post(
        CONTESTS,
        "resident",
        json={"agency": "traffic-police", "event_id": "TP-1", "grounds": "I was abroad"},
    )
    assert opened.status_code == 200, opened.text
    view = opened.json()
    assert (view["state"], view["person_id"], view["opened_by"]) == (
        "awaiting-agency",
        ZHANG_JIAN,
        "zhang-jian",
    )
    entry = entry_of(town, "resident", "TP-1")
    assert (entry["status"], entry["counts"]) == ("contested", True)  # still counts, flagged
    # The agency finds it in its queue and verifies it.
    queue = town.get(CONTESTS, "agency", params={"open": "true"}).json()["items"]
    assert [(c["event_id"], c["state"]) for c in queue] == [("TP-1", "awaiting-agency")]
    answered = town.post(
        f"{CONTESTS}/traffic-police/TP-1/answer",
        "agency",
        json={"answer": "verified", "reason": "camera 7 photo"},
    )
    assert answered.json()["state"] == "awaiting-decision", answered.text
    decided = town.post(
        f"{CONTESTS}/traffic-police/TP-1/decision",
        "clerk",
        json={"decision": "overturned", "reason": "the photo shows another car"},
    ).json()
    assert (decided["state"], decided["outcome"]) == ("closed", "overturned")
    assert [step["step"] for step in decided["steps"]] == ["answered", "decided"]
    entry = entry_of(town, "resident", "TP-1")
    assert (entry["status"], entry["counts"], entry["why"]) == ("overturned", False, "overturned")
    assert town.get(f"{API}/people/{ZHANG_JIAN}", "resident").json()["score"] == 1000
    # The resident reads the reasons: in the contest and in the notices.
    mine = town.get(f"{CONTESTS}/traffic-police/TP-1", "resident").json()
    assert mine["steps"][-1]["reason"] == "the photo shows another car"
    subjects = [n["subject"] for n in town.get(f"{API}/people/{ZHANG_JIAN}/notices", "resident")
                .json()["items"]]  # fmt: skip
    assert subjects[0].startswith("Contest overturned") and "Contest opened" in subjects[2]


def test_upheld_returns_the_entry_to_active(town: Town):
    verified(town, "UP-1")
    upheld = town.post(
        f"{CONTESTS}/traffic-police/UP-1/decision",
        "admin",
        json={"decision": "upheld", "reason": "the photo matches the plate"},
    )
    assert upheld.json()["outcome"] == "upheld", upheld.text
    assert entry_of(town, "clerk", "UP-1")["status"] == "active"


def test_agency_answers_withdrawn_or_corrected(town: Town):
    contested(town, "W-1")
    withdrawn = town.post(
        f"{CONTESTS}/traffic-police/W-1/answer", "agency", json={"answer": "withdrawn"}
    ).json()
    assert (withdrawn["state"], withdrawn["outcome"]) == ("closed", "withdrawn")
    assert entry_of(town, "clerk", "W-1")["why"] == "withdrawn"
    # A correction names the event the agency sent in its place (same agency, same person).
    contested(town, "C-1")
    sent = town.post(
        f"{API}/events",
        "agency",
        json={
            "events": [
                {
                    "event_id": "C-1b",
                    "person_id": ZHANG_JIAN,
                    "rule": "TRAFFIC-RED-LIGHT",
                    "occurred_on": recent(11),
                }
            ]
        },
    )
    assert sent.json()["accepted"] == 1
    missing = town.post(
        f"{CONTESTS}/traffic-police/C-1/answer", "agency", json={"answer": "corrected"}
    )
    assert_error(missing, 422, "missing-correction")
    corrected = town.post(
        f"{CONTESTS}/traffic-police/C-1/answer",
        "clerk",  # the office may answer for the agency
        json={"answer": "corrected", "corrected_by": "C-1b", "reason": "wrong date"},
    ).json()
    assert corrected["steps"][-1]["corrected_by"] == "C-1b"
    assert entry_of(town, "clerk", "C-1")["status"] == "withdrawn"
    assert entry_of(town, "clerk", "C-1b")["status"] == "active"


def test_refusals_have_their_codes(town: Town):
    body = {"agency": "public-security", "event_id": "PS-1", "grounds": "not me"}
    assert_error(town.post(CONTESTS, "resident", json=body), 403, "not-your-record")
    unknown = {**body, "event_id": "NOPE"}
    assert_error(town.post(CONTESTS, "clerk", json=unknown), 404, "unknown-entry")
    assert_error(town.post(CONTESTS, "resident", json=unknown), 403, "not-your-record")
    assert_error(town.post(CONTESTS, "clerk", json={**body, "grounds": "  "}), 422)
    assert town.post(CONTESTS, "clerk", json=body).status_code == 200
    assert_error(town.post(CONTESTS, "clerk", json=body), 409, "not-contestable")
    # The traffic police answer only for their own entries; nobody upholds unverified.
    answer = {"answer": "verified"}
    assert_error(
        town.post(f"{CONTESTS}/public-security/PS-1/answer", "agency", json=answer),
        403,
        "not-your-agency",
    )
    uphold = {"decision": "upheld", "reason": "fine"}
    assert_error(
        town.post(f"{CONTESTS}/public-security/PS-1/decision", "clerk", json=uphold),
        409,
        "wrong-state",
    )
    assert_error(
        town.post(f"{CONTESTS}/traffic-police/TP-1/decision", "clerk", json=uphold),
        404,
        "no-contest",
    )
    assert_error(
        town.post(f"{CONTESTS}/traffic-police/TP-1/answer", "agency", json={"answer": "maybe"}),
        422,
        "invalid-request",
    )
    assert_error(
        town.post(f"{CONTESTS}/public-security/PS-1/decision", "clerk", json={"decision": "x"}),
        422,
        "invalid-request",
    )


def test_attachments_within_the_limits(make_town: Callable[..., Town]):
    town = make_town(max_attachments=2, max_attachment_bytes=10)

    def open_with(event_id: str, *files: bytes) -> Any:
        report(town, event_id)
        attachments = [
            {"filename": f"f{n}.txt", "content_base64": base64.b64encode(data).decode()}
            for n, data in enumerate(files)
        ]
        body = {"agency": "traffic-police", "event_id": event_id, "grounds": "see attached"}
        return town.post(CONTESTS, "resident", json={**body, "attachments": attachments})

    assert open_with("AT-1", b"receipt", b"ticket").status_code == 200
    assert_error(open_with("AT-2", b"a", b"b", b"c"), 422, "too-many-attachments")
    assert_error(open_with("AT-3", b"x" * 11), 413, "attachment-too-large")
    report(town, "AT-4")
    bad = {
        "agency": "traffic-police",
        "event_id": "AT-4",
        "grounds": "see attached",
        "attachments": [{"filename": "x", "content_base64": "abc"}],  # not padded: invalid
    }
    assert_error(town.post(CONTESTS, "resident", json=bad), 422, "invalid-request")
    # Nothing refused was half-recorded: only AT-1 is contested.
    assert [c["event_id"] for c in town.get(CONTESTS, "clerk").json()["items"]] == ["AT-1"]


def test_each_role_sees_its_own_contests(town: Town):
    contested(town, "Z-1")
    town.post(CONTESTS, "clerk", json={"agency": "public-security", "event_id": "PS-1",
                                       "grounds": "not me"})  # fmt: skip

    def listed(role: str, **params: str) -> list[str]:
        response = town.get(CONTESTS, role, params=params)
        assert response.status_code == 200, response.text
        return [c["event_id"] for c in response.json()["items"]]

    assert listed("clerk") == listed("auditor") == ["Z-1", "PS-1"]
    assert listed("clerk", person=LI_NA) == listed("clerk", agency="public-security") == ["PS-1"]
    assert listed("agency") == ["Z-1"]  # the traffic police's queue
    assert listed("resident") == ["Z-1"]  # Zhang Jian's own
    assert listed("clerk", overdue="true") == []
    assert_error(town.get(CONTESTS, "resident", params={"person": LI_NA}), 403, "not-your-record")
    assert_error(
        town.get(CONTESTS, "agency", params={"agency": "public-security"}), 403, "not-your-agency"
    )
    assert_error(town.get(CONTESTS, "clerk", params={"person": "12345"}), 400, "invalid-person-id")


def test_a_resident_never_reads_another_persons_contest(town: Town):
    town.post(CONTESTS, "clerk", json={"agency": "public-security", "event_id": "PS-1",
                                       "grounds": "not me"})  # fmt: skip
    before = len(town.access_rows(LI_NA))
    for path in ("public-security/PS-1", "public-security/NO-SUCH-EVENT"):
        error = assert_error(town.get(f"{CONTESTS}/{path}", "resident"), 403, "not-your-record")
        assert LI_NA not in str(error)
    assert_error(town.get(f"{CONTESTS}/public-security/PS-1", "agency"), 403, "not-your-agency")
    assert len(town.access_rows(LI_NA)) == before  # refused before anything was read
    # The office reads it, and that read is in her log with its purpose.
    assert town.get(f"{CONTESTS}/public-security/PS-1", "clerk").status_code == 200
    row = town.access_rows(LI_NA)[-1]
    assert (row.actor, row.action, row.purpose) == ("clerk-wang", "contest", "office enquiry")


def test_contests_page(make_town: Callable[..., Town]):
    town = make_town(api_max_page_size=2)
    for n in range(5):
        contested(town, f"PG-{n}")
    seen, cursor = [], None
    while True:
        params = {"limit": "50"} | ({"cursor": cursor} if cursor else {})
        page = town.get(CONTESTS, "agency", params=params).json()
        assert len(page["items"]) <= 2
        seen += [c["event_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"PG-{n}" for n in range(5)]
    assert_error(town.get(CONTESTS, "agency", params={"cursor": "e30"}), 400, "invalid-cursor")


def test_unanswered_contests_are_overturned_at_the_deadline(
    town_any_db: Town, make_registry: Callable[..., Any]
):
    town = town_any_db
    contested(town, "D-1")
    contested(town, "D-2")
    swept = town.post(f"{CONTESTS}/sweep", "admin").json()
    assert swept == {"overturned": []}  # not due yet
    month_on = later(town, make_registry)
    overdue = month_on.get(CONTESTS, "clerk", params={"overdue": "true"}).json()["items"]
    assert [c["event_id"] for c in overdue] == ["D-1", "D-2"]
    assert all(c["overdue"] for c in overdue)
    swept = month_on.post(f"{CONTESTS}/sweep", "admin").json()["overturned"]
    assert [(c["event_id"], c["outcome"]) for c in swept] == [
        ("D-1", "overturned"),
        ("D-2", "overturned"),
    ]
    assert "did not answer" in swept[0]["steps"][-1]["reason"]
    late = month_on.post(f"{CONTESTS}/traffic-police/D-1/answer", "agency",
                         json={"answer": "verified"})  # fmt: skip
    assert_error(late, 409, "wrong-state")
    assert entry_of(month_on, "clerk", "D-2")["why"] == "overturned"
    assert month_on.post(f"{CONTESTS}/sweep", "admin").json() == {"overturned": []}


def test_a_late_answer_finds_the_contest_already_overturned(
    town: Town, make_registry: Callable[..., Any]
):
    contested(town, "D-3")
    month_on = later(town, make_registry)
    # No sweep ran: answering runs it first, so the late answer is refused all the same.
    late = month_on.post(f"{CONTESTS}/traffic-police/D-3/answer", "agency",
                         json={"answer": "verified"})  # fmt: skip
    assert_error(late, 409, "wrong-state")
    assert list_contests(month_on.registry, overdue=True) == []


def test_withdrawal_by_the_reporting_agency(town: Town):
    url = f"{API}/entries/traffic-police/TP-1/withdraw"
    withdrawn = town.post(url, "agency", json={"reason": "the plate was misread"})
    assert withdrawn.json() == {
        "agency": "traffic-police",
        "event_id": "TP-1",
        "status": "withdrawn",
    }
    entry = entry_of(town, "clerk", "TP-1")
    assert (entry["status"], entry["counts"]) == ("withdrawn", False)
    assert_error(town.post(url, "agency", json={"reason": "again"}), 409, "not-withdrawable")
    other = f"{API}/entries/public-security/PS-1/withdraw"
    assert_error(town.post(other, "agency", json={"reason": "x"}), 403, "not-your-agency")
    missing = f"{API}/entries/traffic-police/NOPE/withdraw"
    assert_error(town.post(missing, "agency", json={"reason": "x"}), 404, "unknown-entry")
    assert_error(town.post(url, "agency", json={"reason": ""}), 422, "invalid-request")
    notices = town.get(f"{API}/people/{ZHANG_JIAN}/notices", "clerk").json()["items"]
    assert notices[0]["subject"].startswith("Entry withdrawn")
