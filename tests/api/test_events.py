"""Agencies submit events over HTTP: per-row answers, not-your-agency, idempotency, uploads."""

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select
from tests.api.conftest import API, Town
from tests.api.errors import assert_error
from tests.conftest import LI_NA, ZHANG_JIAN, recent

from socialcredit.store.schema import entries, idempotency_keys, imports, rejections

EVENTS = f"{API}/events"
BULK = f"{API}/events/bulk"


def event(event_id: str, **fields: Any) -> dict[str, Any]:
    row = {
        "event_id": event_id,
        "person_id": ZHANG_JIAN,
        "rule": "TRAFFIC-RED-LIGHT",
        "occurred_on": recent(3),
    }
    row.update(fields)
    return {key: value for key, value in row.items() if value is not ...}


def count(town: Town, table: Any, *where: Any) -> int:
    with town.registry.database.read() as connection:
        query = select(func.count()).select_from(table)
        return int(connection.execute(query.where(*where) if where else query).scalar_one())


def adds_up(answer: dict[str, Any]) -> None:
    assert answer["submitted"] == answer["accepted"] + answer["duplicates"] + answer["rejected"]
    outcomes = [row["outcome"] for row in answer["rows"]]
    if answer["rows_complete"] and len(outcomes) == answer["submitted"]:
        assert outcomes.count("accepted") == answer["accepted"]
        assert outcomes.count("duplicate") == answer["duplicates"]
        assert outcomes.count("rejected") == answer["rejected"]


def test_a_batch_gets_an_answer_per_row(town_any_db: Town):
    town = town_any_db
    batch = [
        event("A-1"),
        event("A-2", agency="traffic-police"),
        event("A-3", agency="public-security", rule="PUBLIC-FIGHT"),  # not ours
        event("TP-1", occurred_on=recent(40), evidence="camera 7"),  # stored already: duplicate
        event("TP-1", occurred_on=recent(41), evidence="camera 7"),  # same key, other content
        event("A-4", person_id="371082198403051230"),  # check character wrong
        event("A-5", rule=None),
        event("A-1"),  # the same row again in the same batch: duplicate
    ]
    response = town.post(EVENTS, "agency", json={"events": batch})
    assert response.status_code == 200, response.text
    answer = response.json()
    adds_up(answer)
    assert (answer["submitted"], answer["accepted"], answer["duplicates"], answer["rejected"]) == (
        8,
        2,
        2,
        4,
    )
    assert [(r["row"], r["event_id"], r["outcome"], r["code"]) for r in answer["rows"]] == [
        (1, "A-1", "accepted", None),
        (2, "A-2", "accepted", None),
        (3, "A-3", "rejected", "not-your-agency"),
        (4, "TP-1", "duplicate", None),
        (5, "TP-1", "rejected", "conflict"),
        (6, "A-4", "rejected", "invalid-person-id"),
        (7, "A-5", "rejected", "missing-field"),
        (8, "A-1", "duplicate", None),
    ]
    assert "public-security" in answer["rows"][2]["message"]
    assert answer["reasons"] == {
        "conflict": 1,
        "invalid-person-id": 1,
        "missing-field": 1,
        "not-your-agency": 1,
    }
    # The rejected rows are kept with their import, as for the CLI.
    assert count(town, rejections, rejections.c.reason == "not-your-agency") == 1
    assert count(town, entries, entries.c.agency == "public-security") == 1  # only LI_NA's


def test_not_your_agency_comes_before_the_other_checks(town: Town):
    """Another agency's row is refused as such even when it is also wrong in other ways."""
    batch = [event("X-1", agency="forestry-bureau", occurred_on="2999-01-01", person_id="bad")]
    answer = town.post(EVENTS, "agency", json={"events": batch}).json()
    assert answer["rows"][0]["code"] == "not-your-agency"
    missing = town.post(EVENTS, "agency", json={"events": [event("X-2", agency="")]}).json()
    assert missing["rows"][0]["code"] == "missing-field"  # blank is missing, not "ours"


