"""The ledger's write API: every write of a ledgered table becomes a leaf, in the same transaction.

Writers call it around their inserts:

    mark = ledger.begin(connection, "entries")        # locks the log head, notes the newest id
    ... insert the rows of ``frame`` ...
    ledger.record_inserted(connection, "entries", frame, mark)

``record_inserted`` gives every row inserted since the mark its leaf, in id order: the leaves of
a batch are encoded and hashed columnar (``store.leaves``), and appended to the
tree (``store.ledger_tree``), with one ``ledger_batches`` row that says which record each leaf
stands for. Single rows: ``insert_row`` (insert and leaf in one call) or ``record_rows`` (rows
whose key the caller knows). A value written in place is a leaf of its own kind:
``record_revocation`` for ``users.revoked_at``. Before an archive purge deletes personal values,
``purge_values`` keeps their salted digests so the leaves still recompute.

The ledger is on unless the connection says otherwise (execution option ``socialcredit_ledger``,
from the setting ``ledger``); with it off nothing is recorded, and ``verify`` will report the
rows written meanwhile as inserted behind the application's back.
"""

import hashlib
import json
import os
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import Connection, Table, func, insert, select

from socialcredit.store import leaves, schema
from socialcredit.store.ledger_read import batch_ids
from socialcredit.store.ledger_tree import (
    Extension,
    Head,
    append_hashes,
    extend,
    load_head,
    store_extension,
)
from socialcredit.store.schema import ledger_batches, ledger_purged

__all__ = [
    "ENABLED_OPTION",
    "LEDGERED",
    "Leaf",
    "LeafBatch",
    "append",
    "append_batch",
    "begin",
    "enabled",
    "hash_batch",
    "head",
    "insert_row",
    "inserted_ids",
    "locate",
    "lock_head",
    "max_id",
    "purge_values",
    "record_inserted",
    "record_revocation",
    "record_rows",
]

ENABLED_OPTION = "socialcredit_ledger"
# Tables whose every row is a leaf (verify checks all of them).
LEDGERED = frozenset(kind for kind in leaves.KINDS if "." not in kind)
# Natural keys: the rows of a merge that skips taken keys are matched by them.
NATURAL_KEYS: Mapping[str, tuple[str, ...]] = {"entries": ("agency", "event_id")}


def enabled(connection: Connection) -> bool:
    return bool(connection.get_execution_options().get(ENABLED_OPTION, True))


def _table(name: str) -> Table:
    return schema.metadata.tables[name]


def max_id(connection: Connection, table: str) -> int:
    """The largest id of ``table`` (0 when empty): the mark before an insert."""
    query = select(func.coalesce(func.max(_table(table).c.id), 0))
    return int(connection.execute(query).scalar_one())


def lock_head(connection: Connection) -> None:
    """Take the log head's lock (when the ledger is on), before writing a ledgered table."""
    if enabled(connection):
        load_head(connection, lock=True)


def begin(connection: Connection, table: str) -> int | None:
    """Before inserting into ``table``: lock the log head and return the newest id (the mark).

    ``None`` when the table is not ledgered or the ledger is off. Taking the head first means
    every appender waits at the same place, before touching any table: no deadlocks.
    """
    if table not in LEDGERED or not enabled(connection):
        return None
    load_head(connection, lock=True)
    return max_id(connection, table) if leaves.spec(table).numbered else 0


def inserted_ids(
    connection: Connection, table: str, frame: pl.DataFrame, mark: int
) -> pl.DataFrame:
    """``frame``'s inserted rows with their ids (rows a merge skipped are left out).

    ``frame`` is in the order it was inserted in; ``mark`` is ``max_id`` before the insert.
    """
    natural = NATURAL_KEYS.get(table)
    if connection.dialect.name == "sqlite" and max_id(connection, table) == mark + frame.height:
        # One writer at a time, ids handed out one above the largest: in frame order.
        ids = pl.int_range(mark + 1, mark + 1 + frame.height, eager=True, dtype=pl.Int64)
        return frame.with_columns(id=ids)
    columns = [_table(table).c.id, *(_table(table).c[name] for name in natural or ())]
    query = select(*columns).where(_table(table).c.id > int(mark)).order_by(_table(table).c.id)
    # Through the driver's cursor: plain tuples, several times faster than SQLAlchemy rows for
    # a batch of 100,000 (the only parameter is an integer, rendered inline).
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute(str(query.compile(connection, compile_kwargs={"literal_binds": True})))
    rows = cursor.fetchall()
    if natural:
        stored = pl.DataFrame(
            rows,
            schema={"id": pl.Int64, **{name: pl.String for name in natural}},
            orient="row",
        )
        return frame.join(stored, on=list(natural), how="inner")
    if len(rows) != frame.height:
        raise RuntimeError(
            f"ledger: {len(rows)} new rows in {table}, {frame.height} written by this batch"
        )
    return frame.with_columns(id=pl.Series([row[0] for row in rows], dtype=pl.Int64))


