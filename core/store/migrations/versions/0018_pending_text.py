"""Staged ingest (issue 21): a bulk load stores each message's text here, not in the
full-text index; the indexer moves it across in batches. A message's text is in one of
the two tables, never both and never neither, so a search that asks both is complete.

Revision ID: 0018
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'message_text_pending',
        sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column('body', sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table('message_text_pending')
