"""Due process: contests and their steps, attachments, notices and deliveries, consents,
archive purges; entries learn the yearly cap cut and the event they correct or repair; people
get an optional e-mail address for notices.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("action IN ('grant', 'revoke')", name=op.f("ck_consents_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consents_person_id_organisation"),
            ["person_id", "organisation"],
            unique=False,
        )

    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notices_person_id_id"), ["person_id", "id"], unique=False
        )

    op.create_table(
        "contests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("opened_by", sa.String(length=128), nullable=False),
        sa.Column("opened_role", sa.String(length=16), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=True),
        sa.Column("answer_due", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_contests_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contests")),
    )
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contests_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_deliveries_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
    )
    with op.batch_alter_table("notice_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_deliveries_notice_id"), ["notice_id"], unique=False
        )

    op.create_table(
        "purges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_purges_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purges")),
    )
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purges_entry_id"), ["entry_id"], unique=False)

    op.create_table(
        "contest_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=128), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_contest_attachments_contest_id_contests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_attachments")),
    )
    with op.batch_alter_table("contest_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_attachments_contest_id"), ["contest_id"], unique=False
        )

    op.create_table(
        "contest_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contest_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("corrected_by", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('verified', 'corrected', 'withdrawn', 'upheld', 'overturned')",
            name=op.f("ck_contest_steps_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["contest_id"], ["contests.id"], name=op.f("fk_contest_steps_contest_id_contests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contest_steps")),
    )
    with op.batch_alter_table("contest_steps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contest_steps_contest_id"), ["contest_id"], unique=False
        )

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("points_cut", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("corrects", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("repairs", sa.Text(), nullable=True))

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.Text(), nullable=True))

    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person_changes", schema=None) as batch_op:
        batch_op.drop_column("email")

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("email")

    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_column("repairs")
        batch_op.drop_column("corrects")
        batch_op.drop_column("points_cut")

    with op.batch_alter_table("contest_steps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_steps_contest_id"))

    op.drop_table("contest_steps")
    with op.batch_alter_table("contest_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contest_attachments_contest_id"))

    op.drop_table("contest_attachments")
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purges_entry_id"))

    op.drop_table("purges")
    with op.batch_alter_table("notice_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_deliveries_notice_id"))

    op.drop_table("notice_deliveries")
    with op.batch_alter_table("contests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contests_entry_id"))

    op.drop_table("contests")
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_person_id_id"))

    op.drop_table("notices")
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consents_person_id_organisation"))

    op.drop_table("consents")
