"""A busy or unreachable database is a 503 with Retry-After, however the error comes up:
through SQLAlchemy, straight from a driver cursor (the bulk paths), or from the pool."""

import sqlite3
import warnings
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import exc as sqlalchemy_exc

from socialcredit.api import create_app
from socialcredit.services.registry import Registry

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _locked() -> Exception:
    return sqlalchemy_exc.OperationalError(
        "BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")
    )


@pytest.mark.parametrize(
    ("make_error", "status"),
    [
        (_locked, 503),
        (lambda: sqlite3.OperationalError("database is locked"), 503),
        (lambda: psycopg.errors.DeadlockDetected("deadlock detected"), 503),
        (lambda: psycopg.errors.SerializationFailure("could not serialize access"), 503),
        (lambda: sqlalchemy_exc.TimeoutError("QueuePool limit reached, connection timed out"), 503),
        (lambda: sqlite3.OperationalError("no such table: entries"), 500),
    ],
)
@pytest.mark.filterwarnings("ignore::starlette.exceptions.StarletteDeprecationWarning")
def test_database_errors_answer(
    sqlite_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
    make_error: Callable[[], Exception],
    status: int,
):
    def failing() -> None:
        raise make_error()

    monkeypatch.setattr(sqlite_registry, "catalogues", failing)
    client = TestClient(create_app(sqlite_registry), raise_server_exceptions=False)
    response = client.get("/api/v1/catalogue")
    assert response.status_code == status
    assert response.json()["error"]["code"] == ("unavailable" if status == 503 else "internal")
    if status == 503:
        assert int(response.headers["Retry-After"]) >= 1
