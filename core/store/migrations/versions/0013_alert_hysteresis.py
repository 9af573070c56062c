"""Alerts that neither repeat nor flap: at most one open (or acknowledged) alert per rule and
interface, enforced by the store so two evaluators cannot both raise it; and the moment its
condition was last seen false, so it clears only once the condition has stayed false a while.

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

ACTIVE = "state IN ('open', 'acknowledged')"


def upgrade() -> None:
    with op.batch_alter_table('alerts') as batch:
        batch.add_column(sa.Column('ok_since', sa.DateTime(), nullable=True))
    # alerts raised twice before this revision: the newer of each pair is closed, not lost
    op.execute("UPDATE alerts SET state = 'cleared', cleared_at = raised_at WHERE " + ACTIVE + " AND id NOT IN "
               "(SELECT min(id) FROM alerts WHERE " + ACTIVE + " GROUP BY rule_id, interface_id)")
    op.create_index('ix_alerts_one_active', 'alerts', ['rule_id', 'interface_id'], unique=True,
                    sqlite_where=sa.text(ACTIVE), postgresql_where=sa.text(ACTIVE))


def downgrade() -> None:
    op.drop_index('ix_alerts_one_active', 'alerts')
    with op.batch_alter_table('alerts') as batch:
        batch.drop_column('ok_since')
