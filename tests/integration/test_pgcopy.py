"""The column-wise binary COPY encoder gives PostgreSQL the same rows as psycopg's
``write_row`` with ``set_types`` (the reference), for every column type it covers."""

from collections.abc import Iterator
from datetime import date, datetime

import polars as pl
import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialcredit.store import pgcopy

TABLE = "(t text, v varchar(64), i int4, b int8, s int2, f bool, d date, ts timestamp, x float8)"
SCHEMA = {
    "t": pl.String,
    "v": pl.String,
    "i": pl.Int32,
    "b": pl.Int64,
    "s": pl.Int16,
    "f": pl.Boolean,
    "d": pl.Date,
    "ts": pl.Datetime("us"),
    "x": pl.Float64,
}
text = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40)
rows = st.lists(
    st.tuples(
        st.none() | text,
        st.none() | text.map(lambda value: value[:64]),
        st.none() | st.integers(-(2**31), 2**31 - 1),
        st.none() | st.integers(-(2**63), 2**63 - 1),
        st.none() | st.integers(-(2**15), 2**15 - 1),
        st.none() | st.booleans(),
        st.none() | st.dates(date(1, 1, 1), date(9999, 12, 31)),
        st.none() | st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)),
        st.none() | st.floats(allow_nan=False),
    ),
    max_size=30,
)


@pytest.fixture(scope="module")
def connection(postgres_cluster) -> Iterator[psycopg.Connection]:  # type: ignore[no-untyped-def]
    url = postgres_cluster.create_database()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(f"CREATE TABLE ours {TABLE}")
        conn.execute(f"CREATE TABLE reference {TABLE}")
        conn.commit()
        yield conn
    postgres_cluster.drop_database(url)


def _oids(connection: psycopg.Connection) -> list[int]:
    return [
        row[0]
        for row in connection.execute(
            "SELECT atttypid::int FROM pg_attribute "
            "WHERE attrelid = 'ours'::regclass AND attnum > 0 ORDER BY attnum"
        )
    ]


def _differences(connection: psycopg.Connection, frame: pl.DataFrame) -> tuple[int, int]:
    oids = _oids(connection)
    connection.execute("TRUNCATE ours, reference")
    assert pgcopy.supported(frame, oids)
    with connection.cursor().copy("COPY ours FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(pgcopy.SIGNATURE)
        for chunk in pgcopy.encode_rows(frame, oids):
            copy.write(chunk)
        copy.write(pgcopy.TRAILER)
    with connection.cursor().copy("COPY reference FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(oids)
        for row in frame.iter_rows():
            copy.write_row(row)
    one = connection.execute("SELECT count(*) FROM (TABLE ours EXCEPT ALL TABLE reference) q")
    other = connection.execute("SELECT count(*) FROM (TABLE reference EXCEPT ALL TABLE ours) q")
    result = (one.fetchone()[0], other.fetchone()[0])  # type: ignore[index]
    connection.rollback()
    return result


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows)
def test_the_encoder_gives_the_server_the_reference_rows(connection, data):  # type: ignore[no-untyped-def]
    frame = pl.DataFrame(data, schema=SCHEMA, orient="row")
    assert _differences(connection, frame) == (0, 0)


def test_rows_in_several_chunks_keep_their_order(connection, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pgcopy, "CHUNK_ROWS", 7)
    frame = pl.DataFrame(
        [
            (f"row {n}", None, n, None, None, n % 2 == 0, date(2026, 1, 1 + n % 28), None, None)
            for n in range(50)
        ],
        schema=SCHEMA,
        orient="row",
    )
    assert _differences(connection, frame) == (0, 0)


def test_a_column_it_does_not_cover_is_left_to_psycopg():
    assert not pgcopy.supported(pl.DataFrame({"d": ["2026-01-01"]}), [1082])  # text for a date
    assert not pgcopy.supported(pl.DataFrame({"j": ["{}"]}), [3802])  # jsonb
    aware = pl.DataFrame({"ts": [datetime(2026, 1, 1)]}).with_columns(
        pl.col("ts").dt.replace_time_zone("UTC")
    )
    assert not pgcopy.supported(aware, [1114])
