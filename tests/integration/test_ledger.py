"""The tamper-evident ledger on SQLite and PostgreSQL: every write is a leaf, ``verify`` names
every record changed behind the application's back (plain SQL), signed checkpoints catch a
rewritten log, a witness's checkpoint catches truncation, and proofs verify."""

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, text
from tests.conftest import (
    EVENTS_HEADER,
    LI_NA,
    PEOPLE_HEADER,
    ZHANG_JIAN,
    recent,
    write_csv,
)
from tests.integration.cli_helpers import Run, runner
from tests.integration.entry_frames import merit_rows

from socialcredit.domain import merkle
from socialcredit.domain.errors import RefusedError
from socialcredit.services import keys, ledger, standing, users
from socialcredit.services.access import LOCAL, record_bulk_access
from socialcredit.services.events import import_events
from socialcredit.services.ledger_verify import VerifyReport, verify_registry
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store.ledger_tree import TileReader, leaf_hash_run, load_head


@pytest.fixture
def ledgered(make_registry: Callable[..., Registry], database_url: str, tmp_path: Path) -> Registry:
    return _ledgered(make_registry, database_url, tmp_path)


@pytest.fixture
def sqlite_ledgered(
    make_registry: Callable[..., Registry], sqlite_url: str, tmp_path: Path
) -> Registry:
    """The same on SQLite only: for the command line (its commands open their own registry)."""
    return _ledgered(make_registry, sqlite_url, tmp_path)


def _ledgered(
    make_registry: Callable[..., Registry], database_url: str, tmp_path: Path
) -> Registry:
    """A registry with two people, three accepted events and one rejected row, on both DBs."""
    registry = make_registry(database_url, key_dir=str(tmp_path / "keys"))
    import_people(
        registry,
        write_csv(
            tmp_path / "people.csv",
            PEOPLE_HEADER,
            [f"{ZHANG_JIAN},张建,崖头街道,true", f"{LI_NA},李娜,城西街道,false"],
        ),
    )
    import_events(
        registry,
        write_csv(
            tmp_path / "events.csv",
            EVENTS_HEADER,
            [
                f'traffic-police,T-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(30)},路口 "东" 闯红灯',
                f"forestry-bureau,F-1,{ZHANG_JIAN},WORK-MERIT-ANNUAL,{recent(20)},",
                f"traffic-police,T-2,{LI_NA},TRAFFIC-RED-LIGHT,{recent(10)},camera 7",
                f"traffic-police,T-3,{LI_NA},NO-SUCH-RULE,{recent(10)},",
            ],
        ),
    )
    standing.score(registry, ZHANG_JIAN)  # an access-log row
    return registry


def _sql(registry: Registry, statement: str, **values: object) -> None:
    """Plain SQL behind the application's back: no service, no ledger."""
    with registry.database.engine.begin() as connection:
        connection.execute(text(statement), values)


def _problems(report: VerifyReport) -> set[tuple[str, str, str | None]]:
    return {(f.problem, f.table, f.key) for f in report.findings}


def _entry_id(registry: Registry, event_id: str) -> int:
    with registry.database.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM entries WHERE event_id = :e"), {"e": event_id}
            ).scalar_one()
        )


# --- every write is a leaf ------------------------------------------------------------------


def test_every_write_is_a_leaf_and_an_untouched_registry_verifies(ledgered: Registry):
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert report.records["entries"] == 3
    assert report.records["person_changes"] == 2
    assert report.records["rejections"] == 1
    assert report.records["catalogue_versions"] == 1
    assert report.records["access_log"] == 1
    assert report.records["people"] == 2
    assert report.records["notices"] == 2  # the two negative entries told their persons
    leaves = sum(n for kind, n in report.records.items() if kind != "people")
    # Entry notices have no leaf of their own: verify holds them to their entries.
    assert report.size == leaves - report.records["notices"] == 8
    assert report.checkpoint is None and report.uncovered == 8


