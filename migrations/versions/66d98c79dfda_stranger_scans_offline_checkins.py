"""stranger scan counts, offline check-ins

Self scans by people with no tie to a compound are counted per gate and hour instead of stored;
check-ins are marked offline (the rows uploaded offline before this revision are those whose time
is not the server's).

Revision ID: 66d98c79dfda
Revises: 171cf65a3605
Create Date: 2026-12-02 01:44:56.900588

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = '66d98c79dfda'
down_revision = '171cf65a3605'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stranger_scan_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('gate_id', sa.Integer(), nullable=False),
    sa.Column('hour_start', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scans', sa.Integer(), nullable=False),
    sa.Column('last_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('scans >= 1', name=op.f('ck_stranger_scan_counts_scans')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_stranger_scan_counts_compound_id_compounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['gate_id'], ['gates.id'], name=op.f('fk_stranger_scan_counts_gate_id_gates'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stranger_scan_counts')),
    sa.UniqueConstraint('gate_id', 'hour_start', name=op.f('uq_stranger_scan_counts_gate_id_hour_start'))
    )
    with op.batch_alter_table('stranger_scan_counts', schema=None) as batch_op:
        batch_op.create_index('ix_stranger_scan_counts_compound_hour', ['compound_id', 'hour_start'], unique=False)

    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline', sa.Boolean(), server_default=sa.false(), nullable=False))
    # An online check-in occurs at its server time; an offline one at its device time (checkin_flows).
    op.execute(sa.text("UPDATE checkins SET offline = true WHERE occurred_at <> server_time"))


def downgrade():
    with op.batch_alter_table('checkins', schema=None) as batch_op:
        batch_op.drop_column('offline')

    with op.batch_alter_table('stranger_scan_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_stranger_scan_counts_compound_hour')

    op.drop_table('stranger_scan_counts')
