"""Indexes for the retention purge at a district's scale (found by tests/foundation/test_query_plans.py)

The purge takes each table's oldest rows first by its time column, and a deleted row's referencing
rows are looked up by their foreign key: without these, each batch (and each deleted reading or
quarantine order) read the whole table.

Revision ID: 0446729ef6ab
Revises: 66d98c79dfda
Create Date: 2026-12-02 02:02:43.994612

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0446729ef6ab'
down_revision = '66d98c79dfda'
branch_labels = None
depends_on = None

PLAIN = (
    ('ix_checkins_server_time', 'checkins', 'server_time'),
    ('ix_notifications_created_at', 'notifications', 'created_at'),
    ('ix_quarantine_orders_lifted_at', 'quarantine_orders', 'lifted_at'),
    ('ix_temperature_readings_measured_at', 'temperature_readings', 'measured_at'),
    ('ix_trips_attention_until', 'trips', 'attention_until'),
)
# Foreign keys that are mostly NULL: partial, so a NULL costs no index entry.
PARTIAL = (
    ('ix_temperature_readings_remeasure_of_id', 'temperature_readings', 'remeasure_of_id'),
    ('ix_trips_quarantine_order_id', 'trips', 'quarantine_order_id'),
)


def upgrade():
    for name, table, column in PLAIN:
        op.create_index(name, table, [column], unique=False)
    for name, table, column in PARTIAL:
        where = sa.text(f'{column} IS NOT NULL')
        op.create_index(name, table, [column], unique=False, sqlite_where=where, postgresql_where=where)


def downgrade():
    for name, table, _column in PARTIAL + PLAIN:
        op.drop_index(name, table_name=table)