def test_a_batch_with_taken_keys_gives_a_leaf_to_each_new_entry_only(
    ledgered: Registry, tmp_path: Path
):
    """PostgreSQL merges such a batch with ON CONFLICT (its ids drawn beforehand leave a gap)."""
    again = write_csv(
        tmp_path / "again.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,T-2,{LI_NA},TRAFFIC-RED-LIGHT,{recent(10)},camera 7",  # duplicate
            f"traffic-police,T-9,{LI_NA},TRAFFIC-RED-LIGHT,{recent(3)},camera 9",
        ],
    )
    result = import_events(ledgered, again)
    assert (result.accepted, result.duplicates) == (1, 1)
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert report.records["entries"] == 4 and report.records["notices"] == 3
    assert report.size == 9  # the 8 before, and the new entry's
    checkpoint = ledger.create_checkpoint(ledgered)
    assert ledger.entry_inclusion(ledgered, "traffic-police", "T-9", checkpoint.id).valid


def test_accounts_grants_and_revocations_are_leaves(ledgered: Registry):
    users.add_user(
        ledgered,
        "bank",
        "verifier",
        organisation="Rongcheng Rural Commercial Bank",
        grants=[users.parse_grant("civil-service-promotion:hiring")],
    )
    users.revoke_user(ledgered, "bank")
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert (report.records["users"], report.records["verifier_grants"]) == (1, 1)
    assert report.records["users.revoked"] == 1
    # Un-revoking the account behind the application's back removes what its leaf says.
    _sql(ledgered, "UPDATE users SET revoked_at = NULL WHERE name = 'bank'")
    report = verify_registry(ledgered)
    assert ("deleted", "users.revoked", "1") in _problems(report)
    # A new token hash (taking the account over) alters the account's leaf.
    _sql(ledgered, "UPDATE users SET secret_hash = 'x' WHERE name = 'bank'")
    assert ("altered", "users", "1") in _problems(verify_registry(ledgered))


# --- tampering with plain SQL ---------------------------------------------------------------


def test_updated_points_are_named_as_altered(ledgered: Registry):
    entry = _entry_id(ledgered, "T-1")
    _sql(ledgered, "UPDATE entries SET points = 50 WHERE event_id = 'T-1'")
    report = verify_registry(ledgered)
    assert not report.ok
    assert report.counts == {"altered": 1}
    [finding] = report.findings
    assert (finding.problem, finding.table) == ("altered", "entries")
    assert finding.key == f"{entry} (traffic-police T-1)"
    assert "no longer matches its leaf" in finding.message


def test_a_deleted_entry_is_named_as_deleted(ledgered: Registry):
    entry = _entry_id(ledgered, "F-1")
    _sql(ledgered, "DELETE FROM entries WHERE event_id = 'F-1'")
    report = verify_registry(ledgered)
    assert report.counts == {"deleted": 1}
    assert _problems(report) == {("deleted", "entries", str(entry))}
    assert "has a leaf but no record" in report.findings[0].message


def test_an_inserted_entry_is_named_as_inserted(ledgered: Registry):
    _sql(
        ledgered,
        "INSERT INTO entries (agency, event_id, person_id, rule, occurred_on, "
        "catalogue_version, points, counts_until, recorded_at) VALUES ('forestry-bureau', "
        "'F-99', :person, 'WORK-MERIT-ANNUAL', :day, '2026.1', 20, '2027-10-01', "
        "'2026-11-27 04:00:00')",
        person=LI_NA,
        day=recent(5),
    )
    entry = _entry_id(ledgered, "F-99")
    report = verify_registry(ledgered)
    assert report.counts == {"inserted": 1}
    assert _problems(report) == {("inserted", "entries", f"{entry} (forestry-bureau F-99)")}
    assert "inserted behind the application's back" in report.findings[0].message


