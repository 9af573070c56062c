"""Resend over TLS, per interface: the switch, the CA to verify the receiver, a client certificate.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('interfaces') as batch:
        batch.add_column(sa.Column('resend_tls', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('resend_tls_ca', sa.Text(), nullable=True))
        batch.add_column(sa.Column('resend_tls_cert', sa.Text(), nullable=True))
        batch.add_column(sa.Column('resend_tls_key', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interfaces') as batch:
        for column in ('resend_tls_key', 'resend_tls_cert', 'resend_tls_ca', 'resend_tls'):
            batch.drop_column(column)
