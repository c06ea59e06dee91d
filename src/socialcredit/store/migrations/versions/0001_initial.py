"""The initial schema: catalogue versions, people and their history, entries and their changes,
imports and their rejections.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_versions",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("base_score", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_catalogue_versions")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_catalogue_versions_effective_from")),
    )
    op.create_table(
        "entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("catalogue_version", sa.String(length=64), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("counts_until", sa.Date(), nullable=False),
        sa.Column("blacklist_until", sa.Date(), nullable=True),
        sa.Column("grade_cap", sa.String(length=16), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entries")),
        sa.UniqueConstraint("agency", "event_id", name=op.f("uq_entries_agency_event_id")),
    )
    op.create_index(op.f("ix_entries_person_id"), "entries", ["person_id"], unique=False)
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=True),
        sa.Column("submitted", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('people', 'events')", name=op.f("ck_imports_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("public_servant", sa.Boolean(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_table(
        "entry_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'contested', 'overturned', 'withdrawn')",
            name=op.f("ck_entry_changes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_entry_changes_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_changes")),
    )
    op.create_index(op.f("ix_entry_changes_entry_id"), "entry_changes", ["entry_id"], unique=False)
    op.create_table(
        "person_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("district", sa.Text(), nullable=False),
        sa.Column("public_servant", sa.Boolean(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_person_changes_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_changes")),
    )
    op.create_index(
        op.f("ix_person_changes_person_id"), "person_changes", ["person_id"], unique=False
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_rejections_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejections")),
    )
    op.create_index(op.f("ix_rejections_import_id"), "rejections", ["import_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_rejections_import_id"), table_name="rejections")
    op.drop_table("rejections")
    op.drop_index(op.f("ix_person_changes_person_id"), table_name="person_changes")
    op.drop_table("person_changes")
    op.drop_index(op.f("ix_entry_changes_entry_id"), table_name="entry_changes")
    op.drop_table("entry_changes")
    op.drop_table("people")
    op.drop_table("imports")
    op.drop_index(op.f("ix_entries_person_id"), table_name="entries")
    op.drop_table("entries")
    op.drop_table("catalogue_versions")
