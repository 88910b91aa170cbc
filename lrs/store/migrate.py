"""`lrs db upgrade` and `lrs db revision`: Alembic migrations, the same for SQLite and PostgreSQL."""
import os

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from lrs.store.db import write_transaction

MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def alembic_config(connection=None) -> Config:
    cfg = Config()  # no alembic.ini: this is the whole configuration
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")  # 0012_programmes.py
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
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def revision(engine, message: str, autogenerate: bool = False) -> str:
    """A new migration file numbered after the newest (0012 after 0011), and its path. With `autogenerate` it holds
    what the tables in the code have and the database (which must be at head) lacks; else empty, to write by hand."""
    number = max(int(script.revision) for script in ScriptDirectory.from_config(alembic_config()).walk_revisions())
    with engine.connect() as conn:  # autogenerate only reads the database
        script = command.revision(alembic_config(conn), message, autogenerate=autogenerate, rev_id=f"{number + 1:04d}")
    return script.path
