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
# enable_seqscan off: both reads are lookups by index, but the plan plpgsql caches, if made while the table was
# empty, was a sequential scan, kept as the store grew (176 ms a call at 100,000 statements; 3.5x PostgreSQL's CPU in
# ingest). Planning on every call instead (EXECUTE) cost PostgreSQL's CPU on every single POST.
_CREATE = """
CREATE OR REPLACE FUNCTION lrs_lock_and_check(keys text[], ids text[])
RETURNS TABLE (id text, content_hash text, credential_id integer)
LANGUAGE plpgsql VOLATILE SET enable_seqscan = off AS $$
#variable_conflict use_column
BEGIN
    PERFORM pg_advisory_xact_lock(h)
        FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(keys) AS k ORDER BY 1) AS ordered;
    RETURN QUERY
        SELECT s.id::text, s.content_hash::text, s.credential_id FROM statements AS s WHERE s.id = ANY(ids)
        UNION ALL
        SELECT s.ref_target::text, NULL::text, s.credential_id FROM statements AS s
        WHERE s.ref_target = ANY(ids) AND s.is_voiding;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lrs_lock_and_check(text[], text[])")
