"""drop the unused login lock-out columns of users

Sign-in failures are counted in the shared rate-limit storage (services.people.sign_in: per name and
address, and per name), never in users.failed_logins or users.locked_until, which no code read or
wrote. Left in place they suggest a lock-out that does not exist, and every authenticated request's
read of the caller carried them.

Plain ALTER TABLE ... DROP COLUMN on both databases (SQLite has it since 3.35): a batch rebuild of
users on SQLite would drop and re-create the table every other table points at.

Revision ID: 8e04f1234519
Revises: c3d9e1f2a7b4
Create Date: 2026-12-02 14:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import server.models.base


# revision identifiers, used by Alembic.
revision = '8e04f1234519'
down_revision = 'c3d9e1f2a7b4'
branch_labels = None
depends_on = None


def upgrade():
    op.execute(sa.text("ALTER TABLE users DROP COLUMN failed_logins"))
    op.execute(sa.text("ALTER TABLE users DROP COLUMN locked_until"))


def downgrade():
    op.add_column('users', sa.Column('locked_until', server.models.base.UTCDateTime(timezone=True), nullable=True))
    op.add_column('users', sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
