"""Personal access tokens, invite links, users.last_seen_at

- ``api_tokens``: personal access tokens (the account page, ``/api/tokens``).
  Only a SHA-256 of the secret is stored (a token is 256 random bits, so a
  fast hash is enough: there is nothing to guess); ``expires_at`` NULL means
  no expiry; ``revoked_at`` set means refused from then on. The row stays for
  the audit trail.
- ``invites``: registration links for ``REGISTRATION=invite``. The CHECK
  constraints hold the invariants whatever code path writes: at least one use
  allowed, uses never below 0 nor above what is allowed. A registration
  consumes a use with one conditional UPDATE (blueprints/auth/invites.py).
- ``users.last_seen_at``: written when a user's first connection opens and
  their last one closes, never per message.

Revision ID: 7c3a2e9d4f62
Revises: 6b2f1d8c3e51
Create Date: 2026-12-02 09:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7c3a2e9d4f62'
down_revision = '6b2f1d8c3e51'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_hash"),
        sa.CheckConstraint("length(token_hash) = 64", name="ck_api_tokens_hash"),
        sa.CheckConstraint("expires_at IS NULL OR expires_at > created_at",
                           name="ck_api_tokens_expiry"),
    )
    op.create_index("ix_api_tokens_user", "api_tokens", ["user_id"])
    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(length=43), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("code", name="uq_invites_code"),
        sa.CheckConstraint("max_uses >= 1", name="ck_invites_max_uses"),
        sa.CheckConstraint("uses >= 0 AND uses <= max_uses", name="ck_invites_uses"),
        sa.CheckConstraint("length(code) >= 22", name="ck_invites_code"),
        sa.CheckConstraint("expires_at > created_at", name="ck_invites_expiry"),
    )
    op.create_index("ix_invites_created_by", "invites", ["created_by"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_seen_at")
    op.drop_index("ix_invites_created_by", table_name="invites")
    op.drop_table("invites")
    op.drop_index("ix_api_tokens_user", table_name="api_tokens")
    op.drop_table("api_tokens")
