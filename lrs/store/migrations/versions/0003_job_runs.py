"""job_runs: scheduled jobs run once per slot across app instances

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'job_runs',
        sa.Column('job_id', sa.String(100), primary_key=True),
        sa.Column('slot', UTCDateTime(), primary_key=True),
        sa.Column('instance', sa.String(200), nullable=False),
        sa.Column('started', UTCDateTime(), nullable=False),
        sa.Column('finished', UTCDateTime()),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('error', sa.Text()),
    )
    op.create_index('ix_job_runs_started', 'job_runs', ['started'])


def downgrade() -> None:
    op.drop_table('job_runs')
