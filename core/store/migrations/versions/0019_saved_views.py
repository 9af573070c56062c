"""Saved views (issue 19): a named filter (query, time range, interface, columns, sort),
kept in the store so a go-live team on PostgreSQL sees each other's, with owner and time.

Revision ID: 0019
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'saved_views',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column('name', sa.String(100), nullable=False, unique=True),
        sa.Column('owner', sa.String(300), nullable=False),
        sa.Column('definition', sa.JSON, nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table('saved_views')
