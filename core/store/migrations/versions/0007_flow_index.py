"""A covering index for the flow aggregates (Overview map, go-live board): they read only
the index, never the rows with their message bytes.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

COLUMNS = ['is_ack', 'event_time', 'interface_id', 'message_type', 'ack_state', 'parse_state', 'ack_id']


def upgrade() -> None:
    op.create_index('ix_messages_flow', 'messages', COLUMNS)


def downgrade() -> None:
    op.drop_index('ix_messages_flow', 'messages')
