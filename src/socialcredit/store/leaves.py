"""What a leaf of the ledger holds: a canonical encoding of one written record.

A leaf is the UTF-8 of a canonical JSON object, exactly what ``json.dumps(record,
ensure_ascii=False, separators=(",", ":"), sort_keys=True)`` writes:

- ``"@kind"``: the table (or ``users.revoked`` for a revocation written in place);
- every column of the record under its name: integers and booleans as JSON numbers and
  ``true``/``false``, dates as ``"YYYY-MM-DD"``, timestamps as ``"YYYY-MM-DDTHH:MM:SS.ffffffZ"``
  (UTC), text as text;
- a *personal* column (name, district, evidence, grounds, ...) as ``"<name>#salted-sha256"``:
  the hex SHA-256 of ``salt_hex || 0x00 || <name> || 0x00 || value``, with a random 16-byte salt
  per leaf kept in ``ledger_batches`` (never in the leaf), so that a leaf shown to a bank
  reveals nothing guessable, and an archive purge can delete the value: the digest is kept in
  ``ledger_purged`` and the leaf still recomputes;
- a large document (a catalogue version) as ``"<name>#sha256"``, its plain SHA-256;
- a NULL column, or one equal to its server default, is left out: adding a column later never
  changes the leaves already written.

``encode`` builds the encodings of a whole batch with Polars expressions (columnar);
``canonical_record`` is the row-at-a-time reference the tests hold it to.
"""

import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from polars_hash import CryptographicHashingNameSpace
from sqlalchemy import Boolean, Date, Integer, LargeBinary, Table

from socialcredit.domain.invariant import invariant
from socialcredit.store import schema
from socialcredit.store.schema import UTCDateTime

__all__ = [
    "KINDS",
    "LeafColumn",
    "LeafSpec",
    "SALT_BYTES",
    "canonical_record",
    "encode",
    "encoding",
    "fixed_binary",
    "hash_leaves",
    "salts_hex",
    "sha256_hex",
    "spec",
]

SALT_BYTES = 16
HASH_BYTES = 32  # SHA-256
KIND_KEY = "@kind"
SALTED = "#salted-sha256"
DIGESTED = "#sha256"

# Personal columns per table: stored in leaves only as salted digests.
PERSONAL: Mapping[str, frozenset[str]] = {
    "person_changes": frozenset({"name", "district", "email"}),
    "entries": frozenset({"evidence"}),
    "entry_changes": frozenset({"reason"}),
    "rejections": frozenset({"message", "record"}),
    "access_log": frozenset({"purpose", "detail"}),
    "users": frozenset({"secret_hash"}),  # a secret, not personal: the same treatment
    "contests": frozenset({"grounds"}),
    "contest_steps": frozenset({"reason"}),
    "notices": frozenset({"subject", "body", "detail"}),
    "notice_deliveries": frozenset({"address", "error"}),
    "consents": frozenset({"purpose"}),
}
# Binary columns are not in leaves; each has a digest column beside it that is.
WITHOUT: Mapping[str, frozenset[str]] = {"contest_attachments": frozenset({"content"})}
# Large documents: stored in leaves as their SHA-256.
DIGESTS: Mapping[str, frozenset[str]] = {"catalogue_versions": frozenset({"document"})}
# Columns written in place later, each recorded as a leaf of its own kind.
IN_PLACE: Mapping[str, Mapping[str, str]] = {"users": {"revoked_at": "users.revoked"}}


@dataclass(frozen=True, slots=True)
class LeafColumn:
    name: str
    type: str  # int | bool | date | timestamp | text
    treatment: str  # plain | salted | digest
    default: Any = None  # the server default: left out like NULL

    @property
    def key(self) -> str:
        suffix = {"plain": "", "salted": SALTED, "digest": DIGESTED}[self.treatment]
        return self.name + suffix


@dataclass(frozen=True, slots=True)
class LeafSpec:
    kind: str
    table: str
    key: str  # the record's key column: "id", or "version" for catalogue versions
    columns: tuple[LeafColumn, ...]  # sorted by their JSON key

    @property
    def salted(self) -> bool:
        return any(column.treatment == "salted" for column in self.columns)

    @property
    def numbered(self) -> bool:
        return self.key == "id"


