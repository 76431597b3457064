"""supplies ledger

The alliance's supplies (防疫物资): a catalogue of items per alliance, stock per holder (a company's
warehouse or a compound) that the database keeps at zero or above, transfers between holders, and a
ledger entry for every change. The standard items are seeded by the application on first use, per
alliance, so there is no data to migrate.

Revision ID: a7adbc3e9c9a
Revises: f25c47ea62d8
Create Date: 2026-12-02 01:07:59.639256

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = 'a7adbc3e9c9a'
down_revision = 'f25c47ea62d8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supply_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_supply_items_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_supply_items_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_items')),
    sa.UniqueConstraint('alliance_id', 'code', name=op.f('uq_supply_items_alliance_id_code')),
    sa.UniqueConstraint('alliance_id', 'name', name=op.f('uq_supply_items_alliance_id_name'))
    )
    with op.batch_alter_table('supply_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_items_alliance_id'), ['alliance_id'], unique=False)

    op.create_table('supply_stocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('low_threshold', sa.Integer(), nullable=True),
    sa.Column('low_crossings', sa.Integer(), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(company_id IS NULL) != (compound_id IS NULL)', name=op.f('ck_supply_stocks_one_holder')),
    sa.CheckConstraint('low_threshold IS NULL OR low_threshold >= 0', name=op.f('ck_supply_stocks_threshold_not_negative')),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_supply_stocks_quantity_not_negative')),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_supply_stocks_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_supply_stocks_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_supply_stocks_compound_id_compounds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_supply_stocks_item_id_supply_items'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_stocks')),
    sa.UniqueConstraint('item_id', 'company_id', name=op.f('uq_supply_stocks_item_id_company_id')),
    sa.UniqueConstraint('item_id', 'compound_id', name=op.f('uq_supply_stocks_item_id_compound_id'))
    )
    with op.batch_alter_table('supply_stocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_stocks_alliance_id'), ['alliance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_stocks_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_stocks_compound_id'), ['compound_id'], unique=False)

    op.create_table('supply_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('from_company_id', sa.Integer(), nullable=True),
    sa.Column('from_compound_id', sa.Integer(), nullable=True),
    sa.Column('to_company_id', sa.Integer(), nullable=True),
    sa.Column('to_compound_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('offered_by_id', sa.Integer(), nullable=True),
    sa.Column('offered_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('accepted_by_id', sa.Integer(), nullable=True),
    sa.Column('accepted_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_by_id', sa.Integer(), nullable=True),
    sa.Column('received_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('transfer', 'move')", name=op.f('ck_supply_transfers_kind')),
    sa.CheckConstraint("status IN ('offered', 'accepted', 'received', 'declined', 'cancelled')", name=op.f('ck_supply_transfers_status')),
    sa.CheckConstraint('(from_company_id IS NULL) != (from_compound_id IS NULL)', name=op.f('ck_supply_transfers_one_giver')),
    sa.CheckConstraint('(to_company_id IS NULL) != (to_compound_id IS NULL)', name=op.f('ck_supply_transfers_one_receiver')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_supply_transfers_quantity_positive')),
    sa.ForeignKeyConstraint(['accepted_by_id'], ['users.id'], name=op.f('fk_supply_transfers_accepted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_supply_transfers_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_supply_transfers_closed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_company_id'], ['companies.id'], name=op.f('fk_supply_transfers_from_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['from_compound_id'], ['compounds.id'], name=op.f('fk_supply_transfers_from_compound_id_compounds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_supply_transfers_item_id_supply_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['offered_by_id'], ['users.id'], name=op.f('fk_supply_transfers_offered_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['received_by_id'], ['users.id'], name=op.f('fk_supply_transfers_received_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_company_id'], ['companies.id'], name=op.f('fk_supply_transfers_to_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['to_compound_id'], ['compounds.id'], name=op.f('fk_supply_transfers_to_compound_id_compounds'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_transfers')),
    sa.UniqueConstraint('offered_by_id', 'client_id', name=op.f('uq_supply_transfers_offered_by_id_client_id'))
    )
    with op.batch_alter_table('supply_transfers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_transfers_alliance_id'), ['alliance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_from_company_id'), ['from_company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_from_compound_id'), ['from_compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_to_company_id'), ['to_company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_transfers_to_compound_id'), ['to_compound_id'], unique=False)

    op.create_table('supply_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alliance_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('company_id', sa.Integer(), nullable=True),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind != 'adjustment' OR reason != ''", name=op.f('ck_supply_entries_adjustment_reason')),
    sa.CheckConstraint("kind IN ('receipt', 'use', 'transfer_out', 'transfer_in', 'transfer_return', 'adjustment')", name=op.f('ck_supply_entries_kind')),
    sa.CheckConstraint("kind NOT IN ('receipt', 'transfer_in', 'transfer_return') OR quantity > 0", name=op.f('ck_supply_entries_inflow')),
    sa.CheckConstraint("kind NOT IN ('transfer_out', 'transfer_in', 'transfer_return') OR transfer_id IS NOT NULL", name=op.f('ck_supply_entries_transfer_reference')),
    sa.CheckConstraint("kind NOT IN ('use', 'transfer_out') OR quantity < 0", name=op.f('ck_supply_entries_outflow')),
    sa.CheckConstraint('(company_id IS NULL) != (compound_id IS NULL)', name=op.f('ck_supply_entries_one_holder')),
    sa.CheckConstraint('balance_after >= 0', name=op.f('ck_supply_entries_balance_not_negative')),
    sa.CheckConstraint('quantity != 0', name=op.f('ck_supply_entries_quantity_not_zero')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_supply_entries_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['alliance_id'], ['alliances.id'], name=op.f('fk_supply_entries_alliance_id_alliances'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], name=op.f('fk_supply_entries_company_id_companies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_supply_entries_compound_id_compounds'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['item_id'], ['supply_items.id'], name=op.f('fk_supply_entries_item_id_supply_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['transfer_id'], ['supply_transfers.id'], name=op.f('fk_supply_entries_transfer_id_supply_transfers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supply_entries')),
    sa.UniqueConstraint('actor_id', 'client_id', name=op.f('uq_supply_entries_actor_id_client_id'))
    )
    with op.batch_alter_table('supply_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supply_entries_alliance_id'), ['alliance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_entries_company_id'), ['company_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_entries_compound_id'), ['compound_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_entries_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supply_entries_transfer_id'), ['transfer_id'], unique=False)



def downgrade():
    for table in ('supply_entries', 'supply_transfers', 'supply_stocks', 'supply_items'):
        op.drop_table(table)
