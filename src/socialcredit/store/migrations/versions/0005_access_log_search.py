"""Indexes for auditors' access-log search by actor and by organisation.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_access_log_actor_id"), ["actor", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_access_log_organisation_id"), ["organisation", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("access_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_log_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_access_log_actor_id"))
