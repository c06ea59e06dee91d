"""Entry notices are found through their entry: index notices by entry_id, and by person only
for the other notices (partial index).

An import writes one entry notice per negative entry; indexing each by person cost a random
B-tree insert per notice. Entry ids grow, so the entry_id index is appended to at its end.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

OTHER_NOTICES = "kind <> 'entry' OR +entry_id IS NULL"  # as store.schema.OTHER_NOTICES


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notices_person_id_id"))
        batch_op.create_index(batch_op.f("ix_notices_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(
            "ix_notices_person_id_id_other",
            ["person_id", "id"],
            unique=False,
            sqlite_where=sa.text(OTHER_NOTICES),
            postgresql_where=sa.text(OTHER_NOTICES),
        )


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_person_id_id_other")
        batch_op.drop_index(batch_op.f("ix_notices_entry_id"))
        batch_op.create_index(
            batch_op.f("ix_notices_person_id_id"), ["person_id", "id"], unique=False
        )
