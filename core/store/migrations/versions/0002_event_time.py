"""Messages get `event_time` (MSH-7, else when received) so lists sort and page by time.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('event_time', sa.DateTime(), nullable=True))
    op.execute("UPDATE messages SET event_time = coalesce(message_time, received_at)")
    op.drop_index('ix_messages_time', table_name='messages')
    op.drop_index('ix_messages_interface', table_name='messages')
    op.create_index('ix_messages_event_time', 'messages', ['event_time', 'id'])
    op.create_index('ix_messages_interface', 'messages', ['interface_id', 'event_time', 'id'])


def downgrade() -> None:
    op.drop_index('ix_messages_interface', table_name='messages')
    op.drop_index('ix_messages_event_time', table_name='messages')
    op.create_index('ix_messages_interface', 'messages', ['interface_id', 'message_time'])
    op.create_index('ix_messages_time', 'messages', ['message_time'])
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('event_time')
