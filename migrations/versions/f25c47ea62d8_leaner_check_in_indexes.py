"""leaner check-in indexes

Every check-in writes one page per index, and the guard scan is the hottest write: the pass id index
no query uses is dropped (reuse is settled by ux_checkins_first_pass_sighting), and the visitor index
keeps only visitors' rows.

Revision ID: f25c47ea62d8
Revises: a4bd1cfb4199
Create Date: 2026-12-01 20:58:41.114541

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f25c47ea62d8'
down_revision = 'a4bd1cfb4199'
branch_labels = None
depends_on = None

_VISITORS_ONLY = sa.text("visitor_id IS NOT NULL")


def upgrade():
    op.drop_index('ix_checkins_pass_nonce', table_name='checkins')
    op.drop_index('ix_checkins_visitor_time', table_name='checkins')
    op.create_index('ix_checkins_visitor_time', 'checkins', ['visitor_id', 'occurred_at'],
                    sqlite_where=_VISITORS_ONLY, postgresql_where=_VISITORS_ONLY)


def downgrade():
    op.drop_index('ix_checkins_visitor_time', table_name='checkins')
    op.create_index('ix_checkins_visitor_time', 'checkins', ['visitor_id', 'occurred_at'])
    op.create_index('ix_checkins_pass_nonce', 'checkins', ['pass_nonce'])
