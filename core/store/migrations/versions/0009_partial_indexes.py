"""Indexes only where there is something to find: keys most messages lack (an ACK has no
patient, an ADT no order number, nearly nothing is a correction) are indexed only when
present, and ACKs by the control ID they answer only while they wait for their message.
Ingest writes fewer index entries, and pairing probes a small index. (The old full
index also lost to the flow index in SQLite's planner, which then read every ACK.)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PRESENT = {'ix_messages_patient_id': 'patient_id', 'ix_messages_placer': 'placer_order',
           'ix_messages_filler': 'filler_order', 'ix_messages_parent_id': 'parent_id'}
WAITING = 'ack_control_id IS NOT NULL AND answers_id IS NULL'  # an ACK not yet paired


def _where(sql: str) -> dict:
    return {'sqlite_where': sa.text(sql), 'postgresql_where': sa.text(sql)}


def upgrade() -> None:
    for name, column in PRESENT.items():
        op.drop_index(name, 'messages')
        op.create_index(name, 'messages', [column], **_where(f'{column} IS NOT NULL'))
    op.drop_index('ix_messages_ack_control_id', 'messages')
    op.create_index('ix_messages_waiting_acks', 'messages', ['ack_control_id'],
                    **_where(WAITING))


def downgrade() -> None:
    op.drop_index('ix_messages_waiting_acks', 'messages')
    op.create_index('ix_messages_ack_control_id', 'messages', ['ack_control_id'])
    for name, column in PRESENT.items():
        op.drop_index(name, 'messages')
        op.create_index(name, 'messages', [column])
