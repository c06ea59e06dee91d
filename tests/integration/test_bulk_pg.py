"""PostgreSQL's bulk writes: a batch's entry ids drawn from the sequence before the insert."""

from collections.abc import Iterator

import psycopg
import pytest

from socialcredit.store.bulk import draw_ids


@pytest.fixture(scope="module")
def connection(postgres_cluster) -> Iterator[psycopg.Connection]:  # type: ignore[no-untyped-def]
    url = postgres_cluster.create_database()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("CREATE SEQUENCE one_by_one")
        conn.execute("CREATE SEQUENCE two_by_two INCREMENT BY 2")
        conn.commit()
        yield conn
    postgres_cluster.drop_database(url)


def test_consecutive_ids_are_read_back_as_their_span(connection: psycopg.Connection):
    first = draw_ids(connection, "one_by_one", 5)
    second = draw_ids(connection, "one_by_one", 3)
    assert first.to_list() == [1, 2, 3, 4, 5]
    assert second.to_list() == [6, 7, 8]
    assert connection.execute("SELECT last_value FROM one_by_one").fetchone() == (8,)


def test_ids_with_gaps_are_drawn_again_one_by_one(connection: psycopg.Connection):
    """Not consecutive (a concurrent writer drew some between ours; here: a step of 2): the
    first draw is left as a gap and the values of the second are read back, ascending."""
    drawn = draw_ids(connection, "two_by_two", 4)
    assert drawn.to_list() == [9, 11, 13, 15]  # 1, 3, 5, 7: the first draw, a gap
    assert drawn.is_unique().all()


def test_an_empty_draw_takes_nothing(connection: psycopg.Connection):
    before = connection.execute("SELECT last_value FROM one_by_one").fetchone()
    assert draw_ids(connection, "one_by_one", 0).to_list() == []
    assert connection.execute("SELECT last_value FROM one_by_one").fetchone() == before
