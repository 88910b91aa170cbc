"""programmes: programme versions, enrolments and their moves, logged entries, sign-offs

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

from lrs.store.types import UTCDateTime

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('programmes',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title_nb', sa.Text(), nullable=False),
    sa.Column('title_en', sa.Text(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('imported', UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code', 'version')
    )
    op.create_table('programme_enrolments',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=64), nullable=False),
    sa.Column('programme_code', sa.String(length=64), nullable=False),
    sa.Column('programme_version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.String(length=64), nullable=False),
    sa.Column('supervisor_id', sa.String(length=64), nullable=True),
    sa.Column('leader_id', sa.String(length=64), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('planned_end', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['employee_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['leader_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['supervisor_id'], ['employees.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('employee_id', 'programme_code', name='uq_programme_enrolments')
    )
    op.create_index('ix_programme_enrolments_supervisor', 'programme_enrolments', ['supervisor_id'], unique=False)
    op.create_table('programme_transfers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('enrolment_id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=64), nullable=False),
    sa.Column('from_unit', sa.String(length=64), nullable=True),
    sa.Column('to_unit', sa.String(length=64), nullable=False),
    sa.Column('from_supervisor', sa.String(length=64), nullable=True),
    sa.Column('to_supervisor', sa.String(length=64), nullable=True),
    sa.Column('from_leader', sa.String(length=64), nullable=True),
    sa.Column('to_leader', sa.String(length=64), nullable=True),
    sa.Column('moved_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['programme_enrolments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_programme_transfers_enrolment', 'programme_transfers', ['enrolment_id'], unique=False)
    op.create_table('programme_entries',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('enrolment_id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=64), nullable=False),
    sa.Column('objective_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('activity_code', sa.String(length=64), nullable=True),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('logged', UTCDateTime(), nullable=False),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided', UTCDateTime(), nullable=True),
    sa.Column('statement_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['programme_enrolments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_programme_entries_enrolment', 'programme_entries', ['enrolment_id'], unique=False)
    op.create_table('programme_signoffs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('enrolment_id', sa.String(length=36), nullable=False),
    sa.Column('employee_id', sa.String(length=64), nullable=False),
    sa.Column('objective_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('signed_by', sa.String(length=64), nullable=False),
    sa.Column('signer_employee_id', sa.String(length=64), nullable=True),
    sa.Column('signer_name', sa.Text(), nullable=True),
    sa.Column('signed', UTCDateTime(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('voided', UTCDateTime(), nullable=True),
    sa.Column('voided_by', sa.String(length=64), nullable=True),
    sa.Column('voiding_statement_id', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['enrolment_id'], ['programme_enrolments.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_programme_signoffs_enrolment', 'programme_signoffs', ['enrolment_id', 'objective_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_programme_signoffs_enrolment', table_name='programme_signoffs')
    op.drop_table('programme_signoffs')
    op.drop_index('ix_programme_entries_enrolment', table_name='programme_entries')
    op.drop_table('programme_entries')
    op.drop_index('ix_programme_transfers_enrolment', table_name='programme_transfers')
    op.drop_table('programme_transfers')
    op.drop_index('ix_programme_enrolments_supervisor', table_name='programme_enrolments')
    op.drop_table('programme_enrolments')
    op.drop_table('programmes')
