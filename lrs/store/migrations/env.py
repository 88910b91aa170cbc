"""Alembic environment: run by lrs.store.migrate with a live connection (no alembic.ini needed)."""
from alembic import context

from lrs.store.models import metadata


def render_item(kind, obj, autogen_context):
    """`lrs db revision --autogenerate`: the LRS's own column types written as `UTCDateTime()` with their import
    (Alembic would write `lrs.store.types.UTCDateTime()` and no import)."""
    if kind == "type" and type(obj).__module__ == "lrs.store.types":
        autogen_context.imports.add(f"from lrs.store.types import {type(obj).__name__}")
        return repr(obj)
    return False


def include_object(obj, name, kind, reflected, compare_to):
    """An index made for one database only (`Index(...).ddl_if(dialect=...)`) is not missing on the other."""
    only = getattr(obj, "_ddl_if", None) if kind == "index" else None
    return only is None or only.dialect is None or only.dialect == connection.dialect.name


connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, render_item=render_item,
                  include_object=include_object)
with context.begin_transaction():
    context.run_migrations()