def test_personal_fields_and_the_current_register_are_covered(ledgered: Registry):
    _sql(ledgered, "UPDATE entries SET evidence = 'nothing happened' WHERE event_id = 'T-2'")
    _sql(ledgered, "UPDATE people SET district = '石岛管理区' WHERE id = :id", id=LI_NA)
    _sql(ledgered, "UPDATE access_log SET purpose = 'none of your business'")
    report = verify_registry(ledgered)
    problems = _problems(report)
    assert ("altered", "entries", f"{_entry_id(ledgered, 'T-2')} (traffic-police T-2)") in problems
    assert ("altered", "people", LI_NA) in problems
    assert ("altered", "access_log", "1") in problems
    assert report.counts == {"altered": 3}


def _notice_of(registry: Registry, event_id: str) -> int:
    with registry.database.engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT id FROM notices WHERE entry_id = :e"),
                {"e": _entry_id(registry, event_id)},
            ).scalar_one()
        )


def test_an_entry_notice_is_held_to_its_entry(ledgered: Registry):
    """Entry notices have no leaf: each must tell exactly its adverse entry, once."""
    notice, entry = _notice_of(ledgered, "T-2"), _entry_id(ledgered, "T-2")
    _sql(ledgered, "UPDATE notices SET person_id = :p WHERE id = :n", p=ZHANG_JIAN, n=notice)
    report = verify_registry(ledgered)
    assert _problems(report) == {("altered", "notices", str(notice))}
    assert "no longer matches its entry" in report.findings[0].message
    _sql(
        ledgered, "UPDATE notices SET person_id = :p, body = 'hi' WHERE id = :n", p=LI_NA, n=notice
    )
    assert _problems(verify_registry(ledgered)) == {("altered", "notices", str(notice))}
    _sql(ledgered, "DELETE FROM notices WHERE id = :n", n=notice)
    report = verify_registry(ledgered)
    assert _problems(report) == {("deleted", "notices", f"entry {entry}")}
    assert report.findings[0].message == f"the notice of entry {entry} is gone: deleted"


@pytest.mark.parametrize(
    ("event_id", "why"),
    [("T-1", "is a second notice of its entry"), ("F-1", "tells of no adverse entry")],
)
def test_a_forged_entry_notice_is_named_as_inserted(ledgered: Registry, event_id: str, why: str):
    """A second notice of an adverse entry, or a notice of a merit (no notice is due)."""
    _sql(
        ledgered,
        "INSERT INTO notices (person_id, kind, entry_id, recorded_at) "
        "SELECT person_id, 'entry', id, recorded_at FROM entries WHERE event_id = :e",
        e=event_id,
    )
    with ledgered.database.engine.connect() as connection:
        forged = connection.execute(text("SELECT max(id) FROM notices")).scalar_one()
    report = verify_registry(ledgered)
    assert _problems(report) == {("inserted", "notices", str(forged))}
    assert why in report.findings[0].message


def test_a_notice_of_an_altered_entry_is_not_named_twice(ledgered: Registry):
    """Turning a fine into a merit behind the office's back is named once, on the entry."""
    _sql(ledgered, "UPDATE entries SET points = 5 WHERE event_id = 'T-2'")
    report = verify_registry(ledgered)
    assert report.counts == {"altered": 1}
    assert report.findings[0].table == "entries"


def test_an_archive_purge_keeps_every_leaf_recomputable(ledgered: Registry):
    from socialcredit.store import ledger as store_ledger

    entry = _entry_id(ledgered, "T-1")
    with ledgered.database.write() as connection:
        assert store_ledger.purge_values(connection, "entries", [entry], ["evidence"]) == 1
        connection.execute(text("UPDATE entries SET evidence = NULL WHERE id = :id"), {"id": entry})
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert report.purged == 1
    # A value put back that is not the purged one is an alteration, not a purge.
    _sql(ledgered, "UPDATE entries SET evidence = 'another story' WHERE id = :id", id=entry)
    assert report.ok and not verify_registry(ledgered).ok


# --- the log itself, checkpoints and witnesses -------------------------------------------------


