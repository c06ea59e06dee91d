"""Verifier check allowances in the database: ``check_allowances``, a token bucket per account.

The limit on verifier checks was kept in each server process, so that with ``--workers N`` a
verifier could ask N times the limit. In the database, every process draws on the same bucket.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_allowances",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_check_allowances")),
    )


def downgrade() -> None:
    op.drop_table("check_allowances")
