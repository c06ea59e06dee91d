"""Opening a registry database: SQLite (WAL) as the embedded default, PostgreSQL as the server.

``Database.read()`` and ``Database.write()`` are the only ways to get a connection. On SQLite a
write transaction starts with ``BEGIN IMMEDIATE``, so that a writer waits for the lock up front
(bounded by ``busy_timeout``) instead of failing half-way; reads use deferred transactions and,
thanks to WAL, never block the writer.

Connections are pooled (the PRAGMAs run once per connection, and the last close does not
checkpoint the WAL on every transaction), and writers within one process take a lock before
asking SQLite for its write lock: SQLite has one writer anyway, and queueing in-process is
fairer and cheaper than many threads spinning on the busy handler.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import QueuePool

from socialcredit.domain.errors import InputError

__all__ = ["Database", "normalise_url"]


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_on_connect(busy_timeout_ms: int, cache_mib: int) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide where transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # Bigger pages suit bulk appends of wide rows; it only applies to a new database.
        cursor.execute("PRAGMA page_size=16384")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA temp_store=MEMORY")
        # Index pages of a few million entries stay in memory during imports and scoring.
        cursor.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
        # Checkpoint less often: every page of a bulk import is then copied fewer times.
        cursor.execute("PRAGMA wal_autocheckpoint=4000")
        cursor.close()

    return on_connect


def _sqlite_on_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    # Straight to the driver: this runs for every transaction, reads included, and the
    # statement needs none of SQLAlchemy's execution machinery.
    connection.connection.driver_connection.execute(f"BEGIN {mode}")  # type: ignore[union-attr]


class Database:
    """One registry database. Cheap to create; holds a connection pool."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 5000,
        cache_mib: int = 256,
        echo: bool = False,
        ledger: bool = True,
    ) -> None:
        self.url = normalise_url(url)
        # Whether writes append leaves to the tamper-evident log (store.ledger reads it from
        # each write connection's execution options).
        self.ledger = ledger
        try:
            parsed = make_url(self.url)
        except ArgumentError as error:
            raise InputError(f"--db {url!r} is not a database URL: {error}") from None
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise InputError(f"--db {url!r}: only sqlite:/// and postgresql:// are supported")
        self.engine: Engine = self._create_engine(parsed, busy_timeout_ms, cache_mib, echo)
        self._write_lock = threading.RLock()
        self._writing = threading.local()  # this thread's open write transactions

    def holds_write(self) -> bool:
        """Whether this thread is inside a write transaction of this database."""
        return bool(getattr(self._writing, "depth", 0))

    def _create_engine(
        self, parsed: Any, busy_timeout_ms: int, cache_mib: int, echo: bool
    ) -> Engine:
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if database and database != ":memory:":
                folder = Path(database).expanduser().resolve().parent
                if not folder.is_dir():
                    raise InputError(f"--db: folder {folder} does not exist")
            engine = create_engine(
                parsed,
                echo=echo,
                poolclass=QueuePool,
                pool_size=8,
                max_overflow=8,
                # The server's threads share pooled connections; SQLite serialises access.
                connect_args={"check_same_thread": False},
            )
            event.listen(engine, "connect", _sqlite_on_connect(busy_timeout_ms, cache_mib))
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        return create_engine(parsed, echo=echo, pool_pre_ping=True)

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction; rolled back at the end (reads change nothing)."""
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed when the block ends normally, rolled back otherwise."""
        engine = self.engine.execution_options(
            sqlite_begin="IMMEDIATE", socialcredit_ledger=self.ledger
        )
        self._writing.depth = getattr(self._writing, "depth", 0) + 1
        try:
            if not self.is_sqlite:
                with engine.connect() as connection, connection.begin():
                    yield connection
                return
            with self._write_lock, engine.connect() as connection, connection.begin():
                yield connection
        finally:
            self._writing.depth -= 1

    def dispose(self) -> None:
        self.engine.dispose()
