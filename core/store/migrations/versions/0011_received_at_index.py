"""When the console received each message, indexed: silence, the board and alert windows
measure arrival (a sender's clock in MSH-7 can be hours off), and the key grows with every
message, so the index is appended to, never reshuffled.

Revision ID: 0011
Revises: 0010
"""
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_messages_received_at', 'messages', ['received_at'])


def downgrade() -> None:
    op.drop_index('ix_messages_received_at', 'messages')
