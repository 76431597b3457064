"""WeChat binding of password accounts, one-time subscriptions, the in-app inbox, server secrets

Every notification becomes an inbox message (read_at); those queued before this revision are
marked read, so an upgraded inbox does not open on a backlog. `inbox_only` is a new outcome.

Revision ID: 62e47c3ace9a
Revises: 8274a72bf4aa
Create Date: 2026-12-02 00:57:04.723407

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = '62e47c3ace9a'
down_revision = '8274a72bf4aa'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('server_secrets',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_server_secrets'))
    )
    op.create_table('wechat_bind_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_bind_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_bind_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_wechat_bind_codes_code_hash'))
    )
    with op.batch_alter_table('wechat_bind_codes', schema=None) as batch_op:
        batch_op.create_index('ix_wechat_bind_codes_user_id_created_at', ['user_id', 'created_at'], unique=False)

    op.create_table('wechat_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('updated_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_wechat_subscriptions_remaining')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_wechat_subscriptions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wechat_subscriptions')),
    sa.UniqueConstraint('user_id', 'template_id', name=op.f('uq_wechat_subscriptions_user_id_template_id'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('priority', sa.SmallInteger(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('reserve', sa.SmallInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('read_at', server.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_notifications_user_id_read_at', ['user_id', 'read_at'], unique=False)
        batch_op.drop_constraint(op.f('ck_notifications_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_status'),
            "status IN ('pending', 'sending', 'sent', 'failed', 'unsubscribed', 'inbox_only')")
        batch_op.create_check_constraint(op.f('ck_notifications_reserve'), 'reserve >= 0')
    op.execute("UPDATE notifications SET read_at = created_at")


def downgrade():
    op.execute("UPDATE notifications SET status = 'failed', last_error = 'inbox only' WHERE status = 'inbox_only'")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_reserve'), type_='check')
        batch_op.drop_constraint(op.f('ck_notifications_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_notifications_status'), "status IN ('pending', 'sending', 'sent', 'failed', 'unsubscribed')")
        batch_op.drop_index('ix_notifications_user_id_read_at')
        batch_op.drop_column('read_at')
        batch_op.drop_column('reserve')
        batch_op.drop_column('priority')

    op.drop_table('wechat_subscriptions')
    with op.batch_alter_table('wechat_bind_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_wechat_bind_codes_user_id_created_at')

    op.drop_table('wechat_bind_codes')
    op.drop_table('server_secrets')