def test_idempotency_key_replays_the_first_answer(town_any_db: Town):
    town = town_any_db
    body = {"events": [event("IDEM-1"), event("IDEM-2", person_id=LI_NA)]}
    key = {"Idempotency-Key": "batch-2026-11-27-001"}
    first = town.post(EVENTS, "agency", json=body, headers=key)
    assert first.status_code == 200 and first.json()["accepted"] == 2
    assert "idempotent-replayed" not in first.headers
    stored = count(town, entries)
    imported = count(town, imports)
    again = town.post(EVENTS, "agency", json=body, headers=key)
    assert again.status_code == 200
    assert again.json() == first.json()  # "accepted" again, not "duplicate"
    assert again.headers["idempotent-replayed"] == "true"
    assert count(town, entries) == stored and count(town, imports) == imported  # nothing redone
    # Without the key the same rows are judged again: duplicates, still nothing doubled.
    fresh = town.post(EVENTS, "agency", json=body).json()
    assert fresh["duplicates"] == 2 and count(town, entries) == stored


def test_same_key_with_another_body_is_409(town: Town):
    key = {"Idempotency-Key": "k-1"}
    assert (
        town.post(EVENTS, "agency", json={"events": [event("K-1")]}, headers=key).status_code == 200
    )
    response = town.post(EVENTS, "agency", json={"events": [event("K-2")]}, headers=key)
    assert_error(response, 409, "idempotency-key-reused")
    assert count(town, entries, entries.c.event_id == "K-2") == 0


def test_keys_belong_to_their_account(town: Town):
    """Another account's key of the same name is another key."""
    from socialcredit.services import users

    other = users.add_user(town.registry, "traffic-desk-2", "agency", agency="traffic-police")
    key = {"Idempotency-Key": "shared-name"}
    town.post(EVENTS, "agency", json={"events": [event("S-1")]}, headers=key)
    response = town.client.post(
        EVENTS,
        json={"events": [event("S-2")]},
        headers={**key, "Authorization": f"Bearer {other.token}"},
    )
    assert response.status_code == 200 and response.json()["accepted"] == 1


def test_a_failed_request_releases_its_key(town: Town, monkeypatch: pytest.MonkeyPatch):
    from socialcredit.api.routes import events as events_route

    key = {"Idempotency-Key": "retry-me"}
    original = events_route.submit_events

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(events_route, "submit_events", down)
    failing = type(town.client)(
        town.client.app, base_url="https://testserver", raise_server_exceptions=False
    )
    failed = failing.post(
        EVENTS, json={"events": [event("R-1")]}, headers={**key, **town.auth("agency")}
    )
    assert_error(failed, 500, "internal")
    assert count(town, idempotency_keys) == 0
    monkeypatch.setattr(events_route, "submit_events", original)
    retried = town.post(EVENTS, "agency", json={"events": [event("R-1")]}, headers=key)
    assert retried.status_code == 200 and retried.json()["accepted"] == 1


def test_bad_idempotency_keys(town: Town):
    for bad in ("has space", "x" * 129, "é".encode("latin-1")):
        response = town.post(
            EVENTS, "agency", json={"events": [event("B-1")]}, headers={"Idempotency-Key": bad}
        )
        assert response.status_code in (400, 422), bad
        assert_error(response, response.status_code)


def test_batch_limit_and_body_limit(make_town: Callable[..., Town]):
    town = make_town(api_max_events=3, api_max_request_bytes=2048)
    three = {"events": [event(f"L-{n}") for n in range(3)]}
    assert town.post(EVENTS, "agency", json=three).status_code == 200
    four = {"events": [event(f"M-{n}") for n in range(4)]}
    assert_error(town.post(EVENTS, "agency", json=four), 413, "too-many-events")
    big = {"events": [event("BIG-1", evidence="x" * 4000)]}
    assert_error(town.post(EVENTS, "agency", json=big), 413, "too-large")
    assert count(town, entries, entries.c.event_id.like("M-%")) == 0


