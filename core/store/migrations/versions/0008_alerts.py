"""Alert rules and the alerts they raise.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('alert_rules',
        sa.Column('id', ID, nullable=False),
        sa.Column('interface_id', sa.BigInteger(), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('threshold', sa.Float(), nullable=False),
        sa.Column('window_min', sa.Integer(), nullable=False),
        sa.Column('hours', sa.String(length=11), nullable=True),
        sa.Column('weekdays', sa.String(length=7), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table('alerts',
        sa.Column('id', ID, nullable=False),
        sa.Column('rule_id', sa.BigInteger(), nullable=False),
        sa.Column('interface_id', sa.BigInteger(), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('value', sa.Float(), nullable=True),
        sa.Column('raised_at', sa.DateTime(), nullable=False),
        sa.Column('cleared_at', sa.DateTime(), nullable=True),
        sa.Column('acknowledged_by', sa.String(length=300), nullable=True),
        sa.Column('acknowledged_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    for column in ('rule_id', 'state', 'raised_at'):
        op.create_index(f'ix_alerts_{column}', 'alerts', [column])


def downgrade() -> None:
    op.drop_table('alerts')
    op.drop_table('alert_rules')
