"""Signed checkpoints of the ledger and proofs against them (docs/ledger.md).

A checkpoint is the tree head signed with the office's Ed25519 key: the canonical JSON
``{"format", "key_id", "log", "root", "signed_at", "size"}`` and a detached signature over its
UTF-8 bytes. Checkpoints are kept in the database and exported to a file that an outside
witness keeps; a later tree must be an extension of every checkpoint (consistency proof), and
any record's leaf can be shown to be in the tree a checkpoint signs (inclusion proof).
"""

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, insert, select

from socialcredit.domain import merkle
from socialcredit.domain.errors import InputError, NotFoundError, RefusedError
from socialcredit.services import keys
from socialcredit.services.registry import Registry
from socialcredit.store import leaves, ledger_read
from socialcredit.store.ledger import locate
from socialcredit.store.ledger_tree import TileReader, leaf_hash_run, load_head
from socialcredit.store.schema import entries, ledger_checkpoints

__all__ = [
    "CHECKPOINT_FORMAT",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "canonical_json",
    "checkpoint_of_size",
    "checkpoint_problem",
    "consistency",
    "consistency_from_size",
    "create_checkpoint",
    "current_checkpoint",
    "entry_inclusion",
    "export_checkpoint",
    "get_checkpoint",
    "list_checkpoints",
    "read_checkpoint_file",
    "record_inclusion",
]

CHECKPOINT_FORMAT = "socialcredit-checkpoint/v1"
EXPORT_FORMAT = "socialcredit-checkpoint-export/v1"


def canonical_json(document: Any) -> str:
    """Sorted keys, no spaces, UTF-8 as is: the one text a signature is made over."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed tree head. Every field comes from ``body``, the exact text that was signed."""

    body: str
    signature: bytes
    id: int | None = None

    @property
    def fields(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data

    @property
    def size(self) -> int:
        return int(self.fields["size"])

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.fields["root"])

    @property
    def key_id(self) -> str:
        return str(self.fields["key_id"])

    @property
    def log_id(self) -> str:
        return str(self.fields["log"])

    @property
    def signed_at(self) -> datetime:
        moment = keys.parse_time(self.fields["signed_at"])
        assert moment is not None
        return moment

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.fields,
            "body": self.body,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Checkpoint":
        try:
            checkpoint = cls(str(data["body"]), base64.b64decode(data["signature"]), data.get("id"))
            if checkpoint.fields.get("format") != CHECKPOINT_FORMAT:
                raise ValueError(f"format {CHECKPOINT_FORMAT} expected")
            checkpoint.size, checkpoint.root, checkpoint.signed_at  # noqa: B018 - all parse
        except (KeyError, ValueError, TypeError) as error:
            raise InputError(f"not a signed checkpoint ({error})") from None
        return checkpoint


def checkpoint_problem(keyring: keys.Keyring, checkpoint: Checkpoint) -> str | None:
    """Why a checkpoint's signature is not to be trusted (None: it is)."""
    return keyring.check(
        checkpoint.key_id, checkpoint.body.encode(), checkpoint.signature, checkpoint.signed_at
    )


def _row_checkpoint(row: Any) -> Checkpoint:
    return Checkpoint(row.body, base64.b64decode(row.signature), row.id)


