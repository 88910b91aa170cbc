"""Alembic environment: run by lrs.store.migrate with a live connection (no alembic.ini needed)."""
from alembic import context

from lrs.store.models import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
