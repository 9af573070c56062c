"""Resend attempts: recorded before a message leaves, completed when its answer comes.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('resend_attempts',
        sa.Column('id', ID, nullable=False),
        sa.Column('item_id', sa.BigInteger(), nullable=True),
        sa.Column('message_id', sa.BigInteger(), nullable=False),
        sa.Column('original_id', sa.BigInteger(), nullable=False),
        sa.Column('destination', sa.String(length=300), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('ack_code', sa.String(length=10), nullable=True),
        sa.Column('answer_id', sa.BigInteger(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.Column('actor', sa.String(length=300), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('item_id', 'message_id', 'original_id', 'state'):
        op.create_index(f'ix_resend_attempts_{column}', 'resend_attempts', [column])


def downgrade() -> None:
    op.drop_table('resend_attempts')
