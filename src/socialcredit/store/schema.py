"""The relational schema, shared by SQLite and PostgreSQL (SQLAlchemy Core).

History is append-only: rows are inserted, never updated in place, except the ``people`` and
``imports`` tables, which hold current state next to their append-only history
(``person_changes``) and counters. An entry's status and ``ends_on`` live in
``entry_changes``: every change is a new row with the entry's full new state and its time, so
that any past state can be reconstructed (time travel, ``known_at``).

Every row carries ``recorded_at`` (UTC). Alembic migrations in ``store/migrations`` create this
schema; ``tests/integration/test_migrations.py`` checks that they match.
"""

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

__all__ = [
    "OTHER_NOTICES",
    "UTCDateTime",
    "consents",
    "contest_attachments",
    "contest_steps",
    "contests",
    "notice_deliveries",
    "notices",
    "purges",
    "access_log",
    "idempotency_keys",
    "sessions",
    "users",
    "verifier_grants",
    "catalogue_versions",
    "entries",
    "entry_changes",
    "imports",
    "metadata",
    "people",
    "person_changes",
    "rejections",
    "yearly_cap_writes",
    "check_allowances",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC on every database, returned as aware UTC.

    SQLite has no time zone type and PostgreSQL's ``timestamptz`` converts on the session's
    zone; storing naive UTC everywhere gives the same text and the same ordering on both.
    """

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be time-zone aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


catalogue_versions = Table(
    "catalogue_versions",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("effective_from", Date, nullable=False, unique=True),
    Column("base_score", Integer, nullable=False),
    Column("document", Text, nullable=False),  # canonical JSON of the whole version
    Column("digest", String(64), nullable=False),  # sha256 of the canonical JSON
    Column("recorded_at", UTCDateTime, nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # people | events
    Column("source", Text, nullable=False),
    Column("source_sha256", String(64)),
    Column("submitted", Integer, nullable=False, default=0),
    Column("accepted", Integer, nullable=False, default=0),  # events accepted / people added
    Column("duplicates", Integer, nullable=False, default=0),  # events dup / people updated
    Column("unchanged", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    CheckConstraint("kind IN ('people', 'events')", name="kind"),
)

people = Table(
    "people",
    metadata,
    Column("id", String(18), primary_key=True),
    Column("name", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("public_servant", Boolean, nullable=False),
    Column("registered_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("email", Text),  # optional: where notices are sent (migration 0003)
)

person_changes = Table(
    "person_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(18), nullable=False, index=True),
    Column("name", Text, nullable=False),
    Column("district", Text, nullable=False),
    Column("public_servant", Boolean, nullable=False),
    Column("import_id", Integer, ForeignKey("imports.id")),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("email", Text),
)

entries = Table(
    "entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("agency", String(64), nullable=False),
    Column("event_id", Text, nullable=False),
    Column("person_id", String(18), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("evidence", Text),
    Column("catalogue_version", String(64), nullable=False),
    Column("points", Integer, nullable=False),
    Column("counts_until", Date, nullable=False),
    Column("blacklist_until", Date),
    Column("grade_cap", String(16)),
    Column("import_id", Integer),
    Column("recorded_at", UTCDateTime, nullable=False),
    # Migration 0003: points the rule's yearly cap cut from this entry (it still shows), and
    # the event this one corrects or repairs (same agency's event_id), if any.
    Column("points_cut", Integer, nullable=False, server_default="0"),
    Column("corrects", Text),
    Column("repairs", Text),
    # The idempotency key of DESIGN section 3: held for good once accepted.
    UniqueConstraint("agency", "event_id"),
    # Statements and per-person scores read one person's entries.
    Index(None, "person_id"),
)

entry_changes = Table(
    "entry_changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("ends_on", Date),
    Column("reason", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint("status IN ('active', 'contested', 'overturned', 'withdrawn')", name="status"),
)

rejections = Table(
    "rejections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False, index=True),
    Column("row", Integer, nullable=False),
    Column("reason", String(32), nullable=False),
    # The message and the original row as JSON, so nothing is lost; both NULL once the
    # archive period has passed (services.archive_rejections; migration 0008).
    Column("message", Text),
    Column("record", Text),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# --- accounts and the access log (migration 0002) -------------------------------------------

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("agency", String(64)),  # role agency: the agency it reports for
    Column("person_id", String(18)),  # role resident: the person it is
    Column("organisation", Text),  # role verifier: the bank, employer or school
    Column("secret_hash", Text, nullable=False),  # argon2 hash of the token; never the token
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    CheckConstraint(
        "role IN ('agency', 'clerk', 'resident', 'verifier', 'admin', 'auditor')", name="role"
    ),
)

verifier_grants = Table(
    "verifier_grants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False, index=True),
    Column("policy", String(64), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("user_id", "policy", "purpose"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_sha256", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("response", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

access_log = Table(
    "access_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(18), nullable=False),
    Column("actor", String(128), nullable=False),  # user name, or cli:<login>
    Column("role", String(16), nullable=False),
    Column("organisation", Text),
    Column("action", String(32), nullable=False),  # score | statement | check | export | ...
    Column("purpose", Text, nullable=False),
    Column("detail", Text),  # JSON: the policy and answer of a check, the as_of asked, ...
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "person_id", "recorded_at"),
    # Auditors search by who asked (migration 0005): without these every search scans the log.
    Index(None, "actor", "id"),
    Index(None, "organisation", "id"),
)


# --- due process (migration 0003) ------------------------------------------------------------

contests = Table(
    "contests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("entry_id", Integer, ForeignKey("entries.id"), nullable=False, index=True),
    Column("opened_by", String(128), nullable=False),
    Column("opened_role", String(16), nullable=False),
    Column("grounds", Text),  # personal: purged after the archive period
    Column("answer_due", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

contest_steps = Table(
    "contest_steps",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contest_id", Integer, ForeignKey("contests.id"), nullable=False, index=True),
    Column("step", String(16), nullable=False),  # answered | decided | expired
    Column("outcome", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("corrected_by", Text),  # the correcting event_id, for outcome 'corrected'
    Column("recorded_at", UTCDateTime, nullable=False),
    CheckConstraint(
        "outcome IN ('verified', 'corrected', 'withdrawn', 'upheld', 'overturned')",
        name="outcome",
    ),
)

contest_attachments = Table(
    "contest_attachments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("contest_id", Integer, ForeignKey("contests.id"), nullable=False, index=True),
    Column("filename", Text, nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary),  # personal: purged (set to NULL) after the archive period
    Column("recorded_at", UTCDateTime, nullable=False),
)

# The notices a person is found by directly: all but the entry notices that name their entry.
# (The unary plus keeps SQLite from answering ``entry_id IS NULL`` from the entry_id index,
# which would scan every such notice of everyone; queries repeat this text word for word.)
OTHER_NOTICES = "kind <> 'entry' OR +entry_id IS NULL"

notices = Table(
    "notices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(18), nullable=False),
    Column("kind", String(24), nullable=False),  # entry | adverse-action | contest
    Column("entry_id", Integer),
    # An entry notice is stored as its facts (detail) only, subject and body NULL: the texts
    # are written on reading (services.notices.entry_notice_text). Other kinds store all three.
    Column("subject", Text),
    Column("body", Text),
    Column("detail", Text),  # JSON
    Column("recorded_at", UTCDateTime, nullable=False),
    # A person's notices (migration 0007): entry notices through their entry (entries are
    # indexed by person; entry ids grow, so this index is appended to at its right edge on
    # imports), the others by person. Indexing every entry notice by person too cost an
    # import a random B-tree insert per negative entry.
    Index(None, "entry_id"),
    Index(
        "ix_notices_person_id_id_other",
        "person_id",
        "id",
        sqlite_where=text(OTHER_NOTICES),
        postgresql_where=text(OTHER_NOTICES),
    ),
)

notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("notice_id", Integer, ForeignKey("notices.id"), nullable=False, index=True),
    Column("channel", String(16), nullable=False),  # file | smtp
    Column("address", Text),
    Column("status", String(16), nullable=False),  # sent | failed
    Column("error", Text),
    Column("recorded_at", UTCDateTime, nullable=False),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(18), nullable=False),
    Column("organisation", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("action", String(8), nullable=False),  # grant | revoke
    Column("actor", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "person_id", "organisation"),
    CheckConstraint("action IN ('grant', 'revoke')", name="action"),
)

purges = Table(
    "purges",
    metadata,
    Column("id", Integer, primary_key=True),
    # What was purged: an entry's details, or a rejected row's record (migration 0008).
    Column("entry_id", Integer, ForeignKey("entries.id"), index=True),
    Column("fields", Text, nullable=False),  # which personal fields were purged
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("rejection_id", Integer, ForeignKey("rejections.id"), index=True),
    CheckConstraint("(entry_id IS NULL) <> (rejection_id IS NULL)", name="one_subject"),
)


# --- the tamper-evident ledger (migration 0004; docs/ledger.md) -------------------------------

from sqlalchemy import BigInteger, Float  # noqa: E402  (only the tables below need them)

__all__ += [
    "ledger_batches",
    "ledger_checkpoints",
    "ledger_purged",
    "ledger_state",
    "ledger_tiles",
]

# The head of the log: one row, locked by every writer that appends (leaf indexes have no gaps).
ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("log_id", String(64), nullable=False),  # random name of this log, in every checkpoint
    Column("size", BigInteger, nullable=False),  # leaves in the tree
    Column("frontier", LargeBinary, nullable=False),  # right-edge perfect subtrees, biggest first
    CheckConstraint("id = 1", name="single_row"),
)

# Hashes of complete nodes, 256 per row: level 0 holds the leaf hashes, levels 8, 16, ... the
# roots of 2**level leaves. Any node is one row read and at most 127 hashes away.
ledger_tiles = Table(
    "ledger_tiles",
    metadata,
    Column("level", Integer, primary_key=True),
    Column("tile", BigInteger, primary_key=True),  # nodes tile*256 .. tile*256+255 of the level
    Column("hashes", LargeBinary, nullable=False),  # 32 bytes per complete node, in order
)

# Which record each leaf stands for: one row per appended batch of one kind.
ledger_batches = Table(
    "ledger_batches",
    metadata,
    Column("first_leaf", BigInteger, primary_key=True),
    Column("leaves", Integer, nullable=False),
    Column("kind", String(32), nullable=False),  # the table, or users.revoked
    Column("first_row", BigInteger),  # smallest and largest row id (tables keyed by id)
    Column("last_row", BigInteger),
    Column("row_ids", LargeBinary),  # int64 little-endian, one per leaf (tables keyed by id)
    Column("row_keys", Text),  # JSON list, one key per leaf (catalogue versions)
    Column("salts", LargeBinary),  # 16 random bytes per leaf (kinds with personal fields)
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "kind", "first_row"),
)

# Salted digests of personal values an archive purge deleted: the leaf still recomputes.
ledger_purged = Table(
    "ledger_purged",
    metadata,
    Column("leaf", BigInteger, primary_key=True),
    Column("field", String(64), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

# Signed tree heads: the exact signed text and its Ed25519 signature.
ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),  # hex
    Column("signed_at", UTCDateTime, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("body", Text, nullable=False),  # canonical JSON, as signed
    Column("signature", Text, nullable=False),  # base64
)

# Migration 0009: how many transactions wrote entries that count toward a yearly cap. One row,
# updated first by every such transaction on PostgreSQL: the update's row lock makes them take
# turns (each allots against what the one before committed), and the count tells an import
# whether anyone wrote such entries since it read a cap's use ahead (services.yearly_caps).
yearly_cap_writes = Table(
    "yearly_cap_writes",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("writes", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="single_row"),
)

# Migration 0010: each verifier account's allowance of policy checks, a token bucket kept in
# the database so that every server process draws on the same one (``store.allowances``).
check_allowances = Table(
    "check_allowances",
    metadata,
    Column("account_id", Integer, primary_key=True),  # users.id of the verifier account
    Column("tokens", Float, nullable=False),  # checks it may still ask at ``at_s``
    Column("at_s", Float, nullable=False),  # when ``tokens`` was worked out: Unix seconds
)
