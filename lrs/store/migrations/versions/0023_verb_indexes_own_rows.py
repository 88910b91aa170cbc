"""store: the indexes by agent or activity with the verb hold only the rows of a statement's own actor, object and
activity (not `related`)

Revision ID: 0023
Revises: 0022
"""
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

# A query names a verb with an agent or an activity mostly without related_agents / related_activities, and then
# reads only rows that are not `related`. Of a stored statement's index rows, two activity rows in three (the
# context's parent and grouping) and one agent row in two (the authority) are related: written into the verb indexes,
# they cost SQLite 12 % of a batch's CPU and took two thirds of the two indexes' size on PostgreSQL
# (docs/performance.md). A query with the related ones and a verb now walks the index without the verb. This rebuilds
# two indexes: minutes on a large store.
_INDEXES = (("ix_statement_agent_ifi_verb_key", "statement_agent", "ifi"),
            ("ix_statement_activity_activity_verb_key", "statement_activity", "activity_id"))


def _rebuild(partial: bool) -> None:
    dialect = op.get_bind().dialect.name
    key = "lrs_key({})" if dialect == "sqlite" else "hashtextextended({}, 0)"
    where = (" WHERE related = 0" if dialect == "sqlite" else " WHERE NOT related") if partial else ""
    for name, table, column in _INDEXES:
        op.execute(f"DROP INDEX {name}")
        op.execute(f"CREATE INDEX {name} ON {table} ({key.format(column)}, {key.format('verb_id')}, seq){where}")


def upgrade() -> None:
    _rebuild(partial=True)


def downgrade() -> None:
    _rebuild(partial=False)