def _rewrite_leaf(registry: Registry, index: int, new_hash: bytes) -> None:
    """Replace a stored leaf hash and rebuild the head and tiles to match (a careful attacker)."""
    from socialcredit.store.ledger_tree import Head, append_hashes

    with registry.database.write() as connection:
        head = load_head(connection)
        hashes = leaf_hash_run(connection, 0, head.size)
        values = [hashes[i : i + 32] for i in range(0, len(hashes), 32)]
        values[index] = new_hash
        connection.execute(text("DELETE FROM ledger_tiles"))
        connection.execute(text("UPDATE ledger_state SET size = 0, frontier = :f"), {"f": b""})
        append_hashes(connection, Head(head.log_id, 0, ()), values)


def test_a_rewritten_log_is_caught_by_the_signed_checkpoint(ledgered: Registry):
    signed = ledger.create_checkpoint(ledgered)
    # Alter an entry, then give the log a leaf that matches the altered row (a smaller fine:
    # still adverse, so that its notice still fits it).
    _sql(ledgered, "UPDATE entries SET points = -1 WHERE event_id = 'T-1'")
    from socialcredit.store import leaves, ledger_read
    from socialcredit.store.ledger import locate

    entry = _entry_id(ledgered, "T-1")
    with ledgered.database.read() as connection:
        leaf = locate(connection, "entries", [entry])[entry]
        records = ledger_read.read_records(connection, leaves.spec("entries"), [entry])
    records = records.with_columns(pl.lit(leaf.salt.hex()).alias("@salt"))
    forged = leaves.hash_leaves(leaves.spec("entries"), records)[0]
    _rewrite_leaf(ledgered, leaf.index, forged)
    report = verify_registry(ledgered)
    assert "altered" not in report.counts  # the row matches its (forged) leaf ...
    assert report.counts == {"checkpoint": 1}  # ... but not the root the office signed
    assert report.findings[0].key == str(signed.id)
    assert "do not give its root" in report.findings[0].message


def test_writes_after_the_last_checkpoint_are_reported_as_not_covered(ledgered: Registry):
    ledger.create_checkpoint(ledgered)
    standing.score(ledgered, LI_NA)
    standing.score(ledgered, LI_NA)
    report = verify_registry(ledgered)
    assert report.ok and report.uncovered == 2
    assert report.checkpoint is not None and report.checkpoint["size"] == report.size - 2


def test_a_witness_checkpoint_must_be_extended_not_rewritten(ledgered: Registry, tmp_path: Path):
    witness = ledger.export_checkpoint(
        ledgered, ledger.create_checkpoint(ledgered), tmp_path / "witness.json"
    )
    standing.score(ledgered, LI_NA)
    ledger.create_checkpoint(ledgered)
    report = verify_registry(ledgered, witness)
    assert report.ok, report.findings
    assert report.witness is not None and report.witness["consistent"]
    # Rolling the log back to before the witness's checkpoint is a truncation.
    with ledgered.database.write() as connection:
        head = load_head(connection)
    _rewrite_leaf(ledgered, 0, b"\x00" * 32)
    report = verify_registry(ledgered, witness)
    assert "witness" in report.counts
    assert any(
        "do not give its root" in f.message for f in report.findings if f.problem == "witness"
    )
    assert head.size == report.size


def test_a_truncated_log_is_caught_by_the_witness(ledgered: Registry, tmp_path: Path):
    witness = ledger.export_checkpoint(
        ledgered, ledger.create_checkpoint(ledgered), tmp_path / "witness.json"
    )
    _sql(ledgered, "UPDATE ledger_state SET size = 3")
    report = verify_registry(ledgered, witness)
    messages = [f.message for f in report.findings if f.problem == "witness"]
    assert any("truncated" in message for message in messages), report.findings


# --- proofs -----------------------------------------------------------------------------------


