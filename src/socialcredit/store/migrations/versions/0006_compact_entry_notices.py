"""Entry notices are stored as a reference to their entry: notices.subject and body may be NULL.

An import writes one notice per negative entry; its bilingual texts were most of the bytes the
import wrote. They are now written on reading from the entry's own columns (``entry_id``).

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
    # Write the texts out from the entries first, so that no row breaks NOT NULL again. (The
    # tamper-evident log then reports these rows as changed: a downgrade is a rewrite.)
    from socialcredit.services.notices import entry_facts, entry_notice_text, notice_detail

    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, kind, detail, entry_id FROM notices WHERE subject IS NULL OR body IS NULL"
        )
    ).all()
    facts = entry_facts(connection, (row.entry_id for row in rows if row.entry_id))
    for notice_id, kind, stored, entry_id in rows:
        detail = notice_detail(kind, stored, entry_id, facts)
        subject, body = entry_notice_text(detail) if detail else ("", "")
        connection.execute(
            sa.text("UPDATE notices SET subject = :subject, body = :body WHERE id = :id"),
            {"subject": subject, "body": body, "id": notice_id},
        )
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.alter_column("body", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("subject", existing_type=sa.Text(), nullable=False)