def test_body_limit_holds_without_a_content_length(make_town: Callable[..., Town]):
    """A chunked body is counted as it arrives and refused once over the limit."""
    town = make_town(api_max_request_bytes=2048)
    body = json.dumps({"events": [event("CH-1", evidence="y" * 5000)]}).encode()

    def chunks():
        for start in range(0, len(body), 512):
            yield body[start : start + 512]

    response = town.client.post(
        EVENTS,
        content=chunks(),
        headers={**town.auth("agency"), "content-type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_error(response, 413, "too-large")


# --- uploads ---------------------------------------------------------------------------------


def events_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "agency": ["traffic-police", "traffic-police", "public-security", "traffic-police"],
            "event_id": ["U-1", "U-2", "U-3", "TP-1"],
            "person_id": [ZHANG_JIAN, LI_NA, LI_NA, ZHANG_JIAN],
            "rule": ["TRAFFIC-RED-LIGHT", "TRAFFIC-RED-LIGHT", "PUBLIC-FIGHT", "TRAFFIC-RED-LIGHT"],
            "occurred_on": [recent(2), "2026-13-01", recent(2), recent(40)],
            "evidence": ["a", None, "c", "camera 7"],
        }
    )


def upload_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    frame = events_frame()
    if kind == "csv":
        frame.write_csv(buffer)
    elif kind == "jsonl":
        frame.write_ndjson(buffer)
    else:
        frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_bulk_upload_each_format(town: Town, kind: str):
    content = upload_bytes(kind)
    response = town.post(
        BULK, "agency", files={"file": (f"events.{kind}", content, "application/octet-stream")}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    adds_up(answer)
    assert (answer["submitted"], answer["accepted"], answer["duplicates"], answer["rejected"]) == (
        4,
        1,
        1,
        2,
    )
    assert [(r["row"], r["code"]) for r in answer["rows"]] == [
        (2, "invalid-date"),
        (3, "not-your-agency"),
    ]
    assert answer["rows_complete"] is True
    assert count(town, entries, entries.c.event_id == "U-1") == 1


def test_bulk_upload_lists_a_bounded_number_of_rejects(
    make_town: Callable[..., Town], tmp_path: Path
):
    town = make_town(api_max_page_size=2)
    rows = [f"traffic-police,N-{n},{ZHANG_JIAN},NO-SUCH-RULE,{recent(2)}" for n in range(5)]
    text = "agency,event_id,person_id,rule,occurred_on\n" + "\n".join(rows) + "\n"
    answer = town.post(BULK, "agency", files={"file": ("e.csv", text.encode(), "text/csv")}).json()
    assert answer["rejected"] == 5 and len(answer["rows"]) == 2 and answer["rows_complete"] is False
    assert count(town, rejections, rejections.c.reason == "unknown-rule") == 5  # all kept


def test_bulk_upload_refusals(make_town: Callable[..., Town]):
    town = make_town(api_max_upload_bytes=4096)
    csv = upload_bytes("csv")
    assert_error(
        town.post(BULK, "agency", files={"file": ("events.xlsx", csv, "application/vnd.ms-excel")}),
        415,
        "unsupported-media-type",
    )
    assert_error(town.post(BULK, "agency", files={"file": ("events", csv, "text/csv")}), 415)
    missing = b"agency,event_id,rule\ntraffic-police,Z-1,TRAFFIC-RED-LIGHT\n"
    error = assert_error(
        town.post(BULK, "agency", files={"file": ("e.csv", missing, "text/csv")}), 422
    )
    assert "missing column" in error["message"]
    big = csv + b"\n" * 5000
    assert_error(
        town.post(BULK, "agency", files={"file": ("e.csv", big, "text/csv")}), 413, "too-large"
    )
    assert_error(town.post(BULK, "agency", json={"events": []}), 422, "invalid-request")


def test_bulk_upload_is_idempotent_too(town_any_db: Town):
    town = town_any_db
    files = {"file": ("events.csv", upload_bytes("csv"), "text/csv")}
    key = {"Idempotency-Key": "upload-1"}
    first = town.post(BULK, "agency", files=files, headers=key)
    stored = count(town, entries)
    again = town.post(
        BULK, "agency", files={"file": ("events.csv", upload_bytes("csv"), "text/csv")}, headers=key
    )
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert count(town, entries) == stored
    other = town.post(
        BULK,
        "agency",
        files={"file": ("events.jsonl", upload_bytes("jsonl"), "text/plain")},
        headers=key,
    )
    assert_error(other, 409, "idempotency-key-reused")
