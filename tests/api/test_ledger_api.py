"""The log over HTTP: public keys and checkpoints, proofs a witness can check with its own
verifier, and checking a signed statement (PDF or QR text) with the reason when refused."""

from dataclasses import replace
from pathlib import Path

from sqlalchemy import text
from tests.api.conftest import API, Town
from tests.conftest import ZHANG_JIAN

from socialcredit.domain import merkle
from socialcredit.reports.pdf import render_statement_pdf
from socialcredit.services import ledger, standing
from socialcredit.services.signed_statements import sign_statement


def test_keys_and_checkpoints_are_public(town_any_db: Town):
    town = town_any_db
    first = ledger.create_checkpoint(town.registry)
    standing.score(town.registry, ZHANG_JIAN)
    second = ledger.create_checkpoint(town.registry)
    keys = town.get(f"{API}/keys").json()
    assert [key["key_id"] for key in keys["keys"]] == [first.key_id]
    page = town.get(f"{API}/checkpoints", params={"limit": 1}).json()
    assert [item["id"] for item in page["items"]] == [second.id]
    rest = town.get(f"{API}/checkpoints", params={"cursor": page["next_cursor"]}).json()
    assert [item["id"] for item in rest["items"]] == [first.id] and rest["next_cursor"] is None
    assert rest["items"][0]["body"] == first.body


def test_a_witness_checks_consistency_with_its_own_root(town_any_db: Town):
    town = town_any_db
    kept = ledger.create_checkpoint(town.registry)  # what the witness holds
    standing.score(town.registry, ZHANG_JIAN)
    answer = town.get(f"{API}/proofs/consistency", params={"first": kept.size}).json()
    latest = ledger.Checkpoint.from_dict(answer["checkpoint"])
    assert latest.size == kept.size + 1
    path = [bytes.fromhex(node) for node in answer["path"]]
    assert merkle.verify_consistency(kept.size, latest.size, kept.root, latest.root, path)
    too_big = town.get(f"{API}/proofs/consistency", params={"first": latest.size + 5})
    assert too_big.status_code == 422 and too_big.json()["error"]["code"] == "bad-size"


def test_an_entry_proof_for_the_office_and_its_reason_when_altered(town_any_db: Town):
    town = town_any_db
    answer = town.get(
        f"{API}/proofs/inclusion", "clerk", params={"agency": "traffic-police", "event_id": "TP-1"}
    ).json()
    assert answer["valid"] and answer["problems"] == []
    signed = ledger.Checkpoint.from_dict(answer["checkpoint"])
    leaf = merkle.leaf_hash(answer["leaf_data"].encode())
    path = [bytes.fromhex(node) for node in answer["path"]]
    assert merkle.verify_inclusion(answer["leaf_index"], signed.size, leaf, path, signed.root)
    with town.registry.database.engine.begin() as connection:
        connection.execute(text("UPDATE entries SET points = 0 WHERE event_id = 'TP-1'"))
    altered = town.get(
        f"{API}/proofs/inclusion",
        "auditor",
        params={"agency": "traffic-police", "event_id": "TP-1"},
    ).json()
    assert altered["valid"] is False
    assert altered["problems"] == [f"entries {altered['key']} no longer matches its leaf (altered)"]
    missing = town.get(
        f"{API}/proofs/inclusion", "clerk", params={"agency": "traffic-police", "event_id": "NO"}
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown-entry"


def test_a_bank_checks_a_statement_pdf_and_its_qr_text(town: Town, tmp_path: Path):
    statement = standing.statement(town.registry, ZHANG_JIAN)
    signed = sign_statement(town.registry, statement)
    genuine = render_statement_pdf(statement, tmp_path / "genuine.pdf", signed)
    answer = town.post(
        f"{API}/statements/verify",
        "verifier",
        files={"file": ("statement.pdf", genuine.read_bytes(), "application/pdf")},
    ).json()
    assert answer["valid"] and answer["person"] == {"id": ZHANG_JIAN, "name": "张建"}
    assert answer["statement"]["score"] == statement.score and answer["text"] == "matches"
    forged = render_statement_pdf(replace(statement, grade="AAA"), tmp_path / "forged.pdf", signed)
    refused = town.post(
        f"{API}/statements/verify",
        "verifier",
        files={"file": ("statement.pdf", forged.read_bytes(), "application/pdf")},
    ).json()
    assert refused["valid"] is False
    assert refused["problems"][0].startswith("the printed text differs from the signed content")
    by_token = town.post(
        f"{API}/statements/verify", "verifier", files={"token": (None, signed.token)}
    )
    assert by_token.json()["valid"] and by_token.json()["statement"]["grade"] == statement.grade
    both = town.post(f"{API}/statements/verify", "verifier")
    assert both.status_code == 400
