"""privacy: the access log, and erasures and retention runs

Revision ID: 0011
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('access_log',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('credential', sa.String(length=64), nullable=True),
    sa.Column('employee_id', sa.String(length=64), nullable=True),
    sa.Column('unit_id', sa.String(length=64), nullable=True),
    sa.Column('resource', sa.String(length=32), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('filter', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_access_log_employee', 'access_log', ['employee_id', 'seq'], unique=False)
    op.create_index('ix_access_log_unit', 'access_log', ['unit_id', 'seq'], unique=False)
    op.create_index('ix_access_log_at', 'access_log', ['at'], unique=False)
    op.create_table('privacy_events',
    sa.Column('seq', _SEQ, autoincrement=True, nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_privacy_events_at', 'privacy_events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_privacy_events_at', table_name='privacy_events')
    op.drop_table('privacy_events')
    op.drop_index('ix_access_log_at', table_name='access_log')
    op.drop_index('ix_access_log_unit', table_name='access_log')
    op.drop_index('ix_access_log_employee', table_name='access_log')
    op.drop_table('access_log')
