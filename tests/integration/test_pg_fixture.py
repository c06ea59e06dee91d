"""The throwaway PostgreSQL fixtures talk to a real server."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from tests.pg import PostgresCluster

pytest_plugins = ["tests.pg"]

pytestmark = pytest.mark.postgres


def test_cluster_describes_itself(postgres_cluster: PostgresCluster) -> None:
    assert postgres_cluster.port > 0
    assert (postgres_cluster.bindir / "initdb").exists()
    url = make_url(postgres_cluster.url("somedb"))
    assert url.drivername == "postgresql+psycopg"
    assert (url.host, url.port) == ("127.0.0.1", postgres_cluster.port)
    assert (url.username, url.database) == (postgres_cluster.superuser, "somedb")


def test_sqlalchemy_round_trip(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            assert "PostgreSQL" in conn.execute(text("SELECT version()")).scalar_one()
            assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
            conn.execute(text("CREATE TABLE citizen (id bigint PRIMARY KEY, name text NOT NULL)"))
            conn.execute(
                text("INSERT INTO citizen VALUES (:id, :name)"),
                [{"id": 1, "name": "Ada"}, {"id": 2, "name": "王小明"}],
            )
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, name FROM citizen ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, "Ada"), (2, "王小明")]
    finally:
        engine.dispose()


def test_each_test_database_is_fresh_and_isolated(
    postgres_cluster: PostgresCluster, postgres_url: str
) -> None:
    other_url = postgres_cluster.create_database()
    try:
        assert make_url(other_url).database != make_url(postgres_url).database
        first, second = create_engine(postgres_url), create_engine(other_url)
        try:
            with first.begin() as conn:
                # Fresh: no tables left behind by other tests.
                assert (
                    conn.execute(
                        text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                    ).scalar_one()
                    == 0
                )
                conn.execute(text("CREATE TABLE only_here (x int)"))
                conn.execute(text("INSERT INTO only_here VALUES (42)"))
            with second.connect() as conn:
                assert conn.execute(text("SELECT to_regclass('only_here')")).scalar_one() is None
                assert (
                    conn.execute(text("SELECT current_database()")).scalar_one()
                    == make_url(other_url).database
                )
            with first.connect() as conn:
                assert conn.execute(text("SELECT x FROM only_here")).scalar_one() == 42
        finally:
            first.dispose()
            second.dispose()
    finally:
        postgres_cluster.drop_database(other_url)
    with psycopg.connect(postgres_cluster.conninfo(), autocommit=True) as admin:
        names = {r[0] for r in admin.execute("SELECT datname FROM pg_database").fetchall()}
    assert make_url(other_url).database not in names
    assert make_url(postgres_url).database in names


def test_binary_copy(postgres_cluster: PostgresCluster, postgres_url: str) -> None:
    dbname = make_url(postgres_url).database
    assert dbname is not None
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [(i, i % 7, i * 10 - 5, t0 + dt.timedelta(minutes=i)) for i in range(1, 10_001)]
    with psycopg.connect(postgres_cluster.conninfo(dbname)) as conn:
        conn.execute(
            "CREATE TABLE entry (id bigint PRIMARY KEY, citizen_id bigint NOT NULL,"
            " points integer NOT NULL, occurred_at timestamptz NOT NULL)"
        )
        with conn.cursor() as cur:
            with cur.copy(
                "COPY entry (id, citizen_id, points, occurred_at) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["int8", "int8", "int4", "timestamptz"])
                for row in rows:
                    copy.write_row(row)
            count, total, last = cur.execute(
                "SELECT count(*), sum(points), max(occurred_at) FROM entry"
            ).fetchone() or (None, None, None)
    assert count == len(rows)
    assert total == sum(r[2] for r in rows)
    assert last == rows[-1][3]
