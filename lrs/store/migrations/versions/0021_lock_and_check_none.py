"""store, PostgreSQL: lrs_lock_and_check_none, the locks and id check of a write sent in one round trip with its insert

Revision ID: 0021
Revises: 0020
"""
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# lrs_lock_and_check (0019) with nothing to return: it fails (SQLSTATE LR001) when any id is stored, or voided by a
# statement stored earlier, so that the insert sent after it in the same transaction never runs
# (lrs/store/statements.py, _save_at_once; lrs/store/db.py, at_once). The keys are the ids: a statement sent so
# refers to no other.
_CREATE = """
CREATE OR REPLACE FUNCTION lrs_lock_and_check_none(ids text[])
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM lrs_lock_and_check(ids, ids)) THEN
        RAISE EXCEPTION 'a statement id is stored already' USING ERRCODE = 'LR001';
    END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS lrs_lock_and_check_none(text[])")
