"""Entry notices are stored as their facts: notices.subject and notices.body may be NULL.

An import writes one notice per negative entry; its bilingual texts were most of the bytes the
import wrote. They are now written on reading from the stored facts (``detail``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("subject", existing_type=sa.Text(), nullable=True)
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    # Write the texts out from the facts first, so that no row breaks NOT NULL again. (The
    # tamper-evident log then reports these rows as changed: a downgrade is a rewrite.)
    import json

    from socialcredit.services.notices import entry_notice_text

    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, detail FROM notices WHERE subject IS NULL OR body IS NULL")
    ).all()
    for notice_id, detail in rows:
        subject, body = entry_notice_text(json.loads(detail)) if detail else ("", "")
        connection.execute(
            sa.text("UPDATE notices SET subject = :subject, body = :body WHERE id = :id"),
            {"subject": subject, "body": body, "id": notice_id},
        )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.Text(), nullable=False)