def _sign_head(registry: Registry, connection: Connection) -> Checkpoint:
    head = load_head(connection, lock=True)
    record, private = keys.signing_key(registry)
    body = canonical_json(
        {
            "format": CHECKPOINT_FORMAT,
            "key_id": record.key_id,
            "log": head.log_id,
            "root": head.root.hex(),
            "signed_at": keys.iso_time(registry.clock.now()),
            "size": head.size,
        }
    )
    signature = private.sign(body.encode())
    checkpoint = Checkpoint(body, signature)
    result = connection.execute(
        insert(ledger_checkpoints).values(
            size=checkpoint.size,
            root=checkpoint.root.hex(),
            signed_at=checkpoint.signed_at,
            key_id=record.key_id,
            body=body,
            signature=base64.b64encode(signature).decode(),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return Checkpoint(body, signature, int(key[0]))


def create_checkpoint(registry: Registry) -> Checkpoint:
    """Sign the tree head as it is now and keep the checkpoint."""
    with registry.database.write() as connection:
        return _sign_head(registry, connection)


def current_checkpoint(registry: Registry) -> Checkpoint:
    """The latest checkpoint if it covers every leaf, else a new one (statements cite it)."""
    with registry.database.write() as connection:
        head = load_head(connection, lock=True)
        row = connection.execute(
            select(ledger_checkpoints).order_by(ledger_checkpoints.c.id.desc()).limit(1)
        ).first()
        if row is not None:
            latest = _row_checkpoint(row)
            current, _ = keys.signing_key(registry)
            if latest.size == head.size and latest.key_id == current.key_id:
                return latest
        return _sign_head(registry, connection)


def list_checkpoints(
    registry: Registry, limit: int = 100, before_id: int | None = None
) -> list[Checkpoint]:
    """The newest ``limit`` checkpoints (older than ``before_id``), newest first."""
    query = select(ledger_checkpoints).order_by(ledger_checkpoints.c.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(ledger_checkpoints.c.id < before_id)
    with registry.database.read() as connection:
        return [_row_checkpoint(row) for row in connection.execute(query)]


def get_checkpoint(registry: Registry, checkpoint_id: int | None = None) -> Checkpoint:
    """Checkpoint ``checkpoint_id``, or the latest one."""
    query = select(ledger_checkpoints)
    if checkpoint_id is None:
        query = query.order_by(ledger_checkpoints.c.id.desc()).limit(1)
    else:
        query = query.where(ledger_checkpoints.c.id == checkpoint_id)
    with registry.database.read() as connection:
        row = connection.execute(query).first()
    if row is None:
        what = "no checkpoint yet" if checkpoint_id is None else f"no checkpoint {checkpoint_id}"
        raise NotFoundError(f"{what}; make one with `socialcredit checkpoint`")
    return _row_checkpoint(row)


def export_checkpoint(registry: Registry, checkpoint: Checkpoint, path: Path) -> Path:
    """Write ``checkpoint`` (and the public key that signed it) to a file a witness keeps."""
    record = keys.keyring(registry).keys.get(checkpoint.key_id)
    document = {
        "format": EXPORT_FORMAT,
        "checkpoint": checkpoint.as_dict(),
        "key": None if record is None else record.as_dict(),
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def read_checkpoint_file(path: Path) -> Checkpoint:
    """A checkpoint exported to a file (by ``checkpoint --export``), as a witness kept it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a checkpoint file ({error})") from None
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise InputError(f"{path}: not a checkpoint file (format {EXPORT_FORMAT} expected)")
    try:
        return Checkpoint.from_dict(document["checkpoint"])
    except InputError as error:
        raise InputError(f"{path}: {error.message}") from None


# --- inclusion -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InclusionProof:
    kind: str
    key: Any
    leaf_index: int
    leaf_data: str  # the canonical encoding recomputed from the record as stored now
    leaf_hash: bytes  # the leaf hash the log holds
    path: tuple[bytes, ...]
    checkpoint: Checkpoint
    problems: tuple[str, ...]  # empty: the proof verifies and the record is as recorded

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "leaf_index": self.leaf_index,
            "leaf_data": self.leaf_data,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [node.hex() for node in self.path],
            "checkpoint": self.checkpoint.as_dict(),
            "valid": self.valid,
            "problems": list(self.problems),
        }


def _recompute(connection: Connection, kind: leaves.LeafSpec, leaf: Any) -> str | None:
    """The leaf encoding of the record as stored now (None: the record is gone)."""
    records = ledger_read.read_records(connection, kind, [leaf.key])
    if records.height == 0:
        return None
    extra: dict[str, str | None] = {}
    if kind.salted:
        extra["@salt"] = leaf.salt.hex() if leaf.salt is not None else "-"
    purged = ledger_read.purged_digests(connection)
    if purged.width > 1:
        mine = purged.filter(pl.col("leaf") == leaf.index).drop("leaf")
        if mine.height:
            extra.update(mine.row(0, named=True))
    records = records.with_columns(
        [pl.lit(value, dtype=pl.String).alias(name) for name, value in extra.items()]
    )
    return str(leaves.encode(kind, records)[0])


def record_inclusion(
    registry: Registry, kind_name: str, key: Any, checkpoint: Checkpoint
) -> InclusionProof:
    """Prove that record ``key`` of ``kind_name`` is a leaf of the tree ``checkpoint`` signs."""
    kind = leaves.spec(kind_name)
    with registry.database.read() as connection:
        leaf = locate(connection, kind_name, [key]).get(key)
        if leaf is None:
            raise NotFoundError(f"{kind_name} {key} has no leaf in the log", code="no-leaf")
        if leaf.index >= checkpoint.size:
            raise RefusedError(
                f"{kind_name} {key} is leaf {leaf.index}, written after checkpoint "
                f"{checkpoint.id} (size {checkpoint.size}): make a new checkpoint",
                code="not-covered",
            )
        stored = leaf_hash_run(connection, leaf.index, leaf.index + 1)
        path = merkle.inclusion_proof(leaf.index, checkpoint.size, TileReader(connection).node)
        data = _recompute(connection, kind, leaf)
    problems = []
    if data is None:
        problems.append(f"{kind_name} {key} is no longer in the database (deleted)")
    elif merkle.leaf_hash(data.encode()) != stored:
        problems.append(f"{kind_name} {key} no longer matches its leaf (altered)")
    if not merkle.verify_inclusion(leaf.index, checkpoint.size, stored, path, checkpoint.root):
        problems.append(f"the log's leaf {leaf.index} is not in the tree the checkpoint signs")
    problem = checkpoint_problem(keys.keyring(registry), checkpoint)
    if problem:
        problems.append(f"checkpoint {checkpoint.id}: {problem}")
    return InclusionProof(
        kind_name, key, leaf.index, data or "", stored, tuple(path), checkpoint, tuple(problems)
    )


def entry_inclusion(
    registry: Registry,
    agency: str,
    event_id: str,
    checkpoint_id: int | None = None,
    *,
    checkpoint: Checkpoint | None = None,
) -> InclusionProof:
    """The inclusion proof of the entry ``(agency, event_id)`` against a checkpoint (the one
    given, checkpoint ``checkpoint_id``, or the latest)."""
    checkpoint = checkpoint or get_checkpoint(registry, checkpoint_id)
    with registry.database.read() as connection:
        entry_id = connection.execute(
            select(entries.c.id).where(entries.c.agency == agency, entries.c.event_id == event_id)
        ).scalar_one_or_none()
    if entry_id is None:
        raise NotFoundError(f"no entry {agency} {event_id}", code="unknown-entry")
    return record_inclusion(registry, "entries", int(entry_id), checkpoint)


# --- consistency ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    old: Checkpoint
    new: Checkpoint
    path: tuple[bytes, ...]
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "old": self.old.as_dict(),
            "new": self.new.as_dict(),
            "path": [node.hex() for node in self.path],
            "valid": self.valid,
            "problems": list(self.problems),
        }


def consistency_between(registry: Registry, old: Checkpoint, new: Checkpoint) -> ConsistencyProof:
    """Prove that the tree ``new`` signs extends the one ``old`` signs."""
    if old.size > new.size:
        old, new = new, old
    with registry.database.read() as connection:
        head = load_head(connection)
        if new.size > head.size:
            raise RefusedError(
                f"the log holds {head.size} leaves, fewer than the checkpoint's {new.size}: "
                "it was truncated or rolled back",
                code="log-truncated",
            )
        path = merkle.consistency_proof(old.size, new.size, TileReader(connection).node)
    problems = []
    if old.log_id != new.log_id:
        problems.append(f"the checkpoints sign different logs ({old.log_id}, {new.log_id})")
    if not merkle.verify_consistency(old.size, new.size, old.root, new.root, path):
        problems.append(
            f"the tree of {new.size} leaves is not an extension of the tree of {old.size} "
            "leaves: the log was rewritten"
        )
    keyring = keys.keyring(registry)
    for checkpoint in (old, new):
        problem = checkpoint_problem(keyring, checkpoint)
        if problem:
            problems.append(f"checkpoint {checkpoint.id}: {problem}")
    return ConsistencyProof(old, new, tuple(path), tuple(problems))


def consistency_from_size(registry: Registry, first: int, checkpoint: Checkpoint) -> dict[str, Any]:
    """A witness holding the root of the first ``first`` leaves asks: is ``checkpoint``'s tree
    an extension of it? (RFC 9162 get-sth-consistency.) The witness compares ``first_root``
    with its own root and checks ``path`` with its own verifier."""
    if not 0 <= first <= checkpoint.size:
        raise RefusedError(
            f"no consistency proof from {first} leaves to checkpoint {checkpoint.id} "
            f"({checkpoint.size} leaves)",
            code="bad-size",
        )
    with registry.database.read() as connection:
        reader = TileReader(connection)
        path = merkle.consistency_proof(first, checkpoint.size, reader.node)
        first_root = merkle.root_hash(first, reader.node)
    verified = merkle.verify_consistency(first, checkpoint.size, first_root, checkpoint.root, path)
    return {
        "first": first,
        "first_root": first_root.hex(),
        "checkpoint": checkpoint.as_dict(),
        "path": [node.hex() for node in path],
        "valid": verified,
    }


def checkpoint_of_size(registry: Registry, size: int) -> Checkpoint:
    """The latest checkpoint that signs a tree of ``size`` leaves."""
    query = (
        select(ledger_checkpoints)
        .where(ledger_checkpoints.c.size == size)
        .order_by(ledger_checkpoints.c.id.desc())
        .limit(1)
    )
    with registry.database.read() as connection:
        row = connection.execute(query).first()
    if row is None:
        raise NotFoundError(f"no checkpoint signs a tree of {size} leaves")
    return _row_checkpoint(row)


def consistency(registry: Registry, old_id: int, new_id: int) -> ConsistencyProof:
    """The consistency proof between two stored checkpoints."""
    return consistency_between(
        registry, get_checkpoint(registry, old_id), get_checkpoint(registry, new_id)
    )
