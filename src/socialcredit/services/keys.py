"""The office's signing keys: Ed25519, kept outside the database, rotated and revoked.

The key folder (setting ``key_dir``; by default ``NAME.keys`` next to a SQLite ``NAME.db``, or
the user's config folder for PostgreSQL) is created with mode 0700 and holds:

- ``keys.json`` (0600): every key the office ever had, public part only, with its validity:
  ``not_before``, ``not_after`` (set when the key is rotated out) and ``revoked_at`` (set when it
  is compromised: anything it signed at or after that moment is refused);
- ``<key_id>.pem`` (0600): the private key of the current key only (PKCS#8). A rotated-out
  key's private half is deleted: it can never sign again.

The database holds no key at all: someone who can change the database cannot make a signature
or add a key that ``verify`` would trust. ``backup``/``restore`` move the folder as one file,
encrypted with a passphrase (``BestAvailableEncryption``).
"""

import base64
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import make_url

from socialcredit.domain.errors import InputError, NotFoundError, RefusedError
from socialcredit.services.registry import Registry

__all__ = [
    "KeyRecord",
    "Keyring",
    "backup_keys",
    "iso_time",
    "key_directory",
    "keyring",
    "list_keys",
    "parse_time",
    "public_keys_document",
    "restore_keys",
    "revoke_key",
    "rotate_key",
    "signing_key",
    "trusted_keys",
]

INDEX = "keys.json"
BACKUP_FORMAT = "socialcredit-keys-backup/v1"
PUBLIC_FORMAT = "socialcredit-keys/v1"


def iso_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """The public half of a key and the time it may sign in."""

    key_id: str
    public_key: bytes  # raw 32 bytes
    not_before: datetime
    not_after: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "algorithm": "Ed25519",
            "public_key": base64.b64encode(self.public_key).decode(),
            "not_before": iso_time(self.not_before),
            "not_after": iso_time(self.not_after),
            "revoked_at": iso_time(self.revoked_at),
            "revocation_reason": self.revocation_reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "KeyRecord":
        if data.get("algorithm", "Ed25519") != "Ed25519":
            raise InputError(f"key {data.get('key_id')}: only Ed25519 keys are known")
        public_key = base64.b64decode(data["public_key"])
        record = cls(
            key_id=str(data["key_id"]),
            public_key=public_key,
            not_before=parse_time(data["not_before"]) or datetime.min.replace(tzinfo=UTC),
            not_after=parse_time(data.get("not_after")),
            revoked_at=parse_time(data.get("revoked_at")),
            revocation_reason=data.get("revocation_reason"),
        )
        if key_id_of(public_key) != record.key_id:
            raise InputError(f"key {record.key_id}: the id is not the digest of its public key")
        return record

    def problem_at(self, moment: datetime) -> str | None:
        """Why a signature made at ``moment`` with this key is not acceptable (None: it is)."""
        if self.revoked_at is not None and moment >= self.revoked_at:
            return (
                f"key {self.key_id} was revoked at {iso_time(self.revoked_at)}, "
                f"before this was signed ({iso_time(moment)})"
            )
        # A rotated-out key is good up to and including the moment it was replaced.
        if moment < self.not_before or (self.not_after is not None and moment > self.not_after):
            end = iso_time(self.not_after) or "now"
            return (
                f"signed at {iso_time(moment)}, outside the validity of key {self.key_id} "
                f"({iso_time(self.not_before)} to {end})"
            )
        return None

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Keyring:
    """The keys a verifier trusts, by id."""

    keys: dict[str, KeyRecord]

    def check(
        self, key_id: str, message: bytes, signature: bytes, signed_at: datetime
    ) -> str | None:
        """Why a signature is not valid, or None when it is."""
        record = self.keys.get(key_id)
        if record is None:
            return f"signed with key {key_id}, which is not one of the office's keys"
        if not record.verify(message, signature):
            return f"the signature does not match the signed content (key {key_id})"
        return record.problem_at(signed_at)


# --- the key folder ---------------------------------------------------------------------------


