"""S/MIME and resend in the document lane (issue 18): what a Direct message's signature
and envelope said; the practice's Direct certificates (their private keys are in the
keyring); a mailbox's SMTP submission, which resends Direct messages when writes are on.

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table('direct_mail') as t:
        t.add_column(sa.Column('security', sa.JSON))
    op.create_table(
        'direct_keys',
        sa.Column('id', ID, primary_key=True),
        sa.Column('address', sa.String(320), nullable=False, unique=True),
        sa.Column('subject', sa.Text, nullable=False),
        sa.Column('issuer', sa.Text, nullable=False),
        sa.Column('serial', sa.String(100), nullable=False),
        sa.Column('not_after', sa.DateTime, nullable=False),
        sa.Column('certificate', sa.Text, nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
    )
    with op.batch_alter_table('mailboxes') as t:
        t.add_column(sa.Column('smtp_host', sa.String(255)))
        t.add_column(sa.Column('smtp_port', sa.Integer))
        t.add_column(sa.Column('smtp_security', sa.String(10)))
        t.add_column(sa.Column('writes_enabled', sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('mailboxes') as t:
        for c in ('writes_enabled', 'smtp_security', 'smtp_port', 'smtp_host'):
            t.drop_column(c)
    op.drop_table('direct_keys')
    with op.batch_alter_table('direct_mail') as t:
        t.drop_column('security')
