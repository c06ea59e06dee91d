"""A throwaway PostgreSQL cluster for tests (a pytest plugin).

Load it with ``pytest_plugins = ["tests.pg"]`` (or import the fixtures). It provides:

* ``postgres_cluster`` (session): a private cluster started from the installed server
  binaries, on a free port of 127.0.0.1, deleted at session end. Each pytest-xdist worker
  gets its own cluster.
* ``postgres_url`` (function): the SQLAlchemy URL of a fresh, empty database, dropped
  after the test.

The server binaries are found through ``$SOCIALCREDIT_PG_BINDIR``, ``pg_config --bindir``,
the highest ``/usr/lib/postgresql/*/bin`` or ``PATH``. initdb refuses to run as root, so
as root the server runs as the ``postgres`` user. Without binaries, or when the cluster
cannot start, the tests skip with the reason, except under ``CI=true``, where they fail.

PYTEST_DONT_REWRITE: this module may be imported before pytest registers it as a plugin
(``from tests.pg import ...`` in a conftest); without this marker pytest would warn that it
cannot rewrite it, and warnings are errors in this project.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import itertools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

SUPERUSER = "postgres"
HOST = "127.0.0.1"
RUN_AS_WHEN_ROOT = "postgres"
START_ATTEMPTS = 3  # a free port can be taken between probing and binding it
SCRATCH_PREFIX = "scpg-"
OWNER_FILE = "owner.pid"  # pid of the test process that owns a cluster directory

# Throwaway cluster: durability off, everything for speed.
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "max_connections": "100",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "logging_collector": "off",
}


class PostgresUnavailable(Exception):
    """The cluster cannot be provided (no binaries, or it would not start)."""


def _in_ci() -> bool:
    return os.environ.get("CI") == "true"


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/15/bin -> (15,)
    return tuple(int(part) for part in re.findall(r"\d+", Path(path).parent.name))


def find_bindir() -> Path:
    """Directory holding initdb, pg_ctl and postgres, or raise PostgresUnavailable."""

    def usable(d: str | os.PathLike[str]) -> bool:
        return all(os.access(Path(d) / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres"))

    explicit = os.environ.get("SOCIALCREDIT_PG_BINDIR")
    if explicit:
        if usable(explicit):
            return Path(explicit)
        raise PostgresUnavailable(
            f"SOCIALCREDIT_PG_BINDIR={explicit} does not hold initdb, pg_ctl and postgres"
        )
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for candidate in candidates:
        if candidate and usable(candidate):
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found via "
        "$SOCIALCREDIT_PG_BINDIR, pg_config --bindir, /usr/lib/postgresql/*/bin or PATH; "
        "install them (Debian: apt-get install postgresql)"
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _scratch_parent(as_root: bool) -> str:
    """Where the cluster directory goes.

    ``$SOCIALCREDIT_PG_TMPDIR`` if set; else /dev/shm when it has room, because creating a
    database opens hundreds of small files and that is ~7x faster on tmpfs (0.04 s instead of
    0.3 s per CREATE DATABASE on a virtual disk); else the usual temp dir, or /tmp.
    """
    explicit = os.environ.get("SOCIALCREDIT_PG_TMPDIR")
    if explicit:
        return explicit

    def fits(parent: str, min_free: int = 0) -> bool:
        path = Path(parent)
        try:
            ok = path.is_dir() and os.access(path, os.W_OK | os.X_OK)
            ok = ok and shutil.disk_usage(path).free >= min_free
            if as_root:  # the postgres user must be able to traverse every ancestor
                ok = ok and all(p.stat().st_mode & 0o001 for p in [path, *path.parents])
        except OSError:
            return False
        # The socket path <parent>/scpg-XXXXXXXX/sock/.s.PGSQL.NNNNN must fit in sun_path.
        return ok and len(parent) <= 60

    if fits("/dev/shm", min_free=2 * 1024**3):
        return "/dev/shm"
    parent = tempfile.gettempdir()
    return parent if fits(parent) else "/tmp"


class PostgresCluster:
    """A private PostgreSQL cluster; use :meth:`start` / :meth:`stop` (or the fixture)."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.superuser = SUPERUSER
        self.host = HOST
        self.port = 0
        self.startup_seconds = 0.0
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self._tag = uuid.uuid4().hex[:6]
        parent = _scratch_parent(self._as_root)
        self._sweep_stale(parent)
        self.base_dir = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=parent))
        (self.base_dir / OWNER_FILE).write_text(f"{os.getpid()}\n")
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "sock"
        self.log_path = self.base_dir / "server.log"
        self._stopped = False

    # -- running server programs ------------------------------------------------------

    def _command(self, tool: str, *args: str) -> list[str]:
        cmd = [str(self.bindir / tool), *args]
        if self._as_root:
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            return [runuser, "-u", RUN_AS_WHEN_ROOT, "--", *cmd]
        return cmd

    def _run(
        self, tool: str, *args: str, cwd: Path | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_MESSAGES"] = "C"
        return subprocess.run(
            self._command(tool, *args),
            cwd=cwd or self.base_dir,  # a cwd the server user can enter (not /root)
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        began = time.perf_counter()
        self.socket_dir.mkdir()
        if self._as_root:
            try:
                server_user = pwd.getpwnam(RUN_AS_WHEN_ROOT)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root, and initdb cannot run as root, but there is no "
                    f"{RUN_AS_WHEN_ROOT!r} user to run the server as"
                ) from None
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, server_user.pw_uid, server_user.pw_gid)
        self._initdb()
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# socialcredit test cluster\n")
            settings = {**SERVER_SETTINGS, "unix_socket_directories": str(self.socket_dir)}
            for key, value in settings.items():
                conf.write(f"{key} = {_conf_quote(value)}\n")
        failures = []
        for _ in range(START_ATTEMPTS):
            self.port = _free_port()
            result = self._run(
                "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
                "-l", str(self.log_path), "-o", f"-p {self.port}",
            )  # fmt: skip
            if result.returncode == 0:
                self.startup_seconds = time.perf_counter() - began
                return
            failures.append(f"port {self.port}: {result.stdout}{result.stderr}".strip())
            if "could not bind" not in _tail(self.log_path, 10):
                break  # not a port race: retrying will not help
        raise PostgresUnavailable(
            "pg_ctl could not start the test cluster:\n"
            + "\n".join(failures)
            + f"\n--- tail of {self.log_path} ---\n{_tail(self.log_path)}"
        )

    def _initdb(self) -> None:
        errors = []
        for locale in ("C.UTF-8", "C"):
            result = self._run(
                "initdb", "-D", str(self.data_dir), "-U", self.superuser,
                "--auth=trust", "-E", "UTF8", f"--locale={locale}", "--no-sync",
            )  # fmt: skip
            if result.returncode == 0:
                return
            errors.append(f"initdb --locale={locale}: {result.stdout}{result.stderr}".strip())
            shutil.rmtree(self.data_dir, ignore_errors=True)
        raise PostgresUnavailable("initdb failed:\n" + "\n\n".join(errors))

    def stop(self) -> None:
        """Stop the server (immediately) and delete its files; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if (self.data_dir / "postmaster.pid").exists():
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    self._run("pg_ctl", "stop", "-m", "immediate", "-w", "-t", "30",
                              "-D", str(self.data_dir), timeout=60)  # fmt: skip
                self._kill_leftover_postmaster()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def _kill_leftover_postmaster(self) -> None:
        # Backstop if pg_ctl could not stop it: the pid is the first line of postmaster.pid.
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return
        try:  # a stale pid file could name an unrelated process by now
            if str(self.data_dir) not in Path(f"/proc/{pid}/cmdline").read_text(errors="replace"):
                return
        except OSError:
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            time.sleep(0.5)

    def _sweep_stale(self, parent: str) -> None:
        """Stop and delete clusters left by test processes that died (SIGKILL, power loss)."""
        for base in Path(parent).glob(SCRATCH_PREFIX + "*"):
            try:
                pid = int((base / OWNER_FILE).read_text())
                os.kill(pid, 0)
                continue  # its owner is alive (or another user's: PermissionError)
            except ProcessLookupError:
                pass
            except (OSError, ValueError):
                continue
            if (base / "data" / "postmaster.pid").exists():
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    stop = ("stop", "-m", "immediate", "-w", "-D", str(base / "data"))
                    self._run("pg_ctl", *stop, cwd=Path(parent), timeout=60)
            shutil.rmtree(base, ignore_errors=True)

    # -- databases ----------------------------------------------------------------------

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL of a database in this cluster."""
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string (for psycopg.connect) of a database in this cluster."""
        return f"host={self.host} port={self.port} user={self.superuser} dbname={dbname}"

    def create_database(self, name: str | None = None) -> str:
        """Create a fresh empty database (uniquely named unless given) and return its URL."""
        name = name or f"test_{self._tag}_{next(self._names)}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name_or_url: str) -> None:
        """Drop a database by name or URL, disconnecting anyone still connected."""
        name = name_or_url.rsplit("/", 1)[-1].split("?", 1)[0]
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def __repr__(self) -> str:
        return f"<PostgresCluster {self.host}:{self.port} bindir={self.bindir}>"


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL test cluster unavailable: {reason}"
    if _in_ci():
        pytest.fail(f"{message}\n(CI=true: PostgreSQL tests may not skip)", pytrace=False)
    pytest.skip(message)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM (e.g. a CI timeout) end the session through pytest's teardown.

    By default SIGTERM kills Python without running finalizers or atexit, which would leave
    the server running. pytest handles KeyboardInterrupt by tearing fixtures down.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM kills outright
        raise KeyboardInterrupt("SIGTERM")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL cluster for the whole session (one per xdist worker)."""
    cluster: PostgresCluster | None = None
    try:
        try:
            cluster = PostgresCluster(find_bindir())
            atexit.register(cluster.stop)  # backstop if the teardown never runs
            cluster.start()
        except PostgresUnavailable as exc:
            _unavailable(str(exc))
        except (OSError, subprocess.SubprocessError) as exc:
            _unavailable(f"{type(exc).__name__}: {exc}")
        assert cluster is not None
        with _sigterm_as_interrupt():
            yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
            atexit.unregister(cluster.stop)


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """URL of a fresh empty database, dropped (with FORCE) after the test."""
    url = postgres_cluster.create_database()
    try:
        yield url
    finally:
        postgres_cluster.drop_database(url)
