"""caretaking and alliance membership

Caretaking (托管) of compounds without a property company by a member company, at most one active
per compound (an EXCLUDE constraint on PostgreSQL, a locked service check on both databases); a
company's membership of the alliance (active, invited, suspended) with its times.

Revision ID: 5fd6c9646e01
Revises: a7adbc3e9c9a
Create Date: 2026-12-02 00:56:49.040166

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = '5fd6c9646e01'
down_revision = 'a7adbc3e9c9a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('caretakings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('handed_over_by_id', sa.Integer(), nullable=True),
    sa.Column('ended_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_note', sa.String(length=500), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_at IS NULL OR ends_at >= starts_at', name=op.f('ck_caretakings_ends_after_start')),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_caretakings_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_caretakings_compound_id_compounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['users.id'], name=op.f('fk_caretakings_ended_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handed_over_by_id'], ['users.id'], name=op.f('fk_caretakings_handed_over_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_caretakings'))
    )
    with op.batch_alter_table('caretakings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_caretakings_company_id'), ['company_id'], unique=False)
        batch_op.create_index('ix_caretakings_compound_starts', ['compound_id', 'starts_at'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # No two overlapping caretakings of one compound, enforced by PostgreSQL itself (autogenerate cannot see it).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute("ALTER TABLE caretakings ADD CONSTRAINT ex_caretakings_compound_overlap "
                   "EXCLUDE USING gist (compound_id WITH =, tstzrange(starts_at, ends_at) WITH &&)")

    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('membership', sa.String(length=16), server_default='active', nullable=False))
        batch_op.add_column(sa.Column('invited_at', server.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('joined_at', server.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_at', server.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('suspended_reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.create_check_constraint(op.f('ck_companies_membership'),
                                         "membership IN ('active', 'invited', 'suspended')")



def downgrade():
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_companies_membership'), type_='check')
        batch_op.drop_column('suspended_reason')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('joined_at')
        batch_op.drop_column('invited_at')
        batch_op.drop_column('membership')

    with op.batch_alter_table('caretakings', schema=None) as batch_op:
        batch_op.drop_index('ix_caretakings_compound_starts')
        batch_op.drop_index(batch_op.f('ix_caretakings_company_id'))

    op.drop_table('caretakings')
