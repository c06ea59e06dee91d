"""The columnar leaf encoder writes exactly the canonical JSON of the row-at-a-time reference,
for any text (quotes, backslashes, control characters, Chinese), NULLs, defaults and salts."""

import hashlib
import json
import os
from datetime import UTC, date, datetime

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from socialcredit.store import leaves

ENTRIES = leaves.spec("entries")
PEOPLE = leaves.spec("person_changes")

_texts = st.text(min_size=1, max_size=30)
_maybe_text = st.none() | _texts


@st.composite
def _entries(draw: st.DrawFn) -> dict[str, object]:
    moment = draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
    return {
        "id": draw(st.integers(min_value=1, max_value=2**53)),
        "agency": draw(_texts),
        "event_id": draw(_texts),
        "person_id": draw(_texts),
        "rule": draw(_texts),
        "occurred_on": draw(st.dates()),
        "evidence": draw(_maybe_text),
        "catalogue_version": draw(_texts),
        "points": draw(st.integers(min_value=-(2**31), max_value=2**31 - 1)),
        "counts_until": draw(st.dates()),
        "blacklist_until": draw(st.none() | st.dates()),
        "grade_cap": draw(_maybe_text),
        "import_id": draw(st.none() | st.integers(min_value=0, max_value=10**9)),
        "recorded_at": moment.replace(tzinfo=UTC),
        "points_cut": draw(st.sampled_from([0, 0, 3])),
        "corrects": draw(_maybe_text),
    }


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_entries(), min_size=1, max_size=12))
def test_columnar_encodings_equal_the_reference(rows: list[dict[str, object]]):
    salts = os.urandom(leaves.SALT_BYTES * len(rows))
    frame = pl.DataFrame(rows)
    encoded = leaves.encode(ENTRIES, frame, salts).to_list()
    for position, row in enumerate(rows):
        salt = salts[position * 16 : (position + 1) * 16]
        assert encoded[position].encode() == leaves.canonical_record(ENTRIES, row, salt)
    hashes = leaves.hash_leaves(ENTRIES, frame, salts)  # encoded and hashed in one go
    assert hashes == [hashlib.sha256(b"\x00" + text.encode()).digest() for text in encoded]


@settings(max_examples=5, deadline=None)
@given(rows=st.lists(_entries(), min_size=1, max_size=4))
def test_a_big_batch_encoded_in_two_halves_equals_the_reference(rows: list[dict[str, object]]):
    """From HALVES_FROM_ROWS rows the encodings are built in two halves at once."""
    count = leaves.HALVES_FROM_ROWS + 1
    many = [{**rows[n % len(rows)], "id": n + 1} for n in range(count)]
    salts = os.urandom(leaves.SALT_BYTES * count)
    encoded = leaves.encode(ENTRIES, pl.DataFrame(many), salts).to_list()
    hashes = leaves.hash_leaves(ENTRIES, pl.DataFrame(many), salts)
    assert len(encoded) == len(hashes) == count
    for position in (0, count // 2 - 1, count // 2, count - 1):
        salt = salts[position * 16 : (position + 1) * 16]
        reference = leaves.canonical_record(ENTRIES, many[position], salt)
        assert encoded[position].encode() == reference
        assert hashes[position] == hashlib.sha256(b"\x00" + reference).digest()


def test_a_leaf_holds_digests_of_personal_fields_not_the_fields():
    row = {
        "id": 7,
        "person_id": "371082198403051239",
        "name": "张建",
        "district": "崖头街道",
        "public_servant": True,
        "import_id": None,
        "recorded_at": datetime(2026, 11, 27, 4, tzinfo=UTC),
    }
    salt = bytes(15) + b"\x01"  # one salt in 256 ends with a zero byte: keep every byte
    leaf = json.loads(leaves.encode(PEOPLE, pl.DataFrame([row]), salt)[0])
    assert "张建" not in json.dumps(leaf, ensure_ascii=False)
    digest = hashlib.sha256(f"{salt.hex()}\x00name\x00张建".encode()).hexdigest()
    assert leaf["name#salted-sha256"] == digest
    assert leaf["public_servant"] is True and "import_id" not in leaf
    assert leaf["recorded_at"] == "2026-11-27T04:00:00.000000Z"
    assert list(leaf) == sorted(leaf) and next(iter(leaf)) == "@kind"


def test_a_purged_value_is_replaced_by_its_kept_digest():
    row = {"id": 1, "evidence": "在石岛镇打架", "occurred_on": date(2026, 1, 2)}
    salt = os.urandom(16)
    before = leaves.encode(ENTRIES, pl.DataFrame([row]), salt)[0]
    digest = json.loads(before)["evidence#salted-sha256"]
    purged = pl.DataFrame(
        [{**row, "evidence": None, "@purged:evidence": digest}],
        schema_overrides={"evidence": pl.String},
    )
    assert leaves.encode(ENTRIES, purged, salt)[0] == before
    assert leaves.canonical_record(
        ENTRIES, {**row, "evidence": None}, salt, {"evidence": digest}
    ) == (before.encode())


def test_a_new_column_at_its_default_changes_no_leaf():
    row = {"id": 1, "points": -5, "occurred_on": date(2026, 1, 2)}
    plain = leaves.encode(ENTRIES, pl.DataFrame([row]), os.urandom(16))
    assert "points_cut" not in plain[0]
    cut = leaves.encode(ENTRIES, pl.DataFrame([{**row, "points_cut": 2}]), os.urandom(16))
    assert '"points_cut":2' in cut[0]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_maybe_text, max_size=20))
def test_sha256_hex_hashes_each_value_and_keeps_nulls(values: list[str | None]):
    digests = leaves.sha256_hex(pl.Series("v", values, dtype=pl.String)).to_list()
    assert digests == [
        None if value is None else hashlib.sha256(value.encode()).hexdigest() for value in values
    ]