def test_inclusion_and_consistency_proofs_verify(ledgered: Registry):
    first = ledger.create_checkpoint(ledgered)
    standing.score(ledgered, LI_NA)
    second = ledger.create_checkpoint(ledgered)
    proof = ledger.entry_inclusion(ledgered, "traffic-police", "T-1", first.id)
    assert proof.valid, proof.problems
    assert json.loads(proof.leaf_data)["event_id"] == "T-1"
    assert "evidence" not in json.loads(proof.leaf_data)  # only its salted digest
    assert merkle.verify_inclusion(
        proof.leaf_index,
        first.size,
        merkle.leaf_hash(proof.leaf_data.encode()),
        list(proof.path),
        first.root,
    )
    between = ledger.consistency(ledgered, first.id or 0, second.id or 0)
    assert between.valid and merkle.verify_consistency(
        first.size, second.size, first.root, second.root, list(between.path)
    )
    _sql(ledgered, "UPDATE entries SET points = 50 WHERE event_id = 'T-1'")
    altered = ledger.entry_inclusion(ledgered, "traffic-police", "T-1")
    assert altered.problems == (f"entries {altered.key} no longer matches its leaf (altered)",)


def test_an_entry_newer_than_the_checkpoint_is_refused_by_reason(
    ledgered: Registry, tmp_path: Path
):
    checkpoint = ledger.create_checkpoint(ledgered)
    import_events(
        ledgered,
        write_csv(
            tmp_path / "more.csv",
            EVENTS_HEADER,
            [f"traffic-police,T-9,{LI_NA},TRAFFIC-RED-LIGHT,{recent(2)},"],
        ),
    )
    with pytest.raises(RefusedError, match="written after checkpoint") as refused:
        ledger.entry_inclusion(ledgered, "traffic-police", "T-9", checkpoint.id)
    assert refused.value.code == "not-covered"


def test_proofs_and_roots_of_a_tree_spanning_tiles(ledgered: Registry):
    """70,000 leaves and the fixture's 8: nodes come from tiles of levels 0, 8 and 16."""
    people = [ZHANG_JIAN] * 70_000
    record_bulk_access(ledgered, LOCAL, people, "export", "tiles")
    checkpoint = ledger.create_checkpoint(ledgered)
    assert checkpoint.size == 70_008
    with ledgered.database.read() as connection:
        stored = leaf_hash_run(connection, 0, checkpoint.size)
        reader = TileReader(connection)
        tree = merkle.MemoryTree([stored[i : i + 32] for i in range(0, len(stored), 32)])
        assert merkle.root_hash(checkpoint.size, reader.node) == tree.root() == checkpoint.root
        for index in (0, 255, 256, 65_535, 65_536, 70_007):
            path = merkle.inclusion_proof(index, checkpoint.size, reader.node)
            assert path == merkle.inclusion_proof(index, checkpoint.size, tree.node)
        assert merkle.consistency_proof(8, 70_008, reader.node) == merkle.consistency_proof(
            8, 70_008, tree.node
        )
    assert verify_registry(ledgered).ok


# --- keys -------------------------------------------------------------------------------------


def test_keys_live_outside_the_database_readable_by_the_owner_only(ledgered: Registry):
    record, _ = keys.signing_key(ledgered)
    folder = keys.key_directory(ledgered)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert (folder / f"{record.key_id}.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY")


def test_rotation_keeps_old_checkpoints_valid_and_revocation_refuses_later_ones(ledgered: Registry):
    old = ledger.create_checkpoint(ledgered)
    new_key = keys.rotate_key(ledgered)
    assert new_key.key_id != old.key_id
    newer = ledger.create_checkpoint(ledgered)
    assert newer.key_id == new_key.key_id
    assert verify_registry(ledgered).ok
    # Compromised since before the newer checkpoint was signed: that one is refused.
    keys.revoke_key(ledgered, new_key.key_id, newer.signed_at)
    report = verify_registry(ledgered)
    assert report.counts == {"checkpoint": 1}
    assert f"key {new_key.key_id} was revoked" in report.findings[0].message
    assert report.findings[0].key == str(newer.id)


