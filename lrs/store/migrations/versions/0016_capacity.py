"""capacity: staffing targets, monthly indicator snapshots, and employees' planned leaving (HR)

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('employees', sa.Column('planned_leaving_on', sa.Date(), nullable=True))
    op.add_column('employees', sa.Column('leaving_reason', sa.String(length=24), nullable=True))
    op.create_table(
        'staffing_targets',
        sa.Column('target_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('competence_code', sa.String(length=64), nullable=False),
        sa.Column('role_code', sa.String(length=64), nullable=True),
        sa.Column('per', sa.String(length=16), nullable=False),
        sa.Column('minimum', sa.Integer(), nullable=False),
        sa.Column('groups', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created', UTCDateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('target_id', 'version'),
    )
    op.create_index('ix_staffing_targets_unit', 'staffing_targets', ['unit_id'])
    op.create_table(
        'indicator_snapshots',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('unit_id', sa.String(length=64), nullable=False),
        sa.Column('role_code', sa.String(length=64), nullable=False),
        sa.Column('competence_code', sa.String(length=64), nullable=False),
        *(sa.Column(c, sa.Integer(), nullable=False) for c in
          ('employees', 'all_met', 'required', 'holders', 'overdue', 'expiring', 'targets', 'targets_met')),
        sa.PrimaryKeyConstraint('month', 'scope', 'unit_id', 'role_code', 'competence_code'),
    )
    op.create_index('ix_indicator_snapshots_unit', 'indicator_snapshots', ['unit_id', 'month'])
    op.create_table(
        'snapshot_months',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('how', sa.String(length=16), nullable=False),
        sa.Column('taken', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('month'),
    )


def downgrade() -> None:
    op.drop_table('snapshot_months')
    op.drop_index('ix_indicator_snapshots_unit', table_name='indicator_snapshots')
    op.drop_table('indicator_snapshots')
    op.drop_index('ix_staffing_targets_unit', table_name='staffing_targets')
    op.drop_table('staffing_targets')
    with op.batch_alter_table('employees') as batch:
        batch.drop_column('leaving_reason')
        batch.drop_column('planned_leaving_on')
