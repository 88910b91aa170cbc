"""web: server-side sessions (revocable) and failed sign-ins (the rate limit across workers)

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('web_sessions',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('created', UTCDateTime(), nullable=False),
    sa.Column('seen', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_web_sessions_user_id', 'web_sessions', ['user_id'], unique=False)
    op.create_index('ix_web_sessions_seen', 'web_sessions', ['seen'], unique=False)
    op.create_table('sign_in_failures',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('seq')
    )
    op.create_index('ix_sign_in_failures_key', 'sign_in_failures', ['username', 'address', 'at'], unique=False)
    op.create_index('ix_sign_in_failures_at', 'sign_in_failures', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failures_at', table_name='sign_in_failures')
    op.drop_index('ix_sign_in_failures_key', table_name='sign_in_failures')
    op.drop_table('sign_in_failures')
    op.drop_index('ix_web_sessions_seen', table_name='web_sessions')
    op.drop_index('ix_web_sessions_user_id', table_name='web_sessions')
    op.drop_table('web_sessions')
