"""`lrs db upgrade`: Alembic migrations, the same for SQLite and PostgreSQL."""
import os

from alembic import command
from alembic.config import Config

from lrs.store.db import write_transaction

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(connection=None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine, revision: str = "head") -> None:
    # One writer at a time: two instances starting together must not both migrate (PostgreSQL: advisory lock).
    with write_transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7301)")
        command.upgrade(alembic_config(conn), revision)


def head_revision() -> str:
    """The newest migration this code has (what `lrs db upgrade` brings a database to)."""
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
