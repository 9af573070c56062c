"""The document lane (issue 18): Direct messages, MDNs and DSNs as stored in `messages`, with
their headers' facts, and one delivery row per recipient with its disposition; the
dispatched MDN's window on an interface; the CDA documents found in messages and files; IMAP
mailboxes read as sources.

Revision ID: 0016
Revises: 0015
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        'direct_mail',
        sa.Column('message_id', sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column('kind', sa.String(8), nullable=False),
        sa.Column('header_id', sa.String(500)),
        sa.Column('original_id', sa.String(500)),
        sa.Column('sender', sa.String(320)),
        sa.Column('recipients', sa.JSON, nullable=False),
        sa.Column('subject', sa.Text),
        sa.Column('sent_at', sa.DateTime),
        sa.Column('signed', sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column('encrypted', sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column('asks_dispatched', sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column('attachments', sa.JSON, nullable=False),
        sa.Column('notices', sa.JSON, nullable=False),
        sa.Column('reporter', sa.String(500)),
        sa.Column('problems', sa.JSON, nullable=False),
        sa.Column('paired_with', sa.BigInteger),
    )
    op.create_index('ix_direct_mail_header', 'direct_mail', ['header_id'])
    op.create_index('ix_direct_mail_original', 'direct_mail', ['original_id'])
    op.create_table(
        'direct_deliveries',
        sa.Column('id', ID, primary_key=True),
        sa.Column('message_id', sa.BigInteger, nullable=False),
        sa.Column('recipient', sa.String(320), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('asks_dispatched', sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column('sent_at', sa.DateTime, nullable=False),
        sa.Column('processed_at', sa.DateTime),
        sa.Column('dispatched_at', sa.DateTime),
        sa.Column('failed_at', sa.DateTime),
        sa.Column('notice_id', sa.BigInteger),
        sa.Column('words', sa.Text),
        sa.Column('updated_at', sa.DateTime, nullable=False),
    )
    op.create_index('ix_direct_deliveries_key', 'direct_deliveries', ['message_id', 'recipient'], unique=True)
    op.create_index('ix_direct_deliveries_open', 'direct_deliveries', ['state', 'sent_at'])
    op.create_table(
        'documents',
        sa.Column('id', ID, primary_key=True),
        sa.Column('message_id', sa.BigInteger, nullable=False),
        sa.Column('part', sa.String(500)),
        sa.Column('type_name', sa.String(100), nullable=False),
        sa.Column('type_template', sa.String(100)),
        sa.Column('title', sa.Text),
        sa.Column('document_id', sa.String(300)),
        sa.Column('effective_time', sa.DateTime),
        sa.Column('patient_name', sa.String(400)),
        sa.Column('patient_id', sa.String(300)),
        sa.Column('author', sa.String(400)),
        sa.Column('custodian', sa.String(400)),
        *(sa.Column(c, sa.JSON, nullable=False) for c in ('sections', 'missing', 'problems')),
        sa.Column('xsd_state', sa.String(16), nullable=False),
        sa.Column('xsd_findings', sa.JSON, nullable=False),
        sa.Column('schematron_state', sa.String(16)),
        sa.Column('schematron_findings', sa.JSON),
        sa.Column('schematron_at', sa.DateTime),
        sa.Column('size', sa.Integer, nullable=False),
        sa.Column('raw', sa.LargeBinary, nullable=False),
    )
    op.create_index('ix_documents_message', 'documents', ['message_id'])
    op.create_index('ix_documents_type', 'documents', ['type_name'])
    op.create_table(
        'mailboxes',
        sa.Column('id', ID, primary_key=True),
        sa.Column('name', sa.String(200), nullable=False, unique=True),
        sa.Column('host', sa.String(255), nullable=False),
        sa.Column('port', sa.Integer, nullable=False),
        sa.Column('security', sa.String(10), nullable=False),
        sa.Column('username', sa.String(320), nullable=False),
        sa.Column('folder', sa.String(200), nullable=False, server_default='INBOX'),
        sa.Column('ca_file', sa.Text),
        sa.Column('checked_at', sa.DateTime),
        sa.Column('problem', sa.Text),
        sa.Column('created_at', sa.DateTime, nullable=False),
    )
    with op.batch_alter_table('interfaces') as t:
        t.add_column(sa.Column('dispatch_timeout_s', sa.Integer))


def downgrade() -> None:
    with op.batch_alter_table('interfaces') as t:
        t.drop_column('dispatch_timeout_s')
    for table in ('mailboxes', 'documents', 'direct_deliveries', 'direct_mail'):
        op.drop_table(table)
