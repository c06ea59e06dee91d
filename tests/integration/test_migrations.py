"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL,
and running them again changes nothing."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from socialcredit.store.db import Database
from socialcredit.store.migrate import current_revision, head_revision, upgrade
from socialcredit.store.schema import metadata


def test_migrations_match_the_declared_schema(database_url: str):
    database = Database(database_url)
    try:
        upgrade(database)
        upgrade(database)  # idempotent
        assert current_revision(database) == head_revision()
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
        assert differences == []
    finally:
        database.dispose()