def record_inserted(
    connection: Connection, table: str, frame: pl.DataFrame, mark: int | None
) -> int:
    """After inserting ``frame`` into ``table``: one leaf per row inserted since ``mark``."""
    if mark is None or frame.height == 0:
        return 0
    return append(connection, table, inserted_ids(connection, table, frame, mark))


def _pack_ids(ids: pl.Series) -> bytes | None:
    """The ids of a batch's records, for ``row_ids``: ``None`` when they are exactly
    ``first_row .. last_row`` in order, as imports write them. Stored packed, 800 kB for a
    batch of 100k, PostgreSQL compressed them on every insert: 83 ms a batch."""
    if ids.len() == 0 or (ids.diff().drop_nulls() == 1).all():
        return None
    return bytes(ids.cast(pl.Int64).to_numpy().astype("<i8").tobytes())


def _batch_row(
    head: Head, kind: leaves.LeafSpec, frame: pl.DataFrame, salts: bytes | None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "first_leaf": head.size,
        "leaves": frame.height,
        "kind": kind.kind,
        "salts": salts,
        "recorded_at": datetime.now(UTC),
    }
    if kind.numbered:
        ids = frame["id"]
        row.update(first_row=ids.min(), last_row=ids.max(), row_ids=_pack_ids(ids))
    else:
        keys = frame[kind.key].cast(pl.String).to_list()
        row["row_keys"] = json.dumps(keys, ensure_ascii=False)
    return row


# Below this many rows a batch is encoded row by row: Polars' fixed cost per expression
# (about 5 ms for one access-log row) is larger than the per-row work it saves.
SMALL_BATCH_ROWS = 64


@dataclass(frozen=True, slots=True)
class LeafBatch:
    """The leaves of a batch of records, hashed (``hash_batch``) but not yet appended
    (``append_batch``): a writer that knows its rows' keys before the database has stored them
    can hash while the database works."""

    kind: leaves.LeafSpec
    frame: pl.DataFrame  # the records, in id order for numbered kinds
    salts: bytes | None
    hashes: list[bytes]
    extension: Extension | None  # the tree with them, when the head was known


def head(connection: Connection) -> Head:
    """The log's head, for ``hash_batch`` (after ``begin``, which holds its lock)."""
    return load_head(connection)


def hash_batch(kind_name: str, frame: pl.DataFrame, base: Head | None = None) -> LeafBatch:
    """Salt and hash one leaf per row of ``frame`` (the record's key and columns); no I/O.

    ``base``: the log's head, locked by the caller until ``append_batch``; the new tree nodes
    are then hashed here too, while the caller's database may be busy with the records.
    """
    kind = leaves.spec(kind_name)
    if kind.numbered:
        frame = frame.sort("id")
    salts = os.urandom(leaves.SALT_BYTES * frame.height) if kind.salted else None
    # Columnar; small batches go row by row through ``_append_rows``: both give the same
    # bytes, held to it by property tests of ``encode`` against ``canonical_record``.
    hashes = leaves.hash_leaves(kind, frame, salts)
    extension = None if base is None else extend(base, hashes)
    return LeafBatch(kind, frame, salts, hashes, extension)


def append_batch(connection: Connection, batch: LeafBatch) -> int:
    """Append leaves hashed by ``hash_batch`` to the log (after their records are written)."""
    if batch.frame.height == 0 or not enabled(connection):
        return 0
    current = load_head(connection, lock=True)
    connection.execute(
        insert(ledger_batches), _batch_row(current, batch.kind, batch.frame, batch.salts)
    )
    if batch.extension is not None:
        store_extension(connection, batch.extension)  # checks that ``current`` is its base
    else:
        append_hashes(connection, current, batch.hashes)
    return batch.frame.height


def append(connection: Connection, kind_name: str, frame: pl.DataFrame) -> int:
    """Append one leaf per row of ``frame`` (the record's key and columns); returns the count."""
    if frame.height == 0 or not enabled(connection):
        return 0
    if frame.height <= SMALL_BATCH_ROWS:
        return _append_rows(connection, leaves.spec(kind_name), frame.to_dicts())
    return append_batch(connection, hash_batch(kind_name, frame))


