"""Shared fixtures: registries on SQLite and on a throwaway PostgreSQL, files, people, events.

Tests that take ``registry`` run once per database (``sqlite`` and ``postgres``); the clock is
pinned (``NOW``) so that 'today' never moves under a test.
"""

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from socialcredit.domain.ids import make_person_id
from socialcredit.services.catalogue import init_registry
from socialcredit.services.registry import Registry
from socialcredit.settings import load_settings

pytest_plugins = ["tests.pg"]


# Modules whose tests share one costly fixture (the portal's demo town, server and Chromium,
# tests/e2e/conftest.py; Spark's JVM, tests/integration/test_spark.py): with xdist (-n) all
# their tests go to one worker, so it is built once. (``xdist_group`` means this, but
# pytest-xdist 3.8's loadgroup renames items through ``_nodeid``, which pytest 9 no longer
# reads: the groups are silently ignored.)
ONE_WORKER_MODULES = ("tests/e2e/test_portal.py", "tests/integration/test_spark.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "load":
        return None  # an explicit --dist: xdist's own
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):  # type: ignore[misc]
        """``load``, except that the tests of ONE_WORKER_MODULES stay together."""

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER_MODULES else nodeid

    return Scheduling(config, log)


FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLE_CATALOGUE = FIXTURES / "example-catalogue.yaml"
# Noon in Rongcheng: the registry's 'today' is 2026-11-27 whatever the machine's zone.
NOW = "2026-11-27T12:00:00+08:00"
TODAY = date(2026, 11, 27)


def person(born: date = date(1984, 3, 5), sequence: int = 123) -> str:
    """A valid resident ID of Rongcheng (area 371082)."""
    return make_person_id("371082", born, sequence)


@pytest.fixture(autouse=True, scope="session")
def _signing_keys_stay_out_of_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A PostgreSQL registry keeps its signing keys in the user's config folder by default
    (docs/ledger.md): in tests that folder is a temporary one, subprocesses included."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    yield
    patch.undo()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'registry.db'}"


def open_registry(url: str, **settings: object) -> Registry:
    return Registry.open(url, load_settings({}, **{"now": NOW, **settings}))


@pytest.fixture
def make_registry() -> Iterator[Callable[..., Registry]]:
    """Open registries on any URL with the pinned clock; closed after the test."""
    opened: list[Registry] = []

    def make(url: str, catalogues: list[Path] | None = None, **settings: object) -> Registry:
        registry = open_registry(url, **settings)
        init_registry(registry, [EXAMPLE_CATALOGUE] if catalogues is None else catalogues)
        opened.append(registry)
        return registry

    yield make
    for registry in opened:
        registry.close()


@pytest.fixture
def registry(make_registry: Callable[..., Registry], database_url: str) -> Registry:
    """A registry with the DESIGN.md example catalogue, on SQLite and on PostgreSQL."""
    return make_registry(database_url)


@pytest.fixture
def sqlite_registry(make_registry: Callable[..., Registry], sqlite_url: str) -> Registry:
    return make_registry(sqlite_url)


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


EVENTS_HEADER = "agency,event_id,person_id,rule,occurred_on,evidence"
PEOPLE_HEADER = "id,name,district,public_servant"

ZHANG_JIAN = person(date(1984, 3, 5), 123)
LI_NA = person(date(1990, 1, 1), 2)


@pytest.fixture
def people_file(tmp_path: Path) -> Path:
    return write_csv(
        tmp_path / "people.csv",
        PEOPLE_HEADER,
        [
            f"{ZHANG_JIAN},张建,崖头街道,true",
            f"{LI_NA},李娜,城西街道,false",
        ],
    )


def recent(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


def frame_of(path: Path) -> pl.DataFrame:
    suffix = path.suffix
    if suffix == ".csv":
        return pl.read_csv(path, infer_schema=False)
    if suffix == ".jsonl":
        return pl.read_ndjson(path)
    return pl.read_parquet(path)


def shows_word(text: str, word: str) -> bool:
    """Whether `word` stands on its own in `text`, not inside a longer word or hex digest.

    A score such as 1015 must not be found inside a random key fingerprint or hash that a
    signed page prints (2dabc41015b0e4b5), or a test of "no score on this page" fails by chance.
    """
    return re.search(rf"(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", text) is not None
