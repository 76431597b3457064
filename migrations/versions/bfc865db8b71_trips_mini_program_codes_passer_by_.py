"""trips, mini-program codes, passer-by readings

Residents' declared trips (the gate flags a returnee during the attention period), the cache of
WeChat mini-program codes shared by every host, and temperature readings of an unidentified
passer-by (no user, no visitor: the subject check now allows them) with the guard's note and the
link from a re-measure to the first reading.

Revision ID: bfc865db8b71
Revises: 62e47c3ace9a
Create Date: 2026-12-02 01:01:30.580719

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = 'bfc865db8b71'
down_revision = '62e47c3ace9a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('miniprogram_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('app_id', sa.String(length=64), nullable=False),
    sa.Column('scene', sa.String(length=32), nullable=False),
    sa.Column('page', sa.String(length=128), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('image', sa.LargeBinary(), nullable=False),
    sa.Column('mimetype', sa.String(length=32), nullable=False),
    sa.Column('fetched_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_miniprogram_codes')),
    sa.UniqueConstraint('app_id', 'scene', 'page', 'width', name=op.f('uq_miniprogram_codes_app_id_scene_page_width'))
    )
    with op.batch_alter_table('miniprogram_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_miniprogram_codes_scene'), ['scene'], unique=False)

    op.create_table('trips',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('from_city', sa.String(length=50), nullable=False),
    sa.Column('returned_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('attention_until', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('quarantine_order_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('self', 'staff')", name=op.f('ck_trips_source')),
    sa.CheckConstraint('attention_until > returned_at', name=op.f('ck_trips_period')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_trips_compound_id_compounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_trips_household_id_households'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quarantine_order_id'], ['quarantine_orders.id'], name=op.f('fk_trips_quarantine_order_id_quarantine_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_trips_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_trips_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trips')),
    sa.UniqueConstraint('user_id', 'returned_at', 'from_city', name=op.f('uq_trips_user_id_returned_at_from_city'))
    )
    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trips_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index('ix_trips_user_attention', ['user_id', 'attention_until'], unique=False)

    with op.batch_alter_table('temperature_readings', schema=None) as batch_op:
        # Existing rows are readings of identified people.
        batch_op.add_column(sa.Column('passer_by', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('remeasure_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_temperature_readings_remeasure_of_id_temperature_readings'), 'temperature_readings', ['remeasure_of_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_temperature_readings_subject'), type_='check')
        batch_op.create_check_constraint(
            'subject', 'subject_user_id IS NOT NULL OR visitor_id IS NOT NULL OR passer_by')
    with op.batch_alter_table('temperature_readings', schema=None) as batch_op:
        # The defaults served only the rows already there; the application always says.
        batch_op.alter_column('passer_by', server_default=None)
        batch_op.alter_column('note', server_default=None)



def downgrade():
    # Readings of unidentified passers-by cannot stay under the narrower subject check.
    op.execute("DELETE FROM temperature_readings WHERE subject_user_id IS NULL AND visitor_id IS NULL")
    with op.batch_alter_table('temperature_readings', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_temperature_readings_subject'), type_='check')
        batch_op.create_check_constraint('subject', 'subject_user_id IS NOT NULL OR visitor_id IS NOT NULL')
        batch_op.drop_constraint(batch_op.f('fk_temperature_readings_remeasure_of_id_temperature_readings'), type_='foreignkey')
        batch_op.drop_column('remeasure_of_id')
        batch_op.drop_column('note')
        batch_op.drop_column('passer_by')

    with op.batch_alter_table('trips', schema=None) as batch_op:
        batch_op.drop_index('ix_trips_user_attention')
        batch_op.drop_index(batch_op.f('ix_trips_compound_id'))

    op.drop_table('trips')
    with op.batch_alter_table('miniprogram_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_miniprogram_codes_scene'))

    op.drop_table('miniprogram_codes')
