"""``socialcredit users add|list|revoke`` and ``socialcredit serve`` (uvicorn, real sockets)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.api.conftest import populate
from tests.conftest import NOW, ZHANG_JIAN
from tests.integration.cli_helpers import Run, refused, runner

from socialcredit.services.registry import Registry


@pytest.fixture
def registry_file(make_registry: Callable[..., Registry], tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    populate(make_registry(url), tmp_path)
    return url


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], registry_file: str) -> Callable[..., Run]:
    return runner(capsys, registry_file)


def test_users_add_prints_the_token_once(cli: Callable[..., Run]):
    added = cli(
        "users",
        "add",
        "bank-1",
        "--role",
        "verifier",
        "--organisation",
        "Bank",
        "--grant",
        "civil-service-promotion:promotion",
        "--grant",
        "management-position:hiring",
        "--json",
    )
    assert added.code == 0, added
    document = added.document
    assert document["token"].startswith(f"sc_{document['id']}_")
    assert [g["policy"] for g in document["grants"]] == [
        "civil-service-promotion",
        "management-position",
    ]
    listed = cli("users", "list", "--json").document
    assert [u["name"] for u in listed["users"]] == ["bank-1"]
    assert document["token"] not in str(listed) and "token" not in listed["users"][0]
    human = cli("users", "add", "clerk-1", "--role", "clerk")
    assert human.code == 0 and "token: sc_" in human.out and "shown only now" in human.err


def test_users_add_refusals(cli: Callable[..., Run]):
    refused(cli("users", "add", "x", "--role", "mayor", "--json"), 2, "invalid-role")
    refused(
        cli("users", "add", "x", "--role", "agency", "--agency", "nope", "--json"),
        2,
        "unknown-agency",
    )
    refused(
        cli(
            "users",
            "add",
            "x",
            "--role",
            "verifier",
            "--organisation",
            "B",
            "--grant",
            "oops",
            "--json",
        ),
        2,
        "invalid-grant",
    )
    refused(
        cli("users", "add", "x", "--role", "resident", "--person", "123", "--json"),
        1,
        "invalid-person-id",
    )
    assert cli("users", "add", "x", "--role", "clerk", "--json").code == 0
    refused(cli("users", "add", "x", "--role", "clerk", "--json"), 2, "name-taken")


def test_users_revoke(cli: Callable[..., Run]):
    cli("users", "add", "desk", "--role", "agency", "--agency", "traffic-police", "--json")
    revoked = cli("users", "revoke", "desk", "--json")
    assert revoked.code == 0 and revoked.document["revoked_at"]
    assert cli("users", "revoke", "desk", "--json").code == 0  # idempotent
    refused(cli("users", "revoke", "nobody", "--json"), 1, "not-found")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(
    cli: Callable[..., Run], registry_file: str, tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """``socialcredit serve --workers 2`` on a free port; yields (base URL, a verifier's token)."""
    token = cli(
        "users",
        "add",
        "bank-9",
        "--role",
        "verifier",
        "--organisation",
        "Rongcheng Rural Commercial Bank",
        "--grant",
        "civil-service-promotion:promotion",
        "--json",
    ).document["token"]
    port = _free_port()
    env = {**os.environ, "SOCIALCREDIT_NOW": NOW, "SOCIALCREDIT_TOKEN_CACHE_SECONDS": "0"}
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "socialcredit", "--db", registry_file, "serve",
         "--port", str(port), "--workers", "2", "--no-access-log"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(300):  # until it listens (each attempt waits up to 0.1 s)
            if process.poll() is not None:
                pytest.fail(f"serve exited: {(tmp_path / 'serve.log').read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail(f"serve never answered: {(tmp_path / 'serve.log').read_text()}")
        yield base, token
    finally:
        process.terminate()
        process.wait(timeout=60)
        log.close()


def test_serve_with_two_workers(server: tuple[str, str], cli: Callable[..., Run]):
    base, token = server
    auth = {"Authorization": f"Bearer {token}"}
    body = {"person_id": ZHANG_JIAN, "policy": "civil-service-promotion", "purpose": "promotion"}
    with httpx.Client(base_url=base, headers=auth) as client:
        for _ in range(6):
            # The bank has the person's consent (populate); every worker answers the same.
            answer = client.post("/api/v1/checks", json=body)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"eligible": True, "reasons": []}
        assert client.get("/api/v1/catalogue").json()["in_force"] == "2026.1"
        # A revocation from another process is seen at once with token_cache_seconds=0.
        assert cli("users", "revoke", "bank-9", "--json").code == 0
        assert client.get("/api/v1/me").status_code == 401


def test_serve_refuses_a_database_that_is_not_set_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    run = runner(capsys, f"sqlite:///{tmp_path / 'nothing.db'}")
    result = run("serve", "--port", str(_free_port()))
    assert result.code == 2 and "socialcredit init" in result.error_line()


def test_serve_help_names_the_api(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    run = runner(capsys, f"sqlite:///{tmp_path / 'x.db'}")
    result = run("serve", "--help", db=False)
    assert result.code == 0 and "/api/v1/openapi.json" in result.out