def key_directory(registry: Registry) -> Path:
    """Where the registry's keys live (see the module doc)."""
    if registry.settings.key_dir:
        return Path(registry.settings.key_dir).expanduser()
    url = make_url(registry.database.url)
    if registry.database.is_sqlite and url.database and url.database != ":memory:":
        database = Path(url.database).expanduser().resolve()
        return database.with_name(database.stem + ".keys")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    name = f"{url.host or 'local'}-{url.port or 5432}-{url.database or 'registry'}"
    return config / "socialcredit" / "keys" / name


def _private_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder.chmod(0o700)
    return folder


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by the owner only (the mode is set before any byte is written)."""
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
    temporary.chmod(0o600)
    temporary.replace(path)


def _read_index(folder: Path) -> list[KeyRecord]:
    path = folder / INDEX
    if not path.is_file():
        return []
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return [KeyRecord.from_dict(item) for item in document["keys"]]
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a keys file ({error})") from None


def _write_index(folder: Path, records: Iterable[KeyRecord]) -> None:
    document = {"format": PUBLIC_FORMAT, "keys": [record.as_dict() for record in records]}
    _write_private(folder / INDEX, (json.dumps(document, indent=2) + "\n").encode())


def _pem(key: Ed25519PrivateKey, passphrase: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _load_private(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key")
    return key


def _new_key(folder: Path, records: list[KeyRecord], now: datetime) -> KeyRecord:
    key = Ed25519PrivateKey.generate()
    public = _raw_public(key)
    record = KeyRecord(key_id_of(public), public, now)
    _write_private(folder / f"{record.key_id}.pem", _pem(key))
    _write_index(folder, [*records, record])
    return record


def _current(records: list[KeyRecord]) -> KeyRecord | None:
    live = [r for r in records if r.not_after is None and r.revoked_at is None]
    return live[-1] if live else None


def signing_key(registry: Registry) -> tuple[KeyRecord, Ed25519PrivateKey]:
    """The current key and its private half; created on first use (``init`` or a signature)."""
    folder = _private_folder(key_directory(registry))
    records = _read_index(folder)
    record = _current(records)
    if record is None:
        record = _new_key(folder, records, registry.clock.now())
    path = folder / f"{record.key_id}.pem"
    if not path.is_file():
        raise InputError(
            f"the private key {record.key_id} is missing from {folder}; restore it from a "
            "backup (`socialcredit keys restore`) or make a new one (`socialcredit keys rotate`)"
        )
    key = _load_private(path)
    if _raw_public(key) != record.public_key:
        raise InputError(f"{path} does not hold key {record.key_id}")
    return record, key


def list_keys(registry: Registry) -> list[KeyRecord]:
    return _read_index(key_directory(registry))


def keyring(registry: Registry) -> Keyring:
    """The office's own keys, as its verifier trusts them."""
    return Keyring({record.key_id: record for record in list_keys(registry)})


def rotate_key(registry: Registry) -> KeyRecord:
    """A new current key; the old one stops signing now and its private half is deleted."""
    folder = _private_folder(key_directory(registry))
    now = registry.clock.now()
    records = _read_index(folder)
    old = _current(records)
    if old is not None:
        records = [replace(r, not_after=now) if r.key_id == old.key_id else r for r in records]
    record = _new_key(folder, records, now)
    if old is not None:
        (folder / f"{old.key_id}.pem").unlink(missing_ok=True)
    return record


def revoke_key(
    registry: Registry, key_id: str, at: datetime, reason: str = "compromised"
) -> tuple[KeyRecord, KeyRecord | None]:
    """Revoke ``key_id`` from ``at`` on; a revoked current key is replaced by a new one."""
    folder = _private_folder(key_directory(registry))
    records = _read_index(folder)
    matches = [r for r in records if r.key_id == key_id]
    if not matches:
        raise NotFoundError(f"no key {key_id} in {folder}", code="unknown-key")
    was_current = _current(records) == matches[0]
    revoked = replace(matches[0], revoked_at=at, revocation_reason=reason)
    records = [revoked if r.key_id == key_id else r for r in records]
    _write_index(folder, records)
    replacement = None
    if was_current:
        (folder / f"{key_id}.pem").unlink(missing_ok=True)
        replacement = _new_key(folder, records, registry.clock.now())
    return revoked, replacement


