"""Initial schema: sources, interfaces, pairs, messages, queue items, full-text index.

Revision ID: 0001
Revises: 
"""
import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('interfaces',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('match_key', sa.String(length=820), nullable=False),
    sa.Column('lane', sa.String(length=32), nullable=False),
    sa.Column('sending_app', sa.String(length=200), nullable=True),
    sa.Column('sending_facility', sa.String(length=200), nullable=True),
    sa.Column('receiving_app', sa.String(length=200), nullable=True),
    sa.Column('receiving_facility', sa.String(length=200), nullable=True),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('expects_ack', sa.Boolean(), nullable=True),
    sa.Column('ack_timeout_s', sa.Integer(), nullable=False),
    sa.Column('silence_threshold_s', sa.Integer(), nullable=True),
    sa.Column('write_class', sa.String(length=16), nullable=False),
    sa.Column('write_enabled', sa.Boolean(), nullable=False),
    sa.Column('resend_host', sa.String(length=255), nullable=True),
    sa.Column('resend_port', sa.Integer(), nullable=True),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('match_key')
    )
    op.create_table('pairs',
    sa.Column('key', sa.String(length=820), nullable=False),
    sa.Column('acks_seen', sa.Boolean(), nullable=False),
    sa.Column('last_activity', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('sources',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('device', sa.BigInteger(), nullable=True),
    sa.Column('inode', sa.BigInteger(), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('batch', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('first_seen', sa.DateTime(), nullable=False),
    sa.Column('last_seen', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sources_path'), ['path'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('transport', sa.String(length=8), nullable=False),
    sa.Column('peer', sa.String(length=255), nullable=True),
    sa.Column('interface_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('pair_key', sa.String(length=820), nullable=True),
    sa.Column('is_ack', sa.Boolean(), nullable=False),
    sa.Column('sending_app', sa.String(length=200), nullable=True),
    sa.Column('sending_facility', sa.String(length=200), nullable=True),
    sa.Column('receiving_app', sa.String(length=200), nullable=True),
    sa.Column('receiving_facility', sa.String(length=200), nullable=True),
    sa.Column('message_time', sa.DateTime(), nullable=True),
    sa.Column('security', sa.String(length=200), nullable=True),
    sa.Column('message_type', sa.String(length=40), nullable=True),
    sa.Column('control_id', sa.String(length=200), nullable=True),
    sa.Column('processing_id', sa.String(length=10), nullable=True),
    sa.Column('version', sa.String(length=20), nullable=True),
    sa.Column('accept_ack_type', sa.String(length=10), nullable=True),
    sa.Column('app_ack_type', sa.String(length=10), nullable=True),
    sa.Column('charset', sa.String(length=40), nullable=True),
    sa.Column('patient_id', sa.String(length=200), nullable=True),
    sa.Column('patient_name', sa.String(length=400), nullable=True),
    sa.Column('placer_order', sa.String(length=200), nullable=True),
    sa.Column('filler_order', sa.String(length=200), nullable=True),
    sa.Column('ack_code', sa.String(length=10), nullable=True),
    sa.Column('ack_control_id', sa.String(length=200), nullable=True),
    sa.Column('ack_text', sa.Text(), nullable=True),
    sa.Column('errors', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('segment_count', sa.Integer(), nullable=False),
    sa.Column('parse_state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('duplicate_of', sa.BigInteger(), nullable=True),
    sa.Column('ack_state', sa.String(length=24), nullable=False),
    sa.Column('ack_result', sa.String(length=10), nullable=True),
    sa.Column('ack_id', sa.BigInteger(), nullable=True),
    sa.Column('answers_id', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['interface_id'], ['interfaces.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_ack_control_id', ['ack_control_id'], unique=False)
        batch_op.create_index('ix_messages_control_id', ['control_id'], unique=False)
        batch_op.create_index('ix_messages_filler', ['filler_order'], unique=False)
        batch_op.create_index('ix_messages_interface', ['interface_id', 'message_time'], unique=False)
        batch_op.create_index('ix_messages_patient_id', ['patient_id'], unique=False)
        batch_op.create_index('ix_messages_placer', ['placer_order'], unique=False)
        batch_op.create_index('ix_messages_source_offset', ['source_id', 'offset'], unique=True)
        batch_op.create_index('ix_messages_states', ['ack_state', 'parse_state'], unique=False)
        batch_op.create_index('ix_messages_time', ['message_time'], unique=False)
        batch_op.create_index('ix_messages_type', ['message_type'], unique=False)

    op.create_table('queue_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('signature', sa.String(length=400), nullable=False),
    sa.Column('triage_state', sa.String(length=16), nullable=False),
    sa.Column('owner', sa.String(length=200), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_items_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_items_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_items_signature'), ['signature'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_items_triage_state'), ['triage_state'], unique=False)
    _create_full_text()


def _create_full_text() -> None:
    """Free-text search uses the engine's own index over the decoded message text."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_text USING fts5("
            "body, content='', tokenize='unicode61 remove_diacritics 2')"
        )
    else:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_table(
            "message_text",
            sa.Column("message_id", sa.BigInteger(), primary_key=True),
            sa.Column("body", sa.Text(), nullable=False),
        )
        op.execute("CREATE INDEX ix_message_text_trgm ON message_text USING gin (body gin_trgm_ops)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS message_text")
    with op.batch_alter_table('queue_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_queue_items_triage_state'))
        batch_op.drop_index(batch_op.f('ix_queue_items_signature'))
        batch_op.drop_index(batch_op.f('ix_queue_items_message_id'))
        batch_op.drop_index(batch_op.f('ix_queue_items_created_at'))

    op.drop_table('queue_items')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_type')
        batch_op.drop_index('ix_messages_time')
        batch_op.drop_index('ix_messages_states')
        batch_op.drop_index('ix_messages_source_offset')
        batch_op.drop_index('ix_messages_placer')
        batch_op.drop_index('ix_messages_patient_id')
        batch_op.drop_index('ix_messages_interface')
        batch_op.drop_index('ix_messages_filler')
        batch_op.drop_index('ix_messages_control_id')
        batch_op.drop_index('ix_messages_ack_control_id')

    op.drop_table('messages')
    with op.batch_alter_table('sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sources_path'))

    op.drop_table('sources')
    op.drop_table('pairs')
    op.drop_table('interfaces')
