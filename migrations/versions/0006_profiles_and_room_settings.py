"""profiles and room settings: user display name, status and avatar; room topic and archived

users gains display_name, display_key (its look-alike key, for the
directory's search), status and avatar_version; a new table avatars holds
the pictures; rooms gains topic and archived.

Existing accounts keep NULL display names (shown as the username), an empty
status and no avatar; existing rooms get an empty topic and are not
archived. The CHECK constraints hold the lengths of PROTOCOL section 9
(display name 1-64 characters, status 0-80, topic 0-250) whatever code path
writes; the services refuse longer text first with a message naming the
field. length() counts characters on both SQLite and PostgreSQL.

Avatars live in their own table so that loading a User (every message
author, every member list) never reads the picture's bytes.

Revision ID: 6b2f1d8c3e51
Revises: 5a1e0c7b2d40
Create Date: 2026-12-02 09:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '6b2f1d8c3e51'
down_revision = '5a1e0c7b2d40'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("display_name", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("display_key", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=80), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("avatar_version", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            "ck_users_display_name", "display_name IS NULL OR length(display_name) BETWEEN 1 AND 64")
        batch.create_check_constraint("ck_users_status", "length(status) <= 80")
        batch.create_check_constraint("ck_users_avatar_version",
                                      "avatar_version IS NULL OR avatar_version >= 1")
    with op.batch_alter_table("rooms") as batch:
        batch.add_column(sa.Column("topic", sa.String(length=250), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("archived", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.create_check_constraint("ck_rooms_topic", "length(topic) <= 250")
    op.create_table(
        "avatars",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("content_type IN ('image/webp')", name="ck_avatars_content_type"),
        sa.CheckConstraint("version >= 1", name="ck_avatars_version"),
    )


def downgrade():
    op.drop_table("avatars")
    with op.batch_alter_table("rooms") as batch:
        batch.drop_constraint("ck_rooms_topic", type_="check")
        batch.drop_column("archived")
        batch.drop_column("topic")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("ck_users_avatar_version", type_="check")
        batch.drop_constraint("ck_users_status", type_="check")
        batch.drop_constraint("ck_users_display_name", type_="check")
        batch.drop_column("avatar_version")
        batch.drop_column("status")
        batch.drop_column("display_key")
        batch.drop_column("display_name")
