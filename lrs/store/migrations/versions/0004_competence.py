"""competence: organisation, catalog, rules, evidence and plans

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'units',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('parent_id', sa.String(64), sa.ForeignKey('units.id')),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('kind', sa.String(32), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
    )
    op.create_index('ix_units_path', 'units', ['path'])
    op.create_table(
        'job_roles',
        sa.Column('code', sa.String(64), primary_key=True),
        sa.Column('name_nb', sa.Text(), nullable=False),
        sa.Column('name_en', sa.Text(), nullable=False),
    )
    op.create_table(
        'employees',
        sa.Column('id', sa.String(64), primary_key=True),
        sa.Column('name', sa.Text(), nullable=False),
        sa.Column('email', sa.Text()),
        sa.Column('unit_id', sa.String(64), sa.ForeignKey('units.id'), nullable=False),
        sa.Column('started_on', sa.Date(), nullable=False),
        sa.Column('left_on', sa.Date()),
    )
    op.create_index('ix_employees_unit', 'employees', ['unit_id'])
    op.create_table(
        'employee_roles',
        sa.Column('employee_id', sa.String(64), sa.ForeignKey('employees.id'), primary_key=True),
        sa.Column('role_code', sa.String(64), sa.ForeignKey('job_roles.code'), primary_key=True),
    )
    op.create_table(
        'employee_agents',
        sa.Column('ifi', sa.Text(), primary_key=True),
        sa.Column('employee_id', sa.String(64), sa.ForeignKey('employees.id'), nullable=False),
    )
    op.create_index('ix_employee_agents_employee', 'employee_agents', ['employee_id'])


def downgrade() -> None:
    for table in ('employee_agents', 'employee_roles', 'employees', 'job_roles', 'units'):
        op.drop_table(table)
