"""store, PostgreSQL: the indexes by agent and by activity hold hashes of the IRIs (and the verb), not their text

Revision ID: 0020
Revises: 0019
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# At 10,000,000 statements the four text indexes came to about 12 GB and outgrew memory, and PostgreSQL's CPU per stored
# statement grew with them (docs/performance.md). A 64-bit hash is a third of the size; queries compare the text too
# (lrs.store.models.iri_match). SQLite keeps the text indexes. On a large store this rebuilds four indexes: minutes.
_INDEXES = (
    ("ix_statement_agent_ifi", "statement_agent", ("ifi",)),
    ("ix_statement_agent_ifi_verb", "statement_agent", ("ifi", "verb_id")),
    ("ix_statement_activity_activity", "statement_activity", ("activity_id",)),
    ("ix_statement_activity_activity_verb", "statement_activity", ("activity_id", "verb_id")),
)


# A query names both the hash and the text; taken as independent, the two would make the planner expect a popular
# course's statements with a verb to be a handful, read them all and sort them (34 ms at 10M) instead of walking the
# index newest first (3-5 ms). These statistics tell it that each hash goes with its text.
_STATISTICS = (("st_statement_agent_key", "statement_agent", "ifi"),
               ("st_statement_activity_key", "statement_activity", "activity_id"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, table, columns in _INDEXES:
        keys = ", ".join(f"hashtextextended({c}, 0)" for c in columns)
        op.execute(f"CREATE INDEX {name}_key ON {table} ({keys}, seq)")
        op.execute(f"DROP INDEX {name}")
    for name, table, column in _STATISTICS:
        op.execute(f"CREATE STATISTICS {name} (dependencies) ON (hashtextextended({column}, 0)), {column}, "
                   f"(hashtextextended(verb_id, 0)), verb_id FROM {table}")
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, _table, _column in _STATISTICS:
        op.execute(f"DROP STATISTICS {name}")
    for name, table, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({', '.join(columns)}, seq)")
        op.execute(f"DROP INDEX {name}_key")
