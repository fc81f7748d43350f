"""Alembic's environment: store.migrate hands it a connection, in a transaction that holds the schema's lock."""
from alembic import context

from store.migrate import include_name
from store.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters a table by copying it
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
