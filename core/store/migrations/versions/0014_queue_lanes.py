"""A queue item names the lane of the record it is about, so the engine-store, Direct,
document and FHIR lanes (docs/architecture.md) queue their records beside HL7 v2 messages:
the record is (lane, message_id), message_id being the id in that lane's table. Every item
so far is about an HL7 v2 message or file, except bulk export errors.

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('queue_items') as batch:
        batch.add_column(sa.Column('lane', sa.String(16), nullable=False, server_default='hl7v2'))
    op.execute("UPDATE queue_items SET lane = 'bulk' WHERE kind = 'fhir_bulk_error'")
    op.create_index('ix_queue_items_record', 'queue_items', ['lane', 'message_id'])


def downgrade() -> None:
    op.drop_index('ix_queue_items_record', 'queue_items')
    with op.batch_alter_table('queue_items') as batch:
        batch.drop_column('lane')