def record_rows(connection: Connection, kind: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Leaves for rows the caller has written and whose key it knows (small writes)."""
    if not rows or not enabled(connection):
        return 0
    if len(rows) <= SMALL_BATCH_ROWS:
        return _append_rows(connection, leaves.spec(kind), rows)
    return append(connection, kind, pl.DataFrame([dict(row) for row in rows]))


def _append_rows(
    connection: Connection, kind: leaves.LeafSpec, rows: Sequence[Mapping[str, Any]]
) -> int:
    """``append`` for a few rows without building a frame (a check's access-log rows): the
    same leaves (``canonical_record``) and the same batch row."""
    if kind.numbered:
        rows = sorted(rows, key=lambda row: int(row["id"]))
    width = leaves.SALT_BYTES
    salts = os.urandom(width * len(rows)) if kind.salted else None
    hashes = [
        hashlib.sha256(
            b"\x00"
            + leaves.canonical_record(
                kind, row, None if salts is None else salts[i * width : (i + 1) * width]
            )
        ).digest()
        for i, row in enumerate(rows)
    ]
    head = load_head(connection, lock=True)
    batch: dict[str, Any] = {
        "first_leaf": head.size,
        "leaves": len(rows),
        "kind": kind.kind,
        "salts": salts,
        "recorded_at": datetime.now(UTC),
    }
    if kind.numbered:
        ids = [int(row["id"]) for row in rows]
        batch.update(
            first_row=min(ids), last_row=max(ids), row_ids=struct.pack(f"<{len(ids)}q", *ids)
        )
    else:
        keys = [str(row[kind.key]) for row in rows]
        batch["row_keys"] = json.dumps(keys, ensure_ascii=False)
    connection.execute(insert(ledger_batches), batch)
    append_hashes(connection, head, hashes)
    return len(rows)


def insert_row(connection: Connection, table: str, values: Mapping[str, Any]) -> Any:
    """Insert one row into a ledgered table and record its leaf; returns its primary key."""
    begin(connection, table)
    result = connection.execute(insert(_table(table)).values(**values))
    key_column = leaves.spec(table).key
    if key_column in values:
        key = values[key_column]
    else:
        inserted = result.inserted_primary_key
        if inserted is None:
            raise RuntimeError(f"{table}: the insert returned no primary key")
        key = inserted[0]
    record_rows(connection, table, [{**values, key_column: key}])
    return key


def record_revocation(connection: Connection, user_id: int, revoked_at: datetime) -> int:
    """``users.revoked_at`` is written in place: its value becomes a leaf of its own."""
    begin(connection, "users")
    return record_rows(connection, "users.revoked", [{"id": user_id, "revoked_at": revoked_at}])


# --- finding a record's leaf ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    index: int
    kind: str
    key: Any  # row id, or the text key
    salt: bytes | None


def _batch_leaves(row: Any) -> Iterable[Leaf]:
    salts = bytes(row.salts) if row.salts is not None else None
    width = leaves.SALT_BYTES
    ids = batch_ids(row)
    keys: list[Any] = json.loads(row.row_keys) if ids is None else ids.tolist()
    for position, key in enumerate(keys):
        salt = salts[position * width : (position + 1) * width] if salts else None
        yield Leaf(int(row.first_leaf) + position, row.kind, key, salt)


def locate(connection: Connection, kind: str, keys: Sequence[Any]) -> dict[Any, Leaf]:
    """The leaves of records ``keys`` of ``kind`` (a record may have none: not recorded)."""
    if not keys:
        return {}
    query = select(ledger_batches).where(ledger_batches.c.kind == kind)
    if leaves.spec(kind).numbered:
        query = query.where(
            ledger_batches.c.first_row <= max(keys), ledger_batches.c.last_row >= min(keys)
        )
    wanted = set(keys)
    found: dict[Any, Leaf] = {}
    for row in connection.execute(query):
        for leaf in _batch_leaves(row):
            if leaf.key in wanted:
                found[leaf.key] = leaf
    return found


# --- archive purges -------------------------------------------------------------------------


def purge_values(
    connection: Connection, table: str, row_ids: Sequence[int], fields: Sequence[str]
) -> int:
    """Before personal ``fields`` of rows ``row_ids`` are deleted: keep their salted digests.

    Call it in the purge's transaction, before the UPDATE that clears them; the leaves then
    recompute from the digests (``verify`` counts those records as purged, not altered).
    """
    if not row_ids or not enabled(connection) or table not in LEDGERED:
        return 0
    kind = leaves.spec(table)
    personal = [c for c in kind.columns if c.name in fields and c.treatment == "salted"]
    if not personal:
        return 0
    begin(connection, table)
    source = _table(table)
    found = locate(connection, table, list(row_ids))
    query = select(source.c.id, *(source.c[c.name] for c in personal)).where(
        source.c.id.in_(list(found))
    )
    rows = []
    moment = datetime.now(UTC)
    for record in connection.execute(query):
        leaf = found[record.id]
        for column in personal:
            value = record._mapping[column.name]
            if value is None or leaf.salt is None:
                continue
            preimage = f"{leaf.salt.hex()}\x00{column.name}\x00{value}"
            digest = hashlib.sha256(preimage.encode()).hexdigest()  # as leaves.sha256_hex
            rows.append(
                {"leaf": leaf.index, "field": column.name, "digest": digest, "recorded_at": moment}
            )
    if rows:
        connection.execute(insert(ledger_purged), rows)
    return len(rows)
