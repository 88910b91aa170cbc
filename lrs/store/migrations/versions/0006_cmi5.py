"""cmi5: imported courses, their files and AUs, registrations, sessions, AU progress

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'cmi5_courses',
        sa.Column('id', Seq, primary_key=True, autoincrement=True),
        sa.Column('publisher_id', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('lms_id', sa.Text(), nullable=False, unique=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('structure', sa.Text(), nullable=False),
        sa.Column('competences', sa.Text(), nullable=False),
        sa.Column('package_sha256', sa.String(64), nullable=False),
        sa.Column('imported_by', sa.Text(), nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.UniqueConstraint('publisher_id', 'version', name='uq_cmi5_courses_version'),
    )
    op.create_table(
        'cmi5_files',
        sa.Column('course_id', Seq, sa.ForeignKey('cmi5_courses.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('path', sa.Text(), primary_key=True),
        sa.Column('content_type', sa.Text(), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        'cmi5_aus',
        sa.Column('id', Seq, primary_key=True, autoincrement=True),
        sa.Column('course_id', Seq, sa.ForeignKey('cmi5_courses.id', ondelete='CASCADE'), nullable=False),
        sa.Column('idx', sa.Integer(), nullable=False),
        sa.Column('publisher_id', sa.Text(), nullable=False),
        sa.Column('activity_id', sa.Text(), nullable=False, unique=True),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('url', sa.Text(), nullable=False),
        sa.Column('move_on', sa.String(20), nullable=False),
        sa.Column('mastery_score', sa.Text()),
        sa.Column('launch_method', sa.String(10), nullable=False),
        sa.Column('launch_parameters', sa.Text()),
        sa.Column('entitlement_key', sa.Text()),
        sa.Column('blocks', sa.Text(), nullable=False),
    )
    op.create_index('ix_cmi5_aus_course_id', 'cmi5_aus', ['course_id'])
    op.create_table(
        'cmi5_registrations',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('course_id', Seq, sa.ForeignKey('cmi5_courses.id', ondelete='CASCADE'), nullable=False),
        sa.Column('employee_id', sa.Text(), nullable=False),
        sa.Column('actor', sa.Text(), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
    )
    op.create_index('ix_cmi5_registrations_course_id', 'cmi5_registrations', ['course_id'])
    op.create_index('ix_cmi5_registrations_employee_id', 'cmi5_registrations', ['employee_id'])
    op.create_table(
        'cmi5_au_status',
        sa.Column('registration', sa.String(36), sa.ForeignKey('cmi5_registrations.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('au_id', Seq, sa.ForeignKey('cmi5_aus.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('completed', sa.Boolean(), nullable=False),
        sa.Column('passed', sa.Boolean(), nullable=False),
        sa.Column('failed', sa.Boolean(), nullable=False),
        sa.Column('waived', sa.Boolean(), nullable=False),
        sa.Column('satisfied', sa.Boolean(), nullable=False),
        sa.Column('score', sa.Text()),
    )
    op.create_table(
        'cmi5_satisfied',
        sa.Column('registration', sa.String(36), sa.ForeignKey('cmi5_registrations.id', ondelete='CASCADE'),
                  primary_key=True),
        sa.Column('object_id', sa.Text(), primary_key=True),
        sa.Column('at', UTCDateTime(), nullable=False),
    )
    op.create_table(
        'cmi5_sessions',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('registration', sa.String(36), sa.ForeignKey('cmi5_registrations.id', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('au_id', Seq, sa.ForeignKey('cmi5_aus.id', ondelete='CASCADE'), nullable=False),
        sa.Column('launch_mode', sa.String(10), nullable=False),
        sa.Column('fetch_token_hash', sa.String(64), nullable=False, unique=True),
        sa.Column('fetched_at', UTCDateTime()),
        sa.Column('credential_key', sa.Text()),
        sa.Column('verbs', sa.Text(), nullable=False),
        sa.Column('statements', sa.Integer(), nullable=False),
        sa.Column('launched_at', UTCDateTime(), nullable=False),
        sa.Column('last_at', UTCDateTime(), nullable=False),
        sa.Column('terminated_at', UTCDateTime()),
        sa.Column('abandoned_at', UTCDateTime()),
    )
    op.create_index('ix_cmi5_sessions_registration', 'cmi5_sessions', ['registration'])
    op.create_index('ix_cmi5_sessions_credential_key', 'cmi5_sessions', ['credential_key'])


def downgrade() -> None:
    for table in ('cmi5_sessions', 'cmi5_satisfied', 'cmi5_au_status', 'cmi5_registrations', 'cmi5_aus',
                  'cmi5_files', 'cmi5_courses'):
        op.drop_table(table)
