"""Alembic environment: runs on the connection qoima hands it (see qoima.store.schema)."""

from __future__ import annotations

from alembic import context

from qoima.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - qoima always passes a connection
    raise RuntimeError("run migrations through qoima.store.schema.upgrade")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
