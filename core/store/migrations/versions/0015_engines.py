"""Interface engines as sources (issue 17): engines, their channels (each an interface,
with its state, counts and read cursor), the counts over time, and the engine keys of each
content stored in `messages`.

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'engines',
        sa.Column('id', ID, primary_key=True),
        sa.Column('name', sa.String(200), nullable=False, unique=True),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('username', sa.String(200), nullable=False),
        sa.Column('ca_file', sa.Text),
        sa.Column('write_enabled', sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column('rate', sa.Float, nullable=False, server_default='10'),
        sa.Column('concurrency', sa.Integer, nullable=False, server_default='2'),
        sa.Column('page_size', sa.Integer, nullable=False, server_default='50'),
        sa.Column('version', sa.String(40)),
        sa.Column('server_id', sa.String(64)),
        sa.Column('checked_at', sa.DateTime),
        sa.Column('problem', sa.Text),
        sa.Column('created_at', sa.DateTime, nullable=False),
    )
    op.create_table(
        'engine_channels',
        sa.Column('id', ID, primary_key=True),
        sa.Column('engine_id', ID, sa.ForeignKey('engines.id'), nullable=False),
        sa.Column('channel_id', sa.String(64), nullable=False),
        sa.Column('name', sa.String(200), nullable=False),
        sa.Column('interface_id', ID, sa.ForeignKey('interfaces.id'), nullable=False),
        sa.Column('source_id', ID, sa.ForeignKey('sources.id'), nullable=False),
        sa.Column('destinations', sa.JSON),
        sa.Column('data_type', sa.String(40)),
        sa.Column('state', sa.String(16)),
        sa.Column('state_since', sa.DateTime),
        *(sa.Column(c, sa.BigInteger, nullable=False, server_default='0')
          for c in ('received', 'filtered', 'queued', 'sent', 'errored', 'cursor')),
        sa.Column('polled_at', sa.DateTime),
    )
    op.create_index('ix_engine_channels_key', 'engine_channels', ['engine_id', 'channel_id'], unique=True)
    op.create_table(
        'engine_counts',
        sa.Column('id', ID, primary_key=True),
        sa.Column('channel', sa.BigInteger, nullable=False),
        sa.Column('at', sa.DateTime, nullable=False),
        sa.Column('queued', sa.BigInteger, nullable=False),
        sa.Column('errored', sa.BigInteger, nullable=False),
    )
    op.create_index('ix_engine_counts_channel', 'engine_counts', ['channel', 'at'])
    op.create_table(
        'engine_messages',
        sa.Column('message_id', sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column('channel', sa.BigInteger, nullable=False),
        sa.Column('engine_message_id', sa.BigInteger, nullable=False),
        sa.Column('meta_data_id', sa.Integer, nullable=False),
        sa.Column('connector', sa.String(200)),
        sa.Column('role', sa.String(10), nullable=False),
        sa.Column('status', sa.String(16)),
        sa.Column('data_type', sa.String(40)),
        sa.Column('server_id', sa.String(64)),
    )
    op.create_index('ix_engine_messages_key', 'engine_messages', ['channel', 'engine_message_id', 'meta_data_id'])
    op.create_index('ix_engine_messages_server', 'engine_messages', ['server_id'])


def downgrade() -> None:
    for table in ('engine_messages', 'engine_counts', 'engine_channels', 'engines'):
        op.drop_table(table)
