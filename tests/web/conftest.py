"""The portal in process: the API's small town (two people, an entry each, one account per
role) behind the full application (``create_app`` + ``install_portal``), one Starlette
TestClient per role, each logged in through the login form like a browser.
"""

import re
import shutil
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from tests.api.conftest import add_accounts, populate
from tests.conftest import EXAMPLE_CATALOGUE, open_registry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Starlette asks for httpx2; httpx works the same here
    from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.services import users
from socialcredit.services.catalogue import init_registry
from socialcredit.services.registry import Registry
from socialcredit.web.portal import install_portal

ROLES = users.ROLES
ANON = "anonymous"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(
                pytest.mark.filterwarnings(
                    "ignore::starlette.exceptions.StarletteDeprecationWarning"
                )
            )


def csrf_of(html: str) -> str:
    """The CSRF token of the first form in a page's main part (the header's logout form
    carries the session's token, which public forms do not take)."""
    found = CSRF.search(html, html.find('<main id="main"'))
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def browser(app: Any, *, raise_server_exceptions: bool = True) -> TestClient:
    """A client that keeps cookies like a browser and does not follow redirects."""
    return TestClient(
        app,
        base_url="https://testserver",
        follow_redirects=False,
        raise_server_exceptions=raise_server_exceptions,
    )


def log_in(client: TestClient, name: str, token: str) -> Any:
    form = client.get("/login")
    assert form.status_code == 200, form.text
    data = {"csrf_token": csrf_of(form.text), "name": name, "token": token}
    return client.post("/login", data=data)


@dataclass
class Portal:
    registry: Registry
    app: Any
    tokens: dict[str, str]
    accounts: dict[str, users.User]
    clients: dict[str, TestClient] = field(default_factory=dict)
    prepared: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)

    def client(self, who: str) -> TestClient:
        """A client logged in as ``who`` (a role), or an anonymous one; one per role."""
        if who not in self.clients:
            client = browser(self.app)
            if who != ANON:
                answer = log_in(client, self.accounts[who].name, self.tokens[who])
                assert answer.status_code == 303, answer.text
            self.clients[who] = client
        return self.clients[who]

    def session_csrf(self, client: TestClient) -> str:
        """The CSRF token of the session a client holds."""
        info = users.verify_session(self.registry, client.cookies.get("sc_session") or "")
        assert info is not None, "the client holds no live session"
        return info.csrf

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at the production cost is ~60 ms a hash; a portal hashes six tokens."""
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(1, 1024, 1))


@pytest.fixture(autouse=True)
def _forget_cached_tokens() -> Iterator[None]:
    users.TOKENS.clear()
    yield
    users.TOKENS.clear()


@dataclass(frozen=True)
class Template:
    folder: Path
    tokens: dict[str, str]
    accounts: dict[str, users.User]


@pytest.fixture(scope="session")
def portal_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The town built once (per worker); each portal starts from a copy of its files."""
    folder = tmp_path_factory.mktemp("portal-template")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(users, "_HASHER", PasswordHasher(1, 1024, 1))
        registry = open_registry(f"sqlite:///{folder / 'registry.db'}")
        try:
            init_registry(registry, [EXAMPLE_CATALOGUE])
            populate(registry, folder)
            tokens, accounts = add_accounts(registry)
        finally:
            registry.close()  # the copies must see every page of the file
    return Template(folder, tokens, accounts)


@pytest.fixture
def make_portal(portal_template: Template, tmp_path: Path) -> Iterator[Callable[..., Portal]]:
    """``make_portal(**settings)``: the template town on a registry of its own."""
    made: list[Portal] = []

    def make(**settings: Any) -> Portal:
        folder = tmp_path / f"portal{len(made)}"
        shutil.copytree(portal_template.folder, folder)
        registry = open_registry(f"sqlite:///{folder / 'registry.db'}", **settings)
        app = install_portal(create_app(registry, registry.settings))
        portal = Portal(registry, app, portal_template.tokens, portal_template.accounts)
        made.append(portal)
        return portal

    yield make
    for portal in made:
        portal.close()
        portal.registry.close()


@pytest.fixture
def portal(make_portal: Callable[..., Portal]) -> Portal:
    return make_portal()
