"""Field drift alerts (issue 19): a rule watches a field path; the values it has seen, with
when each was first seen, are kept per rule and interface, read a batch at a time.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alert_rules') as batch:
        batch.add_column(sa.Column('path', sa.String(100), nullable=True))
        batch.add_column(sa.Column('read_to', sa.BigInteger, nullable=True))
    op.create_table(
        'drift_values',
        sa.Column('rule_id', sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey('alert_rules.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('interface_id', sa.BigInteger, primary_key=True),
        sa.Column('value', sa.String(400), primary_key=True),
        sa.Column('first_seen', sa.DateTime, nullable=False),
    )
    op.create_index('ix_drift_values_first_seen', 'drift_values', ['rule_id', 'first_seen'])


def downgrade() -> None:
    op.drop_index('ix_drift_values_first_seen', 'drift_values')
    op.drop_table('drift_values')
    with op.batch_alter_table('alert_rules') as batch:
        batch.drop_column('read_to')
        batch.drop_column('path')