def test_backup_and_restore_of_the_signing_key(ledgered: Registry, tmp_path: Path):
    checkpoint = ledger.create_checkpoint(ledgered)
    backup = tmp_path / "keys.backup"
    keys.backup_keys(ledgered, backup, "correct horse battery")
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in backup.read_bytes() and b"ENCRYPTED" in backup.read_bytes()
    folder = keys.key_directory(ledgered)
    for path in folder.iterdir():
        path.unlink()
    assert "checkpoint" in verify_registry(ledgered).counts  # no keys: nothing is trusted
    with pytest.raises(RefusedError, match="wrong passphrase"):
        keys.restore_keys(ledgered, backup, "wrong horse")
    keys.restore_keys(ledgered, backup, "correct horse battery")
    assert verify_registry(ledgered).ok
    assert keys.signing_key(ledgered)[0].key_id == checkpoint.key_id  # the same key signs on


# --- the command line ---------------------------------------------------------------------


@pytest.fixture
def ledger_cli(
    sqlite_ledgered: Registry,
    sqlite_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., Run]:
    monkeypatch.setenv("SOCIALCREDIT_NOW", "2026-11-27T12:00:00+08:00")
    monkeypatch.setenv("SOCIALCREDIT_KEY_DIR", str(tmp_path / "keys"))
    return runner(capsys, sqlite_url)


def test_cli_checkpoint_proofs_and_verify(
    ledger_cli: Callable[..., Run], sqlite_ledgered: Registry, tmp_path: Path
):
    first = ledger_cli("checkpoint", "--export", tmp_path / "witness.json", "--json")
    assert first.code == 0 and first.document["size"] == 8
    inclusion = ledger_cli("proof", "inclusion", "traffic-police", "T-1", "--json")
    assert inclusion.code == 0 and inclusion.document["valid"]
    ledger_cli("score", LI_NA)
    second = ledger_cli("checkpoint", "--json").document
    consistency = ledger_cli("proof", "consistency", first.document["id"], second["id"], "--json")
    assert consistency.code == 0 and consistency.document["valid"]
    ok = ledger_cli("verify", "--witness", tmp_path / "witness.json", "--json")
    assert ok.code == 0 and ok.document["ok"] and ok.document["witness"]["consistent"]
    human = ledger_cli("verify")
    assert human.code == 0 and "OK: every record matches the log" in human.out
    _sql(sqlite_ledgered, "DELETE FROM entries WHERE event_id = 'F-1'")
    bad = ledger_cli("verify", "--json")
    assert bad.code == 1 and bad.document["problems"] == {"deleted": 1}
    missing = ledger_cli("proof", "inclusion", "forestry-bureau", "F-1", "--json")
    assert missing.code == 1 and missing.document["error"]["code"] == "unknown-entry"


