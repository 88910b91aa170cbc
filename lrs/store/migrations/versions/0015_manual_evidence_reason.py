"""competence: the reason a leader gives for rejecting registered evidence (the employee reads it on their plan)

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('manual_evidence', sa.Column('reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('manual_evidence') as batch:  # SQLite: the table is copied
        batch.drop_column('reason')
