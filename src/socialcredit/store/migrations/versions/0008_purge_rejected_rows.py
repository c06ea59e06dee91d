"""Rejected rows are archived too: their message and record may be purged (NULL), and a purge
row names either an entry or a rejected row.

A rejected row keeps the agency's original row (person ID, evidence) so that nothing reported
is lost; after the archive period that is personal data kept for no one's benefit.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.alter_column("message", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("record", existing_type=sa.Text(), nullable=True)
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rejection_id", sa.Integer(), nullable=True))
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_purges_rejection_id"), ["rejection_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_purges_rejection_id_rejections"), "rejections", ["rejection_id"], ["id"]
        )
        batch_op.create_check_constraint(
            "ck_purges_one_subject", "(entry_id IS NULL) <> (rejection_id IS NULL)"
        )


def downgrade() -> None:
    # Purged rejected rows cannot get their record back: they keep an empty one.
    op.execute("UPDATE rejections SET message = '' WHERE message IS NULL")
    op.execute("UPDATE rejections SET record = '{}' WHERE record IS NULL")
    op.execute("DELETE FROM purges WHERE rejection_id IS NOT NULL")
    with op.batch_alter_table("purges", schema=None) as batch_op:
        batch_op.drop_constraint("ck_purges_one_subject", type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_purges_rejection_id_rejections"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_purges_rejection_id"))
        batch_op.alter_column("entry_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("rejection_id")
    with op.batch_alter_table("rejections", schema=None) as batch_op:
        batch_op.alter_column("record", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("message", existing_type=sa.Text(), nullable=False)