def test_cli_keys_backup_restore_rotate_revoke(
    ledger_cli: Callable[..., Run], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("SOCIALCREDIT_KEY_PASSPHRASE", "a long passphrase")
    assert ledger_cli("checkpoint").code == 0  # the first signature makes the first key
    listed = ledger_cli("keys", "list", "--json").document
    [current] = listed["keys"]
    assert ledger_cli("keys", "backup", tmp_path / "k.bak", "--json").code == 0
    rotated = ledger_cli("keys", "rotate", "--json").document
    revoked = ledger_cli(
        "keys", "revoke", rotated["key_id"], "--at", "2026-11-27T11:00:00", "--json"
    )
    assert revoked.code == 0 and revoked.document["replacement"] is not None
    assert revoked.document["revoked"]["revoked_at"] == "2026-11-27T03:00:00.000000Z"
    keys_now = ledger_cli("keys", "list", "--json").document["keys"]
    assert [k["key_id"] for k in keys_now][:2] == [current["key_id"], rotated["key_id"]]
    refused = ledger_cli("keys", "revoke", "0000000000000000", "--at", "2026-11-27", "--json")
    assert refused.code == 1 and refused.document["error"]["code"] == "unknown-key"
    for path in Path(tmp_path / "keys").iterdir():
        path.unlink()
    restored = ledger_cli("keys", "restore", tmp_path / "k.bak", "--json")
    assert restored.code == 0 and restored.document["keys"] == [current["key_id"]]
    monkeypatch.setenv("SOCIALCREDIT_KEY_PASSPHRASE", "not the passphrase")
    wrong = ledger_cli("keys", "restore", tmp_path / "k.bak", "--json")
    assert wrong.code == 1 and wrong.document["error"]["code"] == "wrong-passphrase"
    assert os.environ["SOCIALCREDIT_KEY_PASSPHRASE"] == "not the passphrase"


def test_with_the_ledger_off_writes_are_reported_as_inserted(
    make_registry: Callable[..., Registry], sqlite_url: str, tmp_path: Path
):
    registry = make_registry(sqlite_url, ledger=False, key_dir=str(tmp_path / "keys"))
    standing_people = write_csv(tmp_path / "p.csv", PEOPLE_HEADER, [f"{LI_NA},李娜,城西街道,false"])
    import_people(registry, standing_people)
    report = verify_registry(registry)
    assert report.size == 0
    assert report.counts == {"inserted": 2}
    assert {(f.table, f.problem) for f in report.findings} == {
        ("catalogue_versions", "inserted"),
        ("person_changes", "inserted"),
    }


def test_a_batch_hashed_against_a_head_that_moved_is_refused(ledgered: Registry):
    """hash_batch may work out the new tree nodes before the batch is appended (PostgreSQL
    does it while the server inserts the entries), from the head its caller holds locked.
    Appending them to any other head would break the tree: append_batch refuses."""
    from socialcredit.store import ledger as store_ledger
    from socialcredit.store.ledger_tree import append_hashes
    from socialcredit.store.schema import entries

    with ledgered.database.read() as connection:
        rows = connection.execute(select(entries).order_by(entries.c.id)).mappings().all()
    frame = pl.DataFrame([dict(row) for row in rows]).with_columns(
        pl.col("recorded_at").dt.replace_time_zone(None)  # stored as naive UTC
    )
    with (
        pytest.raises(RuntimeError, match="ledger head moved from size 8 to 9"),
        ledgered.database.write() as connection,
    ):
        base = store_ledger.head(connection)
        batch = store_ledger.hash_batch("entries", frame, base)
        append_hashes(connection, base, [bytes(32)])  # someone else's leaf
        store_ledger.append_batch(connection, batch)
    assert verify_registry(ledgered).ok  # the refused transaction left nothing behind
    with ledgered.database.write() as connection:  # the same batch against its own head: fine
        batch = store_ledger.hash_batch("entries", frame, store_ledger.head(connection))
        assert store_ledger.append_batch(connection, batch) == 3
        assert store_ledger.head(connection) == batch.extension.head  # type: ignore[union-attr]


def test_big_batches_with_and_without_taken_keys_verify(ledgered: Registry, tmp_path: Path):
    """A batch of more than a few rows is hashed while it is inserted, with the ids the store
    is expected to give it (SQLite) or has given it beforehand (PostgreSQL); when some keys are
    taken the guess is dropped and the leaves come from the rows that went in."""
    red = "traffic-police,B-{},{},TRAFFIC-RED-LIGHT,{},camera {}"
    first = [red.format(n, LI_NA, recent(5), n) for n in range(100)]
    again = [red.format(n, LI_NA, recent(5), n) for n in range(50, 150)]  # 50 taken
    assert (
        import_events(ledgered, write_csv(tmp_path / "b1.csv", EVENTS_HEADER, first)).accepted
        == 100
    )
    result = import_events(ledgered, write_csv(tmp_path / "b2.csv", EVENTS_HEADER, again))
    assert (result.accepted, result.duplicates) == (50, 50)
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert report.records["entries"] == 3 + 150
    assert report.size == 8 + 150  # one leaf per entry that went in, none for the duplicates
    checkpoint = ledger.create_checkpoint(ledgered)
    for event_id in ("B-0", "B-99", "B-100", "B-149"):
        assert ledger.entry_inclusion(ledgered, "traffic-police", event_id, checkpoint.id).valid
    # A batch whose ids run first_row .. last_row without a gap does not list them one by one
    # (batches of up to SMALL_BATCH_ROWS always do: the second here, of 50).
    # See test_ids_with_a_gap_are_listed_and_without_one_are_not for a big batch with a gap.
    with ledgered.database.engine.connect() as connection:
        stored = connection.execute(
            text(
                "SELECT leaves, first_row, last_row, row_ids IS NULL FROM ledger_batches "
                "WHERE kind = 'entries' AND leaves >= 50 ORDER BY first_leaf"
            )
        ).all()
    assert [(leaves, bool(unlisted)) for leaves, _, _, unlisted in stored] == [
        (100, True),
        (50, False),
    ]
    assert stored[0][2] - stored[0][1] + 1 == 100


def test_ids_with_a_gap_are_listed_and_without_one_are_not(ledgered: Registry, tmp_path: Path):
    """Keys taken in the middle of a batch: PostgreSQL drew ids for them beforehand, so the
    ids that went in have a gap and are listed; SQLite inserted the free rows again, with ids
    in a run, and lists none. verify holds both to their records."""
    red = "traffic-police,M-{:03d},{},TRAFFIC-RED-LIGHT,{},camera {}"
    taken = [red.format(n, LI_NA, recent(5), n) for n in range(100, 200)]
    whole = [red.format(n, LI_NA, recent(5), n) for n in range(300)]
    import_events(ledgered, write_csv(tmp_path / "m1.csv", EVENTS_HEADER, taken))
    result = import_events(ledgered, write_csv(tmp_path / "m2.csv", EVENTS_HEADER, whole))
    assert (result.accepted, result.duplicates) == (200, 100)
    with ledgered.database.engine.connect() as connection:
        first, last, unlisted = connection.execute(
            text(
                "SELECT first_row, last_row, row_ids IS NULL FROM ledger_batches "
                "WHERE kind = 'entries' AND leaves = 200"
            )
        ).one()
    gap = ledgered.database.engine.dialect.name == "postgresql"
    assert (last - first + 1 == 200) is not gap
    assert bool(unlisted) is not gap
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    checkpoint = ledger.create_checkpoint(ledgered)
    for event_id in ("M-000", "M-099", "M-200", "M-299"):
        assert ledger.entry_inclusion(ledgered, "traffic-police", event_id, checkpoint.id).valid


def test_a_shifted_batch_of_unlisted_ids_is_caught(ledgered: Registry, tmp_path: Path):
    """Ids kept only as first_row .. last_row are still held to their records: a shifted
    range points the leaves at other rows, and verify names them."""
    red = "traffic-police,R-{},{},TRAFFIC-RED-LIGHT,{},camera {}"
    rows = [red.format(n, LI_NA, recent(5), n) for n in range(80)]
    assert import_events(ledgered, write_csv(tmp_path / "r.csv", EVENTS_HEADER, rows)).accepted
    _sql(
        ledgered,
        "UPDATE ledger_batches SET first_row = first_row - 1, last_row = last_row - 1 "
        "WHERE kind = 'entries' AND leaves = 80 AND row_ids IS NULL",
    )
    report = verify_registry(ledgered)
    assert not report.ok
    named = {key for problem, table, key in _problems(report) if table == "entries"}
    assert f"{_entry_id(ledgered, 'R-5')} (traffic-police R-5)" in named
    assert len(named) >= 80  # each leaf of the batch now stands for the wrong record


def test_a_store_level_insert_with_taken_keys_gives_leaves_to_the_new_rows_only(
    ledgered: Registry,
):
    """bulk.insert_entries skips taken keys; the leaves hashed for the ids the store was
    expected to give are dropped, and the rows that went in get theirs from the store."""
    from socialcredit.store.bulk import insert_entries

    def rows(first: int, last: int) -> pl.DataFrame:
        return merit_rows("traffic-police", [f"S-{n}" for n in range(first, last)], LI_NA)

    with ledgered.database.write() as connection:
        assert insert_entries(connection, rows(0, 100)) == 100
    with ledgered.database.write() as connection:
        assert insert_entries(connection, rows(60, 160)) == 60  # 40 taken
    report = verify_registry(ledgered)
    assert report.ok, report.findings
    assert report.records["entries"] == 3 + 160
    assert report.size == 8 + 160
