"""statements, attachments, credentials

Revision ID: 0001
Revises:
Create Date: 2026-11-24 15:06:18.055148

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0001'
down_revision: Union[str, Sequence[str], None] = None
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('activities',
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('updated_us', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('activity_id')
    )
    op.create_table('attachments',
    sa.Column('sha2', sa.String(length=128), nullable=False),
    sa.Column('content_type', sa.Text(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha2')
    )
    op.create_table('credentials',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('scopes', sa.Text(), nullable=False),
    sa.Column('authority', sa.Text(), nullable=False),
    sa.Column('created_us', sa.BigInteger(), nullable=False),
    sa.Column('revoked_us', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    op.create_table('statement_activity',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('profile', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('activity_id', sa.Text(), nullable=False),
    sa.Column('related', sa.Boolean(), nullable=False),
    sa.Column('verb_id', sa.Text(), nullable=False),
    sa.Column('registration', sa.String(length=36), nullable=True)
    )
    with op.batch_alter_table('statement_activity', schema=None) as batch_op:
        batch_op.create_index('ix_statement_activity_activity', ['activity_id', 'seq'], unique=False)
        batch_op.create_index('ix_statement_activity_activity_verb', ['activity_id', 'verb_id', 'seq'], unique=False)
        batch_op.create_index('ix_statement_activity_seq', ['seq'], unique=False)

    op.create_table('statement_agent',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('profile', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('ifi', sa.Text(), nullable=False),
    sa.Column('related', sa.Boolean(), nullable=False),
    sa.Column('is_actor', sa.Boolean(), nullable=False),
    sa.Column('verb_id', sa.Text(), nullable=False),
    sa.Column('registration', sa.String(length=36), nullable=True)
    )
    with op.batch_alter_table('statement_agent', schema=None) as batch_op:
        batch_op.create_index('ix_statement_agent_ifi', ['ifi', 'seq'], unique=False)
        batch_op.create_index('ix_statement_agent_ifi_verb', ['ifi', 'verb_id', 'seq'], unique=False)
        batch_op.create_index('ix_statement_agent_registration', ['registration', 'seq'], unique=False, sqlite_where=sa.text('is_actor = 1 AND registration IS NOT NULL'), postgresql_where=sa.text('is_actor AND registration IS NOT NULL'))
        batch_op.create_index('ix_statement_agent_seq', ['seq'], unique=False)
        batch_op.create_index('ix_statement_agent_verb', ['verb_id', 'seq'], unique=False, sqlite_where=sa.text('is_actor = 1'), postgresql_where=sa.text('is_actor'))

    op.create_table('statements',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('stored_us', sa.BigInteger(), nullable=False),
    sa.Column('verb_id', sa.Text(), nullable=False),
    sa.Column('registration', sa.String(length=36), nullable=True),
    sa.Column('ref_target', sa.String(length=36), nullable=True),
    sa.Column('voided', sa.Boolean(), nullable=False),
    sa.Column('is_voiding', sa.Boolean(), nullable=False),
    sa.Column('credential_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('has_attachments', sa.Boolean(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.create_index('ix_statements_ref_target', ['ref_target'], unique=False, sqlite_where=sa.text('ref_target IS NOT NULL'), postgresql_where=sa.text('ref_target IS NOT NULL'))
        batch_op.create_index('ix_statements_stored', ['stored_us'], unique=False)



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_index('ix_statements_stored')
        batch_op.drop_index('ix_statements_ref_target', sqlite_where=sa.text('ref_target IS NOT NULL'), postgresql_where=sa.text('ref_target IS NOT NULL'))

    op.drop_table('statements')
    with op.batch_alter_table('statement_agent', schema=None) as batch_op:
        batch_op.drop_index('ix_statement_agent_verb', sqlite_where=sa.text('is_actor = 1'), postgresql_where=sa.text('is_actor'))
        batch_op.drop_index('ix_statement_agent_seq')
        batch_op.drop_index('ix_statement_agent_registration', sqlite_where=sa.text('is_actor = 1 AND registration IS NOT NULL'), postgresql_where=sa.text('is_actor AND registration IS NOT NULL'))
        batch_op.drop_index('ix_statement_agent_ifi_verb')
        batch_op.drop_index('ix_statement_agent_ifi')

    op.drop_table('statement_agent')
    with op.batch_alter_table('statement_activity', schema=None) as batch_op:
        batch_op.drop_index('ix_statement_activity_seq')
        batch_op.drop_index('ix_statement_activity_activity_verb')
        batch_op.drop_index('ix_statement_activity_activity')

    op.drop_table('statement_activity')
    op.drop_table('credentials')
    op.drop_table('attachments')
    op.drop_table('activities')
