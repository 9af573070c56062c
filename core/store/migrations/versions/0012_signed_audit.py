"""A signed audit trail: each entry carries its workstation's Ed25519 signature over its
hash, and the workstations' public keys are registered beside the chain. Someone with the
database can recompute hashes; without a workstation's private key (kept in its keyring)
they cannot sign what they rewrote.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_entries') as batch:
        batch.add_column(sa.Column('signer', sa.String(64), nullable=True))
        batch.add_column(sa.Column('signature', sa.String(128), nullable=True))
    op.create_table(
        'audit_keys',
        sa.Column('fingerprint', sa.String(64), primary_key=True),
        sa.Column('public_key', sa.String(64), nullable=False),
        sa.Column('workstation', sa.String(300), nullable=False),
        sa.Column('registered_at', sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('audit_keys')
    with op.batch_alter_table('audit_entries') as batch:
        batch.drop_column('signature')
        batch.drop_column('signer')
