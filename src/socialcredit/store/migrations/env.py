"""Alembic environment: runs on the connection that ``store.migrate`` hands over."""

from alembic import context

from socialcredit.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic without a connection
    raise RuntimeError("run migrations through socialcredit.store.migrate, not bare alembic")

# render_as_batch lets ALTER-style migrations run on SQLite too (it copies the table).
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
