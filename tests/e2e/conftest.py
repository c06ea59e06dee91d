"""The portal end to end: a small demo town, a real server, real headless Chromium.

Built once per test session (and kept on one xdist worker: ``ONE_WORKER_MODULES`` in
tests/conftest.py): the
demo town of ``socialcredit demo --people 2000`` (which holds Zhang Jian), accounts made by the
users service, ``socialcredit serve`` on a free port, and one Chromium; each test gets a fresh
browser context (its own cookies). The registry's clock is pinned (``NOW``) for the demo and the
server alike, so every date the tests see is fixed.

Without Chromium (or Playwright) the tests skip with the reason, except under ``CI=true``,
where nothing may skip and they fail instead.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import polars as pl
import pytest
from tests.conftest import NOW

from socialcredit.services import users
from socialcredit.services.registry import Registry
from socialcredit.services.submissions import submit_events
from socialcredit.settings import load_settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FORESTRY = "Rongcheng Forestry Bureau"
PROMOTION = "promotion"


def skip_or_fail(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}\n(CI=true: browser tests may not skip)", pytrace=False)
    pytest.skip(message)


@dataclass(frozen=True)
class Account:
    name: str
    token: str


@dataclass(frozen=True)
class Town:
    base: str  # the server's URL
    folder: Path
    zhang_jian: str
    upload_person: str  # the agency's upload is about this person
    contest_person: str  # this resident contests an entry
    accounts: dict[str, Account]


def _demo(folder: Path, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "socialcredit", "demo", "--people", "2000",
               "--out", str(folder), "--json"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _others(folder: Path, zhang_jian: str) -> tuple[str, str]:
    """Two residents of the town other than Zhang Jian, the same ones every run."""
    people = pl.read_parquet(folder / "people.parquet").get_column("id").sort().to_list()
    chosen = [person for person in people if person != zhang_jian][:2]
    return chosen[0], chosen[1]


def _accounts(
    url: str, zhang_jian: str, upload_person: str, contest_person: str
) -> dict[str, Account]:
    """One account per part of the story, made by the users service (production hashing)."""
    registry = Registry.open(url, load_settings({}, now=NOW))
    try:
        specs: dict[str, tuple[str, dict[str, Any]]] = {
            "clerk": ("clerk", {}),
            "verifier": ("verifier", {"organisation": FORESTRY,
                                      "grants": [users.Grant("civil-service-promotion", PROMOTION)]}),
            "zhang-jian": ("resident", {"person_id": zhang_jian}),
            "contester": ("resident", {"person_id": contest_person}),
            "traffic-desk": ("agency", {"agency": "traffic-police"}),
            "admin": ("admin", {}),
        }  # fmt: skip
        accounts = {}
        for name, (role, options) in specs.items():
            created = users.add_user(registry, f"e2e-{name}", role, **options)
            accounts[name] = Account(created.user.name, created.token)
        # The entry the resident will contest: reported by the traffic police, like any other.
        event = {"event_id": "E2E-CONTEST-1", "person_id": contest_person,
                 "rule": "TRAFFIC-RED-LIGHT", "occurred_on": "2026-11-01", "evidence": "camera 12"}  # fmt: skip
        outcome = submit_events(registry, "traffic-police", [event], source="e2e")
        assert outcome.result.accepted == 1, outcome.as_dict()
        assert upload_person != contest_person
        return accounts
    finally:
        registry.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(url: str, folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    log = (folder / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "socialcredit", "serve", "--db", url, "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=folder,
    )  # fmt: skip
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve exited: {(folder / 'serve.log').read_text()}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    pytest.fail(f"serve never answered: {(folder / 'serve.log').read_text()}")


@pytest.fixture(scope="session")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    folder = tmp_path_factory.mktemp("portal-town")
    env = {**os.environ, "SOCIALCREDIT_NOW": NOW}
    report = _demo(folder, env)
    url = report["database"]
    zhang_jian = report["statements"][0]["id"]
    upload_person, contest_person = _others(folder, zhang_jian)
    accounts = _accounts(url, zhang_jian, upload_person, contest_person)
    process, base = _serve(url, folder, env)
    try:
        yield Town(base, folder, zhang_jian, upload_person, contest_person, accounts)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        skip_or_fail(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium: Any, town: Town) -> Iterator[Any]:
    """``new_page(locale, **context options)``: a page in a fresh browser context (no
    cookies), English by default."""
    contexts: list[Any] = []

    def make(locale: str = "en-GB", **options: Any) -> Any:
        context = chromium.new_context(
            base_url=town.base, locale=locale, accept_downloads=True, **options
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
