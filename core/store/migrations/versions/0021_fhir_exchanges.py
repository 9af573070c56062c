"""The FHIR lane (issue 20): one row per exchange (a request and its response, from a HAR
file or the recording tap) beside its row in `messages`, and per endpoint its write switch
and the writes the practice has contracted for.

Revision ID: 0021
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('fhir_endpoints') as batch:
        batch.add_column(sa.Column('write_enabled', sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column('contracted_writes', sa.JSON, nullable=True))
    op.create_table(
        'fhir_exchanges',
        sa.Column('message_id', sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column('endpoint_id', sa.BigInteger, nullable=False),
        sa.Column('app', sa.String(300)),
        sa.Column('method', sa.String(10), nullable=False),
        sa.Column('url', sa.Text, nullable=False),
        sa.Column('interaction', sa.String(24), nullable=False),
        sa.Column('operation', sa.String(100)),
        sa.Column('resource_type', sa.String(100)),
        sa.Column('resource_id', sa.String(200)),
        sa.Column('conditional', sa.Boolean, nullable=False),
        sa.Column('status', sa.Integer, nullable=False),
        sa.Column('ok', sa.Boolean, nullable=False),
        sa.Column('duration_ms', sa.Float),
        sa.Column('is_write', sa.Boolean, nullable=False),
        sa.Column('write_class', sa.String(16)),
        sa.Column('scopes', sa.Text),
        sa.Column('scope_allows', sa.Boolean),
        sa.Column('capability_allows', sa.Boolean),
        sa.Column('contracted', sa.Boolean),
        sa.Column('write_enabled', sa.Boolean),
        sa.Column('flags', sa.JSON, nullable=False),
        sa.Column('outcome', sa.Text),
        sa.Column('issues', sa.JSON, nullable=False),
        sa.Column('retry_after', sa.String(100)),
        sa.Column('identifier', sa.String(500)),
        sa.Column('location', sa.Text),
        sa.Column('etag', sa.String(200)),
        sa.Column('if_match', sa.String(200)),
        sa.Column('request_at', sa.Integer, nullable=False),
        sa.Column('request_size', sa.Integer, nullable=False),
        sa.Column('response_at', sa.Integer, nullable=False),
        sa.Column('response_size', sa.Integer, nullable=False),
    )
    op.create_index('ix_fhir_exchanges_endpoint', 'fhir_exchanges', ['endpoint_id', 'message_id'])
    op.create_index('ix_fhir_exchanges_writes', 'fhir_exchanges', ['is_write', 'ok'])


def downgrade() -> None:
    op.drop_index('ix_fhir_exchanges_writes', 'fhir_exchanges')
    op.drop_index('ix_fhir_exchanges_endpoint', 'fhir_exchanges')
    op.drop_table('fhir_exchanges')
    with op.batch_alter_table('fhir_endpoints') as batch:
        batch.drop_column('contracted_writes')
        batch.drop_column('write_enabled')
