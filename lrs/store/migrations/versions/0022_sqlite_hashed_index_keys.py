"""store, SQLite: the indexes by agent and by activity hold a CRC-32 of the IRIs (and the verb), not their text

Revision ID: 0022
Revises: 0021
"""
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

# 0020 for SQLite. A batch's statement writes ~25 index entries, most at random places in the store; with the text of
# an IRI in each (50-120 bytes a key against 4-5), SQLite's own work was ~135 µs of a stored statement's ~170 in the
# one writer's turn. With the keys it is about a third less, and the database a sixth smaller (docs/performance.md).
# `lrs_key` is lrs.store.models.iri_key, registered on every connection by lrs.store.db. This rebuilds four indexes:
# 26 s at 1,000,000 statements.
_INDEXES = (
    ("ix_statement_agent_ifi", "statement_agent", ("ifi",)),
    ("ix_statement_agent_ifi_verb", "statement_agent", ("ifi", "verb_id")),
    ("ix_statement_activity_activity", "statement_activity", ("activity_id",)),
    ("ix_statement_activity_activity_verb", "statement_activity", ("activity_id", "verb_id")),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, columns in _INDEXES:
        keys = ", ".join(f"lrs_key({c})" for c in columns)
        op.execute(f"CREATE INDEX {name}_key ON {table} ({keys}, seq)")
        op.execute(f"DROP INDEX {name}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name, table, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)}, seq)")
        op.execute(f"DROP INDEX {name}_key")
