"""Alembic environment: runs on the connection that :func:`app.store.migrate.upgrade` hands over."""

from alembic import context
from sqlmodel import SQLModel

import app.domain.tables  # noqa: F401  (registers the tables on the metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store.migrate.upgrade(), not the alembic command line")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
