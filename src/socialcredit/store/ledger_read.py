"""Reading the ledger back: records as typed frames, which leaf stands for which record, leaves.

Used by ``verify`` (every record of every ledgered table, every leaf) and by proofs (one
record). Records are read with their stored types on both databases, so that the columnar
encoder gives exactly the bytes it gave when they were written.
"""

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Connection, select

from socialcredit.store import leaves, schema
from socialcredit.store.leaves import LeafSpec
from socialcredit.store.schema import ledger_batches, ledger_purged

__all__ = ["batch_ids", "leaf_map", "purged_digests", "read_records", "recomputed_leaves"]

_TYPES: dict[str, pl.DataType] = {
    "int": pl.Int64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us", "UTC"),
    "text": pl.String(),
}


def _column(name: str, values: Sequence[Any], type_name: str, sqlite: bool) -> pl.Series:
    """One column as its stored type. SQLite hands dates and timestamps back as the text
    SQLAlchemy wrote and booleans as 0/1; psycopg hands back Python values (naive UTC)."""
    if type_name == "date" and sqlite:
        return pl.Series(name, values, dtype=pl.String).str.to_date("%Y-%m-%d", strict=False)
    if type_name == "timestamp":
        if sqlite:
            text = pl.Series(name, values, dtype=pl.String)
            moments = text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
        else:
            moments = pl.Series(name, values, dtype=pl.Datetime("us"))
        return moments.dt.replace_time_zone("UTC")
    if type_name == "bool":
        return pl.Series(name, values, dtype=pl.Int8 if sqlite else pl.Boolean).cast(pl.Boolean)
    return pl.Series(name, values, dtype=_TYPES[type_name])


def read_records(
    connection: Connection, kind: LeafSpec, keys: Sequence[Any] | None = None
) -> pl.DataFrame:
    """The records of ``kind`` (those with ``keys``, or all), typed, with the key column.

    Read through the driver's cursor column by column: for millions of rows that is several
    times faster than SQLAlchemy rows.
    """
    table = schema.metadata.tables[kind.table]
    names = [column.name for column in kind.columns]
    if kind.key not in names:
        names.insert(0, kind.key)
    query = select(*(table.c[name] for name in names))
    if kind.kind == "users.revoked":
        query = query.where(table.c.revoked_at.is_not(None))
    if keys is not None:
        rows = [
            tuple(row) for row in connection.execute(query.where(table.c[kind.key].in_(list(keys))))
        ]
    else:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(str(query.compile(connection, compile_kwargs={"literal_binds": True})))
        rows = cursor.fetchall()
    types = {column.name: column.type for column in kind.columns}
    types.setdefault(kind.key, "int" if kind.numbered else "text")
    sqlite = connection.dialect.name == "sqlite" and keys is None
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pl.DataFrame(
        [
            _column(name, values, types[name], sqlite)
            for name, values in zip(names, columns, strict=True)
        ]
    )


def batch_ids(row: Any) -> np.ndarray[Any, Any] | None:
    """The record ids of a stored ``ledger_batches`` row, one per leaf (``None``: the batch
    is of a kind keyed by text, ``row_keys``)."""
    if row.row_ids is not None:
        return np.frombuffer(bytes(row.row_ids), dtype="<i8")
    if row.first_row is None:
        return None
    return np.arange(int(row.first_row), int(row.last_row) + 1, dtype=np.int64)


_MAP_SCHEMA = {"leaf": pl.Int64, "kind": pl.String, "key": pl.String, "@salt": pl.String}


def leaf_map(connection: Connection, kinds: Sequence[str] | None = None) -> pl.DataFrame:
    """One row per leaf: its index, kind, record key (as text) and salt (hex, or null)."""
    query = select(ledger_batches).order_by(ledger_batches.c.first_leaf)
    if kinds is not None:
        query = query.where(ledger_batches.c.kind.in_(list(kinds)))
    frames = []
    for row in connection.execute(query):
        count = int(row.leaves)
        ids = batch_ids(row)
        if ids is not None:
            keys = pl.Series(ids).cast(pl.String)
        else:
            keys = pl.Series(json.loads(row.row_keys), dtype=pl.String)
        if row.salts is not None:
            salts = leaves.salts_hex(bytes(row.salts))
        else:
            salts = pl.Series([None] * count, dtype=pl.String)
        frames.append(
            pl.DataFrame(
                {
                    "leaf": pl.int_range(row.first_leaf, row.first_leaf + count, eager=True),
                    "kind": pl.Series([row.kind] * count, dtype=pl.String),
                    "key": keys,
                    "@salt": salts,
                },
                schema=_MAP_SCHEMA,
            )
        )
    return pl.concat(frames) if frames else pl.DataFrame(schema=_MAP_SCHEMA)


def purged_digests(connection: Connection) -> pl.DataFrame:
    """Per leaf, the salted digests of purged values, one ``@purged:<field>`` column each."""
    rows = connection.execute(
        select(ledger_purged.c.leaf, ledger_purged.c.field, ledger_purged.c.digest)
    ).all()
    frame = pl.DataFrame(
        [tuple(row) for row in rows],
        schema={"leaf": pl.Int64, "field": pl.String, "digest": pl.String},
        orient="row",
    )
    if frame.height == 0:
        return pl.DataFrame(schema={"leaf": pl.Int64})
    wide = frame.pivot(on="field", index="leaf", values="digest")
    return wide.rename({name: f"@purged:{name}" for name in wide.columns if name != "leaf"})


def recomputed_leaves(kind: LeafSpec, records: pl.DataFrame) -> list[bytes]:
    """The leaf hashes of ``records`` joined to their leaves, recomputed from the records:
    ``@salt`` (hex) and any ``@purged:<field>`` columns come with them."""
    if kind.salted and records["@salt"].null_count():
        # A record whose salt is gone cannot be recomputed: give it an impossible salt.
        records = records.with_columns(pl.col("@salt").fill_null("-"))
    return leaves.hash_leaves(kind, records)