def _type_of(column: Any) -> str:
    kind = column.type
    if isinstance(kind, UTCDateTime):
        return "timestamp"
    if isinstance(kind, Boolean):
        return "bool"
    if isinstance(kind, Date):
        return "date"
    if isinstance(kind, Integer):
        return "int"
    if isinstance(kind, LargeBinary):
        raise TypeError(f"{column} is binary: ledgered tables hold text")
    return "text"


def _default(column: Any, type_name: str) -> Any:
    if column.server_default is None:
        return None
    text = str(column.server_default.arg)
    return int(text) if type_name == "int" else text


def _spec(kind: str, table: Table, only: Sequence[str] | None = None) -> LeafSpec:
    personal = PERSONAL.get(table.name, frozenset())
    digests = DIGESTS.get(table.name, frozenset())
    skipped = set(IN_PLACE.get(table.name, {})) | set(WITHOUT.get(table.name, frozenset()))
    key = "version" if table.name == "catalogue_versions" else "id"
    columns = []
    for column in table.columns:
        if (only is not None and column.name not in only) or (
            only is None and column.name in skipped
        ):
            continue
        type_name = _type_of(column)
        treatment = (
            "salted" if column.name in personal else "digest" if column.name in digests else "plain"
        )
        columns.append(LeafColumn(column.name, type_name, treatment, _default(column, type_name)))
    return LeafSpec(kind, table.name, key, tuple(sorted(columns, key=lambda c: c.key)))


def _specs() -> dict[str, LeafSpec]:
    tables = [
        schema.person_changes,
        schema.entries,
        schema.entry_changes,
        schema.catalogue_versions,
        schema.users,
        schema.verifier_grants,
        schema.access_log,
        schema.rejections,
        # Due process: contests, their steps and attachments (the content's sha256 stands for
        # it), notices and their deliveries, consents, archive purges.
        schema.contests,
        schema.contest_steps,
        schema.contest_attachments,
        schema.notices,
        schema.notice_deliveries,
        schema.consents,
        schema.purges,
    ]
    specs = {table.name: _spec(table.name, table) for table in tables}
    for table_name, moved in IN_PLACE.items():
        table = schema.metadata.tables[table_name]
        for column, kind in moved.items():
            specs[kind] = _spec(kind, table, only=("id", column))
    return specs


# Every kind of leaf the ledger writes, by kind name.
KINDS: Mapping[str, LeafSpec] = _specs()


def spec(kind: str) -> LeafSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise KeyError(f"{kind!r} is not a ledgered kind") from None


# --- hashing whole columns --------------------------------------------------------------------


def _slices(series: pl.Series) -> tuple[memoryview, list[int]]:
    """The UTF-8 bytes of a string column as one buffer and its offsets (no per-row copies)."""
    array = series.to_arrow()
    if array.type not in ("string", "large_string"):  # a view type: copy into offsets form
        array = array.cast("large_string")
    validity, offsets, data = array.buffers()
    width = np.int64 if array.type == "large_string" else np.int32
    positions = np.frombuffer(offsets, dtype=width)[array.offset : array.offset + len(array) + 1]
    return memoryview(data if data is not None else b""), positions.tolist()


def _sha256(expression: pl.Expr) -> pl.Expr:
    """Hex SHA-256 of each value (UTF-8 text or bytes); null stays null.

    By the polars-hash plugin (Rust, a whole column per call): hashlib called from Python per
    value cost 0.115 s per 100,000 leaves, most of it the call itself, not the hashing.
    """
    return CryptographicHashingNameSpace(expression).sha2_256()


def _digests(hexes: pl.Series, count: int) -> list[bytes]:
    """Hex digests (no nulls) as 32-byte values."""
    buffer, offsets = _slices(hexes)
    digests = binascii.unhexlify(buffer[offsets[0] : offsets[-1]])
    invariant(len(digests) == HASH_BYTES * count, "one 32-byte digest per leaf")
    return [digests[i : i + HASH_BYTES] for i in range(0, len(digests), HASH_BYTES)]


def sha256_hex(values: pl.Series) -> pl.Series:
    """Hex SHA-256 of each UTF-8 string; null stays null."""
    return values.to_frame().select(_sha256(pl.col(values.name))).to_series()


def fixed_binary(data: bytes, width: int) -> pl.Series:
    """Concatenated values of ``width`` bytes each as a Binary column.

    Through Arrow, not NumPy: NumPy's ``S`` type drops trailing zero bytes, and one salt or
    hash in 256 ends with one.
    """
    count = len(data) // width
    array = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(width), count, [None, pa.py_buffer(data)]
    )
    return pl.Series(pl.from_arrow(array)).cast(pl.Binary)


