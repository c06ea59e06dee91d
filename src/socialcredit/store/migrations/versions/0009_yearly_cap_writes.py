"""The yearly-cap writers' turn and count: one row, ``yearly_cap_writes``.

On PostgreSQL two imports writing entries of the same capped rule at once each allotted the
cap against what had committed when they looked, so together they could allot more than the
cap. Every transaction that writes such entries now updates this row first: the row lock makes
them take turns, and the count tells an import whether its use read ahead is still current.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "yearly_cap_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("writes", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_yearly_cap_writes_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_yearly_cap_writes")),
    )
    op.bulk_insert(table, [{"id": 1, "writes": 0}])


def downgrade() -> None:
    op.drop_table("yearly_cap_writes")
