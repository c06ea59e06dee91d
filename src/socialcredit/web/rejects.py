"""The rejects files of the agencies' uploads through the portal, kept for a day to download.

An upload writes its rejects file (``row,reason,message`` then the file's own columns, exactly
the CLI's) under a random name in one folder of the machine's temporary directory, so that
every server worker on the machine finds it. Beside it a small owner file names the registry
and the account that uploaded it: only that account may download it. Files older than
``KEEP_SECONDS`` are removed whenever a new one is written. The rows also stay in the
database with their import (table ``rejections``), so nothing is lost when a file goes.
"""

import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["KEEP_SECONDS", "RejectsFile", "new_rejects_file", "owned_rejects_file"]

KEEP_SECONDS = 24 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}", re.ASCII)


@dataclass(frozen=True, slots=True)
class RejectsFile:
    token: str
    path: Path


def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / f"socialcredit-portal-rejects-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _owner(database_url: str, user_id: int) -> str:
    return json.dumps(
        {"database": hashlib.sha256(database_url.encode()).hexdigest(), "user": user_id}
    )


def _forget_old(folder: Path, now: float) -> None:
    for path in folder.iterdir():
        try:
            if now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
        except OSError:  # another worker removed it first
            continue


def new_rejects_file(database_url: str, user_id: int) -> RejectsFile:
    """A fresh path for an upload's rejects file, owned by the account ``user_id``."""
    folder = _folder()
    _forget_old(folder, time.time())
    token = secrets.token_urlsafe(24)
    (folder / f"{token}.owner").write_text(_owner(database_url, user_id), encoding="utf-8")
    return RejectsFile(token, folder / f"{token}.csv")


def owned_rejects_file(database_url: str, user_id: int, token: str) -> Path | None:
    """The rejects file ``token`` if it exists and belongs to this account, else ``None``."""
    if not _TOKEN.fullmatch(token):
        return None
    folder = _folder()
    owner, path = folder / f"{token}.owner", folder / f"{token}.csv"
    try:
        if owner.read_text(encoding="utf-8") != _owner(database_url, user_id):
            return None
    except OSError:
        return None
    return path if path.is_file() else None
