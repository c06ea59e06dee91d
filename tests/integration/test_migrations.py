"""The Alembic migrations build exactly the schema the code declares, on SQLite and PostgreSQL,
and running them again changes nothing."""

from datetime import UTC, date, datetime

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
    """Before 0006 a notice had to carry its texts: going back writes them from the entry."""
    from sqlalchemy import insert, select

    from socialcredit.services.notices import entry_notice_text
    from socialcredit.store.migrate import downgrade
    from socialcredit.store.schema import entries, notices

    database = Database(database_url)
    entry = {
        "agency": "traffic-police", "event_id": "TP-1", "person_id": "1",
        "rule": "TRAFFIC-RED-LIGHT", "occurred_on": date(2026, 3, 1), "points": -5,
        "counts_until": date(2027, 3, 1), "catalogue_version": "2026.1",
        "recorded_at": datetime(2026, 3, 2, tzinfo=UTC),
    }  # fmt: skip
    try:
        upgrade(database)
        with database.write() as connection:
            entry_id = connection.execute(insert(entries).values(**entry)).inserted_primary_key[0]
            connection.execute(
                insert(notices).values(
                    person_id="1", kind="entry", entry_id=entry_id,
                    recorded_at=datetime(2026, 3, 2, tzinfo=UTC),
                )
            )  # fmt: skip
        downgrade(database, "0005")
        with database.read() as connection:
            row = connection.execute(select(notices.c.subject, notices.c.body)).one()
        facts = {
            "agency": "traffic-police", "event_id": "TP-1", "rule": "TRAFFIC-RED-LIGHT",
            "points": -5, "occurred_on": "2026-03-01", "counts_until": "2027-03-01",
            "blacklist_until": None, "grade_cap": None, "catalogue_version": "2026.1",
        }  # fmt: skip
        assert tuple(row) == entry_notice_text(facts)
        assert "TP-1" in row.body and "-5" in row.body
        upgrade(database)
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()
