"""web: remove the statement browser's own credentials (it reads the store directly now; each worker used to make
one, and they piled up in the admin's credential list)

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_credentials = sa.table("credentials", sa.column("name", sa.Text), sa.column("scopes", sa.Text))


def upgrade() -> None:
    # Read-only: they stored no statement, and the access log never named them (the page logged its reads).
    op.execute(_credentials.delete().where(_credentials.c.name == "web UI statement browser",
                                           _credentials.c.scopes == "statements/read"))


def downgrade() -> None:
    pass  # a credential no code uses is not made again
