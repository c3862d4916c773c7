"""users.locale: the account's language for pages and error messages

NULL (every existing account's value, and the default) means "follow the
browser's Accept-Language"; 'en' and 'zh-CN' pin a language. The CHECK
constraint keeps any other value out whatever code path writes; the service
refuses it first with a message that names the field.

Revision ID: 5a1e0c7b2d40
Revises: 7d2e4b1c9a30
Create Date: 2026-12-02 09:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '5a1e0c7b2d40'
down_revision = '7d2e4b1c9a30'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("locale", sa.String(length=8), nullable=True))
        batch.create_check_constraint("ck_users_locale", "locale IS NULL OR locale IN ('en', 'zh-CN')")


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_locale", type_="check")
        batch.drop_column("locale")
