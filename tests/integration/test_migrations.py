"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL,
and running them again changes nothing."""

from datetime import UTC, datetime

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


def test_downgrading_0006_writes_the_entry_notice_texts_out(database_url: str):
    """Before 0006 a notice had to carry its texts: going back writes them from the facts."""
    import json

    from sqlalchemy import insert, select

    from socialcredit.services.notices import entry_notice_text
    from socialcredit.store.migrate import downgrade
    from socialcredit.store.schema import notices

    database = Database(database_url)
    detail = {
        "agency": "traffic-police", "event_id": "TP-1", "rule": "TRAFFIC-RED-LIGHT",
        "points": -5, "occurred_on": "2026-03-01", "counts_until": "2027-03-01",
        "blacklist_until": None, "grade_cap": None, "catalogue_version": "2026.1",
    }  # fmt: skip
    try:
        upgrade(database)
        with database.write() as connection:
            connection.execute(
                insert(notices).values(
                    person_id="1", kind="entry", detail=json.dumps(detail),
                    recorded_at=datetime(2026, 3, 2, tzinfo=UTC),
                )
            )  # fmt: skip
        downgrade(database, "0005")
        with database.read() as connection:
            row = connection.execute(select(notices.c.subject, notices.c.body)).one()
        assert tuple(row) == entry_notice_text(detail)
        upgrade(database)
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()
