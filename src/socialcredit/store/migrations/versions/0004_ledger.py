"""The tamper-evident ledger: log head, node tiles, leaf batches, purged digests, checkpoints.

The single ``ledger_state`` row is created here with a random log id and an empty tree.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    state = op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("log_id", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_state")),
    )
    op.bulk_insert(state, [{"id": 1, "log_id": secrets.token_hex(16), "size": 0, "frontier": b""}])
    op.create_table(
        "ledger_tiles",
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("tile", sa.BigInteger(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("level", "tile", name=op.f("pk_ledger_tiles")),
    )
    op.create_table(
        "ledger_batches",
        sa.Column("first_leaf", sa.BigInteger(), nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("first_row", sa.BigInteger(), nullable=True),
        sa.Column("last_row", sa.BigInteger(), nullable=True),
        sa.Column("row_ids", sa.LargeBinary(), nullable=True),
        sa.Column("row_keys", sa.Text(), nullable=True),
        sa.Column("salts", sa.LargeBinary(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("first_leaf", name=op.f("pk_ledger_batches")),
    )
    with op.batch_alter_table("ledger_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_batches_kind_first_row"), ["kind", "first_row"], unique=False
        )
    op.create_table(
        "ledger_purged",
        sa.Column("leaf", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("leaf", "field", name=op.f("pk_ledger_purged")),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_purged")
    with op.batch_alter_table("ledger_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_batches_kind_first_row"))
    op.drop_table("ledger_batches")
    op.drop_table("ledger_tiles")
    op.drop_table("ledger_state")
