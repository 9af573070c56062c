"""What a resend put on the wire, kept with its attempt: the log's line endings are not what
goes (MLLP wants CR segment terminators), so the stored original alone does not say it.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('resend_attempts') as batch:
        batch.add_column(sa.Column('sent', sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('resend_attempts') as batch:
        batch.drop_column('sent')
