"""store, PostgreSQL: lrs_lock_and_check, a statement write's advisory locks and its id check in one round trip

Revision ID: 0019
Revises: 0018
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The locks first, then the read in a query of its own: in READ COMMITTED a VOLATILE function's every query takes a
# fresh snapshot, so the read sees what the writer it waited for committed (one statement could not: its snapshot
# would be older than the locks). See lrs/store/statements.py, _lock_and_check.
# The read is planned on every call (EXECUTE): a plpgsql query's cached plan, made while the table was empty, kept
# its sequential scan as the store grew (176 ms a call at 100,000 statements, and 3.5x PostgreSQL's CPU in ingest).
_CREATE = """
CREATE OR REPLACE FUNCTION lrs_lock_and_check(keys text[], ids text[])
RETURNS TABLE (id text, content_hash text, credential_id integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(h)
        FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(keys) AS k ORDER BY 1) AS ordered;
    RETURN QUERY EXECUTE
        'SELECT s.id::text, s.content_hash::text, s.credential_id FROM statements AS s WHERE s.id = ANY($1)
         UNION ALL
         SELECT s.ref_target::text, NULL::text, s.credential_id FROM statements AS s
         WHERE s.ref_target = ANY($1) AND s.is_voiding' USING ids;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lrs_lock_and_check(text[], text[])")
