"""A small town behind the HTTP API: two people, an entry, and one account per role.

``town`` runs on SQLite; ``town_any_db`` runs once on SQLite and once on PostgreSQL (the
``database_url`` parametrisation of ``tests/conftest.py``). Requests go through Starlette's
TestClient, in process, against the real application and a real database.
"""

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from tests.conftest import EVENTS_HEADER, LI_NA, ZHANG_JIAN, recent, write_csv

with warnings.catch_warnings():
    # Starlette asks for httpx2, which is not packaged here; httpx works the same for tests.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.services import consent, users
from socialcredit.services.access import LOCAL
from socialcredit.services.events import import_events
from socialcredit.services.people import import_people
from socialcredit.services.registry import Registry
from socialcredit.store.schema import access_log

ROLES = users.ROLES
API = "/api/v1"
BANK = "Rongcheng Rural Commercial Bank"
GRANTS = (
    users.Grant("civil-service-promotion", "promotion"),
    users.Grant("management-position", "hiring"),
)
ACCOUNTS: dict[str, dict[str, Any]] = {
    "agency": {"name": "traffic-desk", "agency": "traffic-police"},
    "clerk": {"name": "clerk-wang"},
    "resident": {"name": "zhang-jian", "person_id": ZHANG_JIAN},
    "verifier": {"name": "bank-teller", "organisation": BANK, "grants": GRANTS},
    "admin": {"name": "admin-li"},
    "auditor": {"name": "auditor-chen"},
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "production_hash: hash tokens at the production cost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore::starlette.exceptions.StarletteDeprecationWarning"
                )
            )


@dataclass
class Town:
    registry: Registry
    client: TestClient
    tokens: dict[str, str]
    accounts: dict[str, users.User] = field(default_factory=dict)

    def auth(self, role: str | None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, role: str | None = None, **kwargs: Any) -> Any:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        return self.client.get(path, headers=headers, **kwargs)

    def post(self, path: str, role: str | None = None, **kwargs: Any) -> Any:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        return self.client.post(path, headers=headers, **kwargs)

    def access_rows(self, person_id: str) -> list[Any]:
        with self.registry.database.read() as connection:
            query = select(access_log).where(access_log.c.person_id == person_id)
            return list(connection.execute(query.order_by(access_log.c.id)).all())


def add_accounts(registry: Registry) -> tuple[dict[str, str], dict[str, users.User]]:
    tokens, accounts = {}, {}
    for role, spec in ACCOUNTS.items():
        options = {key: value for key, value in spec.items() if key != "name"}
        created = users.add_user(registry, spec["name"], role, **options)
        tokens[role], accounts[role] = created.token, created.user
    return tokens, accounts


def populate(registry: Registry, folder: Path) -> None:
    people = write_csv(
        folder / "people.csv",
        "id,name,district,public_servant",
        [f"{ZHANG_JIAN},张建,崖头街道,true", f"{LI_NA},李娜,城西街道,false"],
    )
    import_people(registry, people)
    events = write_csv(
        folder / "events.csv",
        EVENTS_HEADER,
        [
            f"traffic-police,TP-1,{ZHANG_JIAN},TRAFFIC-RED-LIGHT,{recent(40)},camera 7",
            f"public-security,PS-1,{LI_NA},PUBLIC-FIGHT,{recent(30)},report 12",
        ],
    )
    import_events(registry, events)
    # Both let the bank ask, each for the purposes it is granted (issue 4: consent).
    for person_id in (ZHANG_JIAN, LI_NA):
        for grant in GRANTS:
            consent.grant_consent(registry, person_id, BANK, grant.purpose, LOCAL)


def build_town(registry: Registry, folder: Path, **app_options: Any) -> Town:
    populate(registry, folder)
    tokens, accounts = add_accounts(registry)
    app = create_app(registry, registry.settings, **app_options)
    client = TestClient(app, base_url="https://testserver")
    return Town(registry, client, tokens, accounts)


@pytest.fixture(autouse=True)
def _cheap_hashes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at the production cost takes ~60 ms a hash; towns hash six tokens each. Tests
    marked ``production_hash`` keep the real parameters (and one checks them)."""
    if request.node.get_closest_marker("production_hash") is None:
        monkeypatch.setattr(users, "_HASHER", PasswordHasher(1, 1024, 1))


@pytest.fixture(autouse=True)
def _forget_cached_tokens() -> Iterator[None]:
    """Tokens cached by one test must not vouch for an account in another test's database."""
    users.TOKENS.clear()
    yield
    users.TOKENS.clear()


@pytest.fixture
def make_town(
    make_registry: Callable[..., Registry], tmp_path: Path
) -> Iterator[Callable[..., Town]]:
    """``make_town(url=None, app_options=None, **settings)``: a town on its own registry."""
    towns: list[Town] = []

    def make(
        url: str | None = None, app_options: dict[str, Any] | None = None, **settings: Any
    ) -> Town:
        folder = tmp_path / f"town{len(towns)}"
        folder.mkdir()
        registry = make_registry(url or f"sqlite:///{folder / 'registry.db'}", **settings)
        town = build_town(registry, folder, **(app_options or {}))
        towns.append(town)
        return town

    yield make
    for town in towns:
        town.client.close()


@pytest.fixture
def town(make_town: Callable[..., Town]) -> Town:
    return make_town()


@pytest.fixture
def town_any_db(make_town: Callable[..., Town], database_url: str) -> Town:
    return make_town(database_url)
