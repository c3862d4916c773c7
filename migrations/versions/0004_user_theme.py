"""users.theme: the page's colour scheme per account

'system' (the default, and every existing account's value) follows the
browser's prefers-color-scheme; 'light' and 'dark' override it. The CHECK
constraint keeps anything else out of the column whatever code path writes
(blueprints.auth.service.set_theme refuses it first, with a clear message).
SQLite cannot add a constraint to a table in place, hence batch mode (a copy
of the table); PostgreSQL gets a plain ALTER TABLE.

Revision ID: 7d2e4b1c9a30
Revises: 3c1f0e7a9b52
Create Date: 2026-12-02 07:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7d2e4b1c9a30'
down_revision = '3c1f0e7a9b52'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("theme", sa.String(length=8), nullable=False,
                                   server_default="system"))
        batch.create_check_constraint("ck_users_theme", "theme IN ('light', 'dark', 'system')")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_theme", type_="check")
        batch.drop_column("theme")