def public_keys_document(registry: Registry) -> dict[str, Any]:
    """What the office publishes (``GET /api/v1/keys``, ``keys export``): public halves only."""
    return {"format": PUBLIC_FORMAT, "keys": [r.as_dict() for r in list_keys(registry)]}


def trusted_keys(path: Path) -> Keyring:
    """A published keys file (``keys export``), for a verifier outside the office."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a keys file ({error})") from None
    items = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise InputError(f"{path}: not a keys file (no 'keys' list)")
    return Keyring({record.key_id: record for record in map(KeyRecord.from_dict, items)})


# --- backup and restore -----------------------------------------------------------------------


def backup_keys(registry: Registry, path: Path, passphrase: str) -> list[KeyRecord]:
    """Write every key (private halves encrypted with ``passphrase``) to ``path`` (0600)."""
    if len(passphrase) < 8:
        raise InputError("the backup passphrase must have at least 8 characters")
    folder = key_directory(registry)
    records = _read_index(folder)
    if not records:
        raise NotFoundError(f"no keys in {folder} to back up", code="no-keys")
    private = {}
    for record in records:
        pem = folder / f"{record.key_id}.pem"
        if pem.is_file():
            private[record.key_id] = _pem(_load_private(pem), passphrase.encode()).decode()
    document = {
        "format": BACKUP_FORMAT,
        "keys": [r.as_dict() for r in records],
        "private_keys": private,
    }
    _write_private(path, (json.dumps(document, indent=2) + "\n").encode())
    return records


def _read_backup(path: Path, passphrase: str) -> tuple[list[KeyRecord], dict[str, bytes]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a key backup ({error})") from None
    if not isinstance(document, dict) or document.get("format") != BACKUP_FORMAT:
        raise InputError(f"{path}: not a key backup (format {BACKUP_FORMAT} expected)")
    records = [KeyRecord.from_dict(item) for item in document["keys"]]
    by_id = {r.key_id: r for r in records}
    private = {}
    for key_id, pem in document.get("private_keys", {}).items():
        try:
            key = serialization.load_pem_private_key(pem.encode(), password=passphrase.encode())
        except (ValueError, TypeError):
            raise RefusedError(
                f"{path}: wrong passphrase (or a damaged backup)", code="wrong-passphrase"
            ) from None
        if not isinstance(key, Ed25519PrivateKey) or key_id not in by_id:
            raise InputError(f"{path}: private key {key_id} has no public record")
        if _raw_public(key) != by_id[key_id].public_key:
            raise InputError(f"{path}: private key {key_id} does not match its public key")
        private[key_id] = _pem(key)
    return records, private


def restore_keys(registry: Registry, path: Path, passphrase: str) -> list[KeyRecord]:
    """Restore a backup into the key folder; refuses to replace keys that differ."""
    records, private = _read_backup(path, passphrase)
    folder = _private_folder(key_directory(registry))
    existing = {r.key_id: r for r in _read_index(folder)}
    foreign = [k for k in existing if k not in {r.key_id for r in records}]
    if foreign:
        raise RefusedError(
            f"{folder} holds keys the backup does not know ({', '.join(foreign)}); "
            "restore into an empty key folder (setting key_dir)",
            code="keys-differ",
        )
    for key_id, pem in private.items():
        _write_private(folder / f"{key_id}.pem", pem)
    merged = [_stricter(record, existing.get(record.key_id)) for record in records]
    _write_index(folder, merged)
    return merged


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _stricter(record: KeyRecord, other: KeyRecord | None) -> KeyRecord:
    """An old backup never undoes a revocation or a rotation recorded since it was made."""
    if other is None:
        return record
    revoked = _earliest(record.revoked_at, other.revoked_at)
    reason = record.revocation_reason if revoked == record.revoked_at else other.revocation_reason
    return replace(
        record,
        not_after=_earliest(record.not_after, other.not_after),
        revoked_at=revoked,
        revocation_reason=reason,
    )
