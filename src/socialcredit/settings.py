"""Named settings: every limit and knob has a name, a default and help text.

Settings are read once from the environment (``SOCIALCREDIT_<NAME>``, upper case) and are
immutable afterwards. ``docs/settings.md`` lists them all; a test keeps it complete.
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from dataclasses import field as _field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from socialcredit.domain.errors import InputError

__all__ = ["SETTING_HELP", "Settings", "load_settings"]

GIB = 1024**3


@dataclass(frozen=True, slots=True)
class Settings:
    timezone: str = "Asia/Shanghai"
    batch_rows: int = 100_000
    max_file_bytes: int = 4 * GIB
    max_field_chars: int = 4096
    max_rows_per_file: int = 50_000_000
    sqlite_busy_timeout_ms: int = 5000
    sqlite_cache_mib: int = 256
    pg_batch_work_mem_mib: int = 64
    now: str = ""
    contest_answer_days: int = 30
    max_attachments: int = 5
    max_attachment_bytes: int = 5 * 1024 * 1024
    api_max_events: int = 10_000
    api_max_request_bytes: int = 16 * 1024**2
    api_max_upload_bytes: int = 1 * GIB
    api_max_page_size: int = 500
    verifier_checks_per_minute: int = 20
    token_cache_seconds: int = 30
    catalogue_recheck_ms: int = 2000
    session_minutes: int = 480
    archive_after_days: int = 1825
    archive_batch_rows: int = 5000
    notices_per_run: int = 1000
    notice_max_attempts: int = 5
    notice_outbox: str = "notices-outbox.jsonl"
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_username: str = ""
    smtp_password: str = _field(default="", repr=False)
    smtp_from: str = ""
    smtp_ca_file: str = ""
    smtp_timeout_seconds: int = 30
    ledger: bool = True
    key_dir: str = ""
    pg_bindir: str = ""

    def with_changes(self, **changes: Any) -> "Settings":
        return replace(self, **changes)


SETTING_HELP: Mapping[str, str] = {
    "ledger": "Record every write as a leaf of the tamper-evident log (true/false). Only for "
    "measuring its cost: rows written with it off are reported by `socialcredit verify` as "
    "inserted behind the application's back.",
    "key_dir": "Folder of the office's signing keys (Ed25519), outside the database. Empty: "
    "NAME.keys next to a SQLite file NAME.db, or socialcredit/keys/HOST-PORT-DBNAME in the "
    "user's config folder ($XDG_CONFIG_HOME, else ~/.config) for PostgreSQL.",
    "pg_bindir": "Folder holding pg_dump and pg_restore, for `socialcredit backup` and `restore` "
    "on PostgreSQL; empty: pg_config --bindir, else the newest /usr/lib/postgresql/*/bin, else "
    "PATH.",
    "contest_answer_days": "Days the reporting agency has to answer a contest (30, as the FCRA "
    "gives a credit bureau); unanswered contests are then overturned.",
    "max_attachments": "The most attachments one contest may carry.",
    "max_attachment_bytes": "The largest attachment accepted with a contest, in bytes.",
    "timezone": "The registry's time zone: 'today' is the date there, and a timestamp "
    "without an offset is read in it. Timestamps are stored in UTC.",
    "batch_rows": "Rows validated and written per batch (one transaction each) on imports.",
    "max_file_bytes": "The largest import file accepted; larger files are refused (exit 2).",
    "max_field_chars": "The longest text accepted in any field of an imported row; longer "
    "fields reject the row with 'invalid-text'.",
    "max_rows_per_file": "The most data rows accepted in one import file.",
    "sqlite_busy_timeout_ms": "How long a SQLite writer waits for the write lock before giving up.",
    "sqlite_cache_mib": "Page cache per SQLite connection, in MiB (memory it may use, not a "
    "reservation).",
    "pg_batch_work_mem_mib": "PostgreSQL work_mem, in MiB, for population scoring (SET LOCAL in "
    "its transaction): enough to group every person in memory instead of sorting on disk.",
    "now": "Pin the registry clock to this ISO-8601 timestamp (testing and replays); empty "
    "means the real clock.",
    "api_max_events": "The most events in one JSON request to POST /api/v1/events; more is "
    "refused whole (413, too-many-events). Larger batches go through /api/v1/events/bulk.",
    "api_max_request_bytes": "The largest HTTP request body accepted (but bulk uploads), checked "
    "before the body is read; larger is refused (413).",
    "api_max_upload_bytes": "The largest request body of a bulk upload (POST "
    "/api/v1/events/bulk); it is streamed to a temporary file, never held in memory.",
    "api_max_page_size": "The most items one page of a list endpoint returns; a larger "
    "?limit= is lowered to it.",
    "verifier_checks_per_minute": "Policy checks one verifier account may ask per minute, counted "
    "in the database across every server process (429 with Retry-After beyond it), so that "
    "nobody can screen the population.",
    "token_cache_seconds": "How long a verified API token is trusted from memory before its "
    "account is read again; bounds how late another process sees a revocation (0: never cache).",
    "catalogue_recheck_ms": "How stale a process's view of the loaded catalogue versions may "
    "be: a version loaded by another process (a second server worker, the CLI) is seen within "
    "this many milliseconds (0: look on every read). A load in the same process is seen at once.",
    "session_minutes": "Lifetime of a portal login session (cookie), in minutes.",
    "archive_after_days": "Days after an entry stops counting and blacklisting (and after its "
    "last contest step) when its personal details (evidence, contest grounds, attachments) are "
    "purged by `socialcredit archive purge`; the entry itself stays.",
    "archive_batch_rows": "Entries purged per transaction by `socialcredit archive purge`.",
    "notices_per_run": "The most notices one `socialcredit notices deliver` run sends (its "
    "default --limit).",
    "notice_max_attempts": "Failed attempts after which a notice is no longer retried on a "
    "channel by `notices deliver` (it stays listed as failed).",
    "notice_outbox": "The file the file notifier appends notices to (JSON Lines) when "
    "`notices deliver --to` is not given.",
    "smtp_host": "SMTP server for e-mailed notices; empty means e-mail is not set up.",
    "smtp_port": "Port of the SMTP server (587 for submission with STARTTLS).",
    "smtp_starttls": "Upgrade the SMTP connection with STARTTLS and verify the server's "
    "certificate (true/false); credentials are never sent without it.",
    "smtp_username": "SMTP login name; empty means no login.",
    "smtp_password": "SMTP password (never printed).",
    "smtp_from": "Sender address of e-mailed notices, e.g. notices@credit.rongcheng.gov.cn.",
    "smtp_ca_file": "PEM file of the certificate authorities trusted for the SMTP server; "
    "empty means the system's.",
    "smtp_timeout_seconds": "How long to wait for the SMTP server on each step.",
}

_BOUNDS = {
    "contest_answer_days": (1, 365),
    "max_attachments": (0, 100),
    "max_attachment_bytes": (1, 100 * 1024 * 1024),
    "batch_rows": (1_000, 1_000_000),
    "max_file_bytes": (1, 64 * GIB),
    "max_field_chars": (16, 1_000_000),
    "max_rows_per_file": (1, 1_000_000_000),
    "sqlite_busy_timeout_ms": (0, 600_000),
    "sqlite_cache_mib": (2, 65_536),
    "pg_batch_work_mem_mib": (1, 65_536),
    "api_max_events": (1, 100_000),
    "api_max_request_bytes": (1024, GIB),
    "api_max_upload_bytes": (1024, 64 * GIB),
    "api_max_page_size": (1, 10_000),
    "verifier_checks_per_minute": (1, 1_000_000),
    "token_cache_seconds": (0, 3600),
    "catalogue_recheck_ms": (0, 600_000),
    "session_minutes": (5, 10_080),
    "archive_after_days": (1, 36_500),
    "archive_batch_rows": (1, 10_000),
    "notices_per_run": (1, 1_000_000),
    "notice_max_attempts": (1, 1000),
    "smtp_port": (1, 65_535),
    "smtp_timeout_seconds": (1, 600),
}
_BOOLEANS = frozenset({"smtp_starttls", "ledger"})


def _convert(name: str, raw: str) -> Any:
    if name in _BOOLEANS:
        flag = raw.strip().lower()
        if flag not in ("true", "false", "1", "0", "yes", "no"):
            raise InputError(f"setting {name}: {raw!r} is not true or false")
        return flag in ("true", "1", "yes")
    if name not in _BOUNDS:
        return raw
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        raise InputError(f"setting {name}: {raw!r} is not an integer") from None
    low, high = _BOUNDS[name]
    if not low <= value <= high:
        raise InputError(f"setting {name}: {value} is outside {low}..{high}")
    return value


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Settings from ``SOCIALCREDIT_*`` variables, then ``overrides``; validated."""
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for field in fields(Settings):
        raw = source.get(f"SOCIALCREDIT_{field.name.upper()}")
        if raw is not None and raw != "":
            values[field.name] = _convert(field.name, raw)
    values.update({key: value for key, value in overrides.items() if value is not None})
    settings = Settings(**values)
    try:
        ZoneInfo(settings.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"setting timezone: {settings.timezone!r} is not a time zone") from None
    return settings
