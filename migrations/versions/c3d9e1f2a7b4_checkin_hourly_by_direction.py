"""checkin_hourly by direction: of the allowed and denied check-ins of a gate's hour, how many went out

NULL for the hours counted before (the gate board reads those hours' raw rows); `flask wuye rollup`
recounts them.

Revision ID: c3d9e1f2a7b4
Revises: 0446729ef6ab
Create Date: 2026-12-02 03:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d9e1f2a7b4'
down_revision = '0446729ef6ab'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('checkin_hourly', sa.Column('allowed_out', sa.Integer(), nullable=True))
    op.add_column('checkin_hourly', sa.Column('denied_out', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('checkin_hourly') as batch_op:
        batch_op.drop_column('denied_out')
        batch_op.drop_column('allowed_out')
