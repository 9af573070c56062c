"""Triage and audit: corrections as linked versions, why an item was acknowledged, and the
hash-chained audit trail with its head row.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('parent_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('version_no', sa.Integer(), nullable=False, server_default='1'))
    op.create_index('ix_messages_parent_id', 'messages', ['parent_id'])
    with op.batch_alter_table('queue_items') as batch:
        batch.add_column(sa.Column('ack_reason', sa.String(length=32), nullable=True))
    op.create_table('audit_entries',
        sa.Column('id', ID, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('item_id', sa.BigInteger(), nullable=True),
        sa.Column('message_id', sa.BigInteger(), nullable=True),
        sa.Column('before', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('after', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('prev_hash', sa.String(length=64), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('seq'),
    )
    for column in ('at', 'actor', 'action', 'item_id', 'message_id'):
        op.create_index(f'ix_audit_entries_{column}', 'audit_entries', [column])
    op.create_table('audit_head',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.execute(f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')")


def downgrade() -> None:
    op.drop_table('audit_head')
    op.drop_table('audit_entries')
    with op.batch_alter_table('queue_items') as batch:
        batch.drop_column('ack_reason')
    op.drop_index('ix_messages_parent_id', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('version_no')
        batch.drop_column('parent_id')
