"""FHIR endpoints (configuration and what discovery found) and their health probes.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('fhir_endpoints',
        sa.Column('id', ID, nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('base_url', sa.Text(), nullable=False),
        sa.Column('auth', sa.String(length=32), nullable=False),
        sa.Column('client_id', sa.String(length=300), nullable=True),
        sa.Column('token_url', sa.Text(), nullable=True),
        sa.Column('alg', sa.String(length=10), nullable=True),
        sa.Column('key_id', sa.String(length=200), nullable=True),
        sa.Column('audience', sa.String(length=16), nullable=False),
        sa.Column('scopes_requested', sa.Text(), nullable=True),
        sa.Column('scopes_needed', sa.Text(), nullable=True),
        sa.Column('scopes_granted', sa.Text(), nullable=True),
        sa.Column('probe_path', sa.Text(), nullable=True),
        sa.Column('capability', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('smart_config', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('fhir_version', sa.String(length=20), nullable=True),
        sa.Column('software', sa.String(length=300), nullable=True),
        sa.Column('cert_expires_at', sa.DateTime(), nullable=True),
        sa.Column('discovered_at', sa.DateTime(), nullable=True),
        sa.Column('discovery_problem', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table('fhir_probes',
        sa.Column('id', ID, nullable=False),
        sa.Column('endpoint_id', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('latency_ms', sa.Float(), nullable=True),
        sa.Column('steps', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_fhir_probes_endpoint_id', 'fhir_probes', ['endpoint_id'])
    op.create_index('ix_fhir_probes_at', 'fhir_probes', ['at'])


def downgrade() -> None:
    op.drop_table('fhir_probes')
    op.drop_table('fhir_endpoints')
