"""``repository.one_of`` and ``chunks``: a list of values in a query, written per database
(PostgreSQL: one array parameter; SQLite: an expanding IN in bounded pieces)."""

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from socialcredit.services.registry import Registry
from socialcredit.store import repository
from socialcredit.store.schema import people


def _register(registry: Registry, count: int) -> list[str]:
    ids = [f"3710821984030{n:05d}" for n in range(count)]
    rows = [
        {
            "id": person_id,
            "name": f"Person {n}",
            "district": "Rongcheng",
            "public_servant": n % 2 == 0,
            "registered_at": datetime(2026, 1, 1, tzinfo=UTC),
            "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
        for n, person_id in enumerate(ids)
    ]
    with registry.database.write() as connection:
        connection.execute(insert(people), rows)
    return ids


def test_one_of_finds_exactly_the_listed_values(registry: Registry):
    ids = _register(registry, 40)
    wanted = ids[5:25] + ["371082198403099999"]  # one not registered
    with registry.database.read() as connection:
        query = select(people.c.id).where(repository.one_of(connection, people.c.id, wanted))
        found = sorted(row[0] for row in connection.execute(query))
        none = connection.execute(
            select(people.c.id).where(repository.one_of(connection, people.c.id, []))
        ).all()
    assert found == ids[5:25]
    assert none == []


def test_postgres_gets_one_array_parameter_and_sqlite_an_in_list(registry: Registry):
    with registry.database.read() as connection:
        condition = repository.one_of(connection, people.c.id, ["a", "b", "c"])
        name = connection.dialect.name
    if name == "postgresql":
        sql = str(condition.compile(dialect=postgresql.dialect()))
        assert "= ANY (" in sql
        assert sql.count("%(") == 1  # one parameter, whatever the length of the list
    else:
        sql = str(condition.compile(dialect=sqlite.dialect()))
        assert " IN (" in sql


def test_chunks_keep_sqlite_under_its_parameter_limit(registry: Registry):
    values = list(range(repository.IN_CHUNK * 2 + 3))
    with registry.database.read() as connection:
        pieces = [len(piece) for piece in repository.chunks(connection, values)]
        name = connection.dialect.name
    assert sum(pieces) == len(values)
    if name == "postgresql":
        assert pieces == [len(values)]
    else:
        assert pieces == [repository.IN_CHUNK, repository.IN_CHUNK, 3]


def test_fetch_people_reads_more_people_than_one_chunk(registry: Registry):
    ids = _register(registry, 30)
    asked = ids + [f"9{n:017d}" for n in range(repository.IN_CHUNK)]  # most not registered
    with registry.database.read() as connection:
        found = repository.fetch_people(connection, asked, names=("id", "public_servant"))
    assert sorted(found["id"].to_list()) == ids
    assert found.filter(found["public_servant"])["id"].len() == 15