def salts_hex(salts: bytes) -> pl.Series:
    """Per-leaf salts (``SALT_BYTES`` each, concatenated) as hex strings."""
    return fixed_binary(salts, SALT_BYTES).bin.encode("hex").alias("salt")  # columnar


# --- the columnar encoder -------------------------------------------------------------------


_NEEDS_ESCAPE = ['"', "\\", *(chr(code) for code in range(32))]


@dataclass(frozen=True, slots=True)
class _Piece:
    """One key of the JSON object: ``key`` then ``value`` (within quotes when ``quoted``)."""

    key: str
    value: pl.Expr
    quoted: bool
    source: str  # the frame column whose NULLs leave the key out
    default: Any = None

    def fragment(self) -> pl.Expr:
        parts = [pl.lit(self.key + (':"' if self.quoted else ":")), self.value]
        fragment = pl.concat_str([*parts, pl.lit('"')] if self.quoted else parts)
        if self.default is not None:
            fragment = pl.when(pl.col(self.source) == self.default).then(None).otherwise(fragment)
        return fragment


def _timestamp(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        column = column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return column.dt.to_string("%Y-%m-%dT%H:%M:%S.%6fZ")


def _piece(frame: pl.DataFrame, column: LeafColumn) -> _Piece:
    key = json.dumps(column.key, ensure_ascii=False)
    name = column.name
    if column.treatment != "plain":
        return _Piece(key, pl.col(f"@digest:{name}"), True, f"@digest:{name}")
    if column.type in ("int", "bool"):
        return _Piece(key, pl.col(name).cast(pl.String), False, name, column.default)
    if column.type == "date":
        return _Piece(key, pl.col(name).dt.to_string("%Y-%m-%d"), True, name, column.default)
    if column.type == "timestamp":
        return _Piece(key, _timestamp(name, frame.schema[name]), True, name, column.default)
    if frame[name].str.contains_any(_NEEDS_ESCAPE).any():  # rare: JSON-escape value by value
        escaped = pl.col(name).map_elements(
            lambda text: json.dumps(text, ensure_ascii=False), return_dtype=pl.String
        )
        return _Piece(key, escaped, False, name, column.default)
    return _Piece(key, pl.col(name), True, name, column.default)


def _literal(text: str) -> str:
    """Text as a literal part of a ``pl.format`` template."""
    return text.replace("{", "{{").replace("}", "}}")


def _object(frame: pl.DataFrame, head: str, pieces: list[_Piece]) -> pl.Expr:
    """The JSON objects as one ``pl.format`` (far faster than joining a fragment per key): a
    key present in every row is a placeholder in the template, one that may be absent an
    argument that is either ``,"key":value`` or empty."""
    template, values = [_literal(head)], []
    for piece in pieces:
        if piece.default is None and frame[piece.source].null_count() == 0:
            template.append(_literal("," + piece.key) + (':"{}"' if piece.quoted else ":{}"))
            values.append(piece.value)
        else:
            template.append("{}")
            values.append(pl.concat_str([pl.lit(","), piece.fragment()]).fill_null(""))
    return pl.format("".join(template) + "}}", *values)


def _salted_preimage(column: LeafColumn) -> pl.Expr:
    return pl.concat_str(
        [pl.col("@salt"), pl.lit(f"\x00{column.name}\x00"), pl.col(column.name).cast(pl.String)]
    )


def _digest_column(frame: pl.DataFrame, column: LeafColumn) -> pl.Series:
    """Hex digests of a salted or digested column, with purged digests where values are gone."""
    if column.treatment == "digest":
        digests = sha256_hex(frame[column.name].cast(pl.String))
    else:
        digests = sha256_hex(frame.select(_salted_preimage(column)).to_series())
    purged = f"@purged:{column.name}"
    if purged in frame.columns:
        digests = pl.select(pl.coalesce(pl.lit(digests), pl.lit(frame[purged]))).to_series()
    return digests.alias(f"@digest:{column.name}")


_POLARS_TYPES: Mapping[str, pl.DataType] = {
    "int": pl.Int64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "timestamp": pl.Datetime("us"),
    "text": pl.String(),
}


def _typed(kind: LeafSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """Columns that are NULL in every row (Polars type Null) get their column's type."""
    untyped = [
        pl.col(column.name).cast(_POLARS_TYPES[column.type])
        for column in kind.columns
        if column.name in frame.columns and frame.schema[column.name] == pl.Null
    ]
    return frame.with_columns(untyped) if untyped else frame


def encode(
    kind: LeafSpec, frame: pl.DataFrame, salts: bytes | None = None, *, prefix: str = ""
) -> pl.Series:
    """The canonical encodings of ``frame``'s rows (a string column, one leaf per row); see
    ``encoding``."""
    frame, expression = encoding(kind, frame, salts, prefix=prefix)
    return _select_in_halves(frame, expression)


def hash_leaves(kind: LeafSpec, frame: pl.DataFrame, salts: bytes | None = None) -> list[bytes]:
    """The leaf hashes SHA-256(0x00 || encoding) of ``frame``'s rows, in one pass: the
    encodings are hashed where they are built (``encode`` with prefix 0x00, then SHA-256)."""
    if frame.height == 0:
        return []
    frame, expression = encoding(kind, frame, salts, prefix="\x00")
    return _digests(_select_in_halves(frame, _sha256(expression)), frame.height)


def encoding(
    kind: LeafSpec, frame: pl.DataFrame, salts: bytes | None = None, *, prefix: str = ""
) -> tuple[pl.DataFrame, pl.Expr]:
    """``frame`` with what its encodings need (salts, digests), and the expression of them.

    ``frame`` holds the record's key and columns (a missing column counts as NULL); ``salts``
    the per-leaf salts when the kind has personal columns (or a hex ``@salt`` column in
    ``frame``); optional ``@purged:<name>`` columns
    the digests of purged values. ``prefix`` goes before each encoding (``"\\x00"`` makes the
    strings the inputs of the leaf hashes).
    """
    frame = _typed(kind, frame)
    present = [column for column in kind.columns if column.name in frame.columns]
    if kind.salted and "@salt" not in frame.columns:  # else: the salts come as hex already
        if salts is None or len(salts) != SALT_BYTES * frame.height:
            raise ValueError(f"{kind.kind}: one salt of {SALT_BYTES} bytes per leaf is needed")
        frame = frame.with_columns(salts_hex(salts).alias("@salt"))
    digested = [column for column in present if column.treatment != "plain"]
    if digested:
        frame = frame.with_columns([_digest_column(frame, column) for column in digested])
    head = prefix + "{" + json.dumps(KIND_KEY) + ":" + json.dumps(kind.kind)
    pieces = [_piece(frame, column) for column in present]
    return frame, _object(frame, head, pieces).alias("leaf")


# From this many rows a batch's encodings are built in two halves at once.
HALVES_FROM_ROWS = 20_000


def _select_in_halves(frame: pl.DataFrame, expression: pl.Expr) -> pl.Series:
    """``frame.select(expression)`` as a Series. One ``pl.format`` over a whole batch runs on
    one core; a big frame's two halves go to ``pl.collect_all``, which runs them at once."""
    if frame.height < HALVES_FROM_ROWS:
        return frame.select(expression).to_series()
    half = frame.height // 2
    parts = pl.collect_all(
        [
            frame.slice(0, half).lazy().select(expression),
            frame.slice(half).lazy().select(expression),
        ]
    )
    return pl.concat([part.to_series() for part in parts])


# --- the row-at-a-time reference ------------------------------------------------------------


def _plain(column: LeafColumn, value: Any) -> Any:
    if column.type == "timestamp":
        moment: datetime = value
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if column.type == "date":
        day: date = value
        return day.isoformat()
    if column.type == "bool":
        return bool(value)
    return value


def canonical_record(
    kind: LeafSpec,
    row: Mapping[str, Any],
    salt: bytes | None = None,
    purged: Mapping[str, str] | None = None,
) -> bytes:
    """The leaf of one record, computed value by value (the reference for ``encode``)."""
    record: dict[str, Any] = {KIND_KEY: kind.kind}
    for column in kind.columns:
        value = row.get(column.name)
        if column.treatment == "plain":
            if value is not None and value != column.default:
                record[column.key] = _plain(column, value)
            continue
        if value is None:
            digest = (purged or {}).get(column.name)
        elif column.treatment == "digest":
            digest = hashlib.sha256(str(value).encode()).hexdigest()
        else:
            assert salt is not None, "personal columns need the leaf's salt"
            preimage = f"{salt.hex()}\x00{column.name}\x00{value}"
            digest = hashlib.sha256(preimage.encode()).hexdigest()
        if digest is not None:
            record[column.key] = digest
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return text.encode()
