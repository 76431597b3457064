"""incidents and company records

Emergency mutual aid (应急互助): incidents with their need lines, companies' pledges of equipment and
people, each person's booking (no two overlapping live bookings of one person: an EXCLUDE constraint
on PostgreSQL, which autogenerate cannot see); and the admin's entries on each company's record.

Revision ID: 8274a72bf4aa
Revises: 5fd6c9646e01
Create Date: 2026-12-02 00:56:50.729135

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = '8274a72bf4aa'
down_revision = '5fd6c9646e01'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('target_minutes', sa.Integer(), nullable=False),
    sa.Column('raised_by_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_arrival_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('needs_met_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=2000), nullable=False),
    sa.CheckConstraint("kind IN ('flood', 'outbreak', 'fire', 'power_cut', 'water_cut', 'other')", name=op.f('ck_incidents_kind')),
    sa.CheckConstraint("status != 'closed' OR closed_at IS NOT NULL", name=op.f('ck_incidents_closed_has_time')),
    sa.CheckConstraint("status IN ('open', 'closed')", name=op.f('ck_incidents_status')),
    sa.CheckConstraint('target_minutes BETWEEN 1 AND 1440', name=op.f('ck_incidents_target_minutes')),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_incidents_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_incidents_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_incidents_compound_id_compounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['raised_by_id'], ['users.id'], name=op.f('fk_incidents_raised_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index('ix_incidents_alliance_raised', ['alliance_id', 'raised_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incidents_compound_id'), ['compound_id'], unique=False)

    op.create_table('company_record_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('remark', sa.String(length=500), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('commendation', 'criticism', 'note')", name=op.f('ck_company_record_entries_kind')),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_company_record_entries_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_company_record_entries_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_company_record_entries_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_company_record_entries_incident_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_company_record_entries'))
    )
    with op.batch_alter_table('company_record_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_company_record_entries_alliance_id'), ['alliance_id'], unique=False)
        batch_op.create_index('ix_company_record_entries_company_created', ['company_id', 'created_at'], unique=False)

    op.create_table('incident_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.CheckConstraint('quantity BETWEEN 1 AND 100000', name=op.f('ck_incident_needs_quantity')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_needs_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_needs')),
    sa.UniqueConstraint('incident_id', 'item', name=op.f('uq_incident_needs_incident_id_item'))
    )
    with op.batch_alter_table('incident_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_needs_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('pledged_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('pledged_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duty_ends_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('departed_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('arrived_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status != 'arrived' OR arrived_at IS NOT NULL", name=op.f('ck_incident_pledges_arrived_has_time')),
    sa.CheckConstraint("status != 'cancelled' OR cancelled_at IS NOT NULL", name=op.f('ck_incident_pledges_cancelled_has_time')),
    sa.CheckConstraint("status IN ('pledged', 'departed', 'arrived', 'cancelled')", name=op.f('ck_incident_pledges_status')),
    sa.CheckConstraint("status NOT IN ('departed', 'arrived') OR departed_at IS NOT NULL", name=op.f('ck_incident_pledges_departed_has_time')),
    sa.CheckConstraint('duty_ends_at > pledged_at', name=op.f('ck_incident_pledges_duty_ends_after_pledge')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_incident_pledges_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_pledges_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pledged_by_id'], ['users.id'], name=op.f('fk_incident_pledges_pledged_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_pledges'))
    )
    with op.batch_alter_table('incident_pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_pledges_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_pledges_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_pledge_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('item', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.CheckConstraint('quantity BETWEEN 1 AND 100000', name=op.f('ck_incident_pledge_items_quantity')),
    sa.ForeignKeyConstraint(['pledge_id'], ['incident_pledges.id'], name=op.f('fk_incident_pledge_items_pledge_id_incident_pledges'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_pledge_items')),
    sa.UniqueConstraint('pledge_id', 'item', name=op.f('uq_incident_pledge_items_pledge_id_item'))
    )
    with op.batch_alter_table('incident_pledge_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_pledge_items_pledge_id'), ['pledge_id'], unique=False)

    op.create_table('incident_responders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_incident_responders_ends_after_start')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_incident_responders_company_id_companies'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_responders_incident_id_incidents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pledge_id'], ['incident_pledges.id'], name=op.f('fk_incident_responders_pledge_id_incident_pledges'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_incident_responders_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_responders')),
    sa.UniqueConstraint('pledge_id', 'user_id', name=op.f('uq_incident_responders_pledge_id_user_id'))
    )
    with op.batch_alter_table('incident_responders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_responders_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index('ix_incident_responders_user_starts', ['user_id', 'starts_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("ALTER TABLE incident_responders ADD CONSTRAINT ex_incident_responders_user_overlap "
                   "EXCLUDE USING gist (user_id WITH =, tstzrange(starts_at, ends_at) WITH &&) WHERE (active)")


def downgrade():
    with op.batch_alter_table('incident_responders', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_responders_user_starts')
        batch_op.drop_index(batch_op.f('ix_incident_responders_pledge_id'))

    op.drop_table('incident_responders')
    with op.batch_alter_table('incident_pledge_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_pledge_items_pledge_id'))

    op.drop_table('incident_pledge_items')
    with op.batch_alter_table('incident_pledges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_pledges_incident_id'))
        batch_op.drop_index(batch_op.f('ix_incident_pledges_company_id'))

    op.drop_table('incident_pledges')
    with op.batch_alter_table('incident_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_needs_incident_id'))

    op.drop_table('incident_needs')
    with op.batch_alter_table('company_record_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_company_record_entries_company_created')
        batch_op.drop_index(batch_op.f('ix_company_record_entries_alliance_id'))

    op.drop_table('company_record_entries')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incidents_compound_id'))
        batch_op.drop_index('ix_incidents_alliance_raised')

    op.drop_table('incidents')
