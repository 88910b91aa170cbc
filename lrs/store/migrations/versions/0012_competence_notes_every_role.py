"""competence: a note on a fact (why its day is not the statement's timestamp), and requirements for every role

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('facts', sa.Column('note', sa.String(length=32), nullable=True))
    with op.batch_alter_table('requirements') as batch:  # SQLite: the table is copied
        batch.alter_column('role_code', existing_type=sa.String(length=64), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM requirements WHERE role_code IS NULL")
    with op.batch_alter_table('requirements') as batch:
        batch.alter_column('role_code', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('facts') as batch:
        batch.drop_column('note')
