"""Database models (SQLAlchemy 2.0 typed declarative).

Ordering and durability live here: a room's ``last_seq`` and ``last_rev`` are
bumped in the same transaction that stores a message, and the unique
constraints ``(room_id, seq)`` and ``(author_id, client_id)`` make gaps,
reordering and double posts impossible even if application code is wrong.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db

if TYPE_CHECKING:
    # db.Model is made at run time from extensions.Base plus Flask-SQLAlchemy's
    # mixins, which a type checker cannot follow; Base has the same mapping.
    from extensions import Base as Model
else:
    Model = db.Model


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # textnorm.name_key(username): equal for names a reader cannot tell apart
    # (case, NFKC compatibility forms, invisible characters). The UNIQUE
    # constraint on it refuses look-alike accounts on SQLite and PostgreSQL
    # alike, whatever code path inserts (migration 0003 backfilled it).
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, password change or disable: sessions and tokens carry
    # the value they were issued with and stop working when it moves.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The page's colours: "system" follows prefers-color-scheme, "light" and
    # "dark" override it (base.html puts it on <html data-theme>). Migration 0004.
    theme: Mapped[str] = mapped_column(String(8), default="system", server_default="system")
    # The page language: None follows Accept-Language, else "en" or "zh-CN".
    # Migration 0005.
    locale: Mapped[str | None] = mapped_column(String(8), nullable=True, default=None)
    # The profile (migration 0006). display_name: None shows the username;
    # any script, 1-64 characters, plain text (pages set it with textContent).
    # display_key is textnorm.name_key(display_name): what the directory's
    # search matches, case- and width-insensitively in every script (SQL
    # lower() is ASCII-only on SQLite). status: a line such as "in a meeting".
    # avatar_version: None without an avatar, else bumped on every upload;
    # it is the ?v= of avatar_url, so a new picture is a new URL and the
    # old one can be cached for good.
    display_name: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    display_key: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(80), default="", server_default="")
    avatar_version: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    # When the user's first connection opened or their last one closed
    # (realtime/namespace.py), never per message. Migration 0007.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        CheckConstraint("theme IN ('light', 'dark', 'system')", name="ck_users_theme"),
        CheckConstraint("locale IS NULL OR locale IN ('en', 'zh-CN')", name="ck_users_locale"),
        CheckConstraint("display_name IS NULL OR length(display_name) BETWEEN 1 AND 64",
                        name="ck_users_display_name"),
        CheckConstraint("length(status) <= 80", name="ck_users_status"),
        CheckConstraint("avatar_version IS NULL OR avatar_version >= 1",
                        name="ck_users_avatar_version"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        # The epoch in the session id ends every session when it changes.
        return f"{self.id}:{self.auth_epoch}"

    @property
    def avatar_url(self) -> str | None:
        if self.avatar_version is None:
            return None
        return f"/avatars/{self.id}.{AVATAR_EXT}?v={self.avatar_version}"

    def to_dict(self) -> dict:
        """The User shape (PROTOCOL sections 4 and 9). ``display_name`` is text
        chosen by the user: pages render it with textContent, never as HTML."""
        return {"id": self.id, "username": self.username,
                "display_name": self.display_name or self.username,
                "status": self.status or "", "avatar_url": self.avatar_url, "bot": False}


# Avatars are re-encoded to this one format (blueprints/chat/people.py).
AVATAR_EXT = "webp"
AVATAR_CONTENT_TYPE = "image/webp"


class Avatar(Model):
    """A user's picture: 256x256 WebP bytes, re-encoded by the server.

    In the database rather than a folder: every process of a deployment
    (several hosts behind nginx) already shares the database and nothing
    else, a picture is a few tens of KiB, and the bytes change in the same
    transaction as users.avatar_version, so no process serves a version
    whose bytes are not there yet. Backups carry them along.
    """

    __tablename__ = "avatars"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        CheckConstraint("content_type IN ('image/webp')", name="ck_avatars_content_type"),
        CheckConstraint("version >= 1", name="ck_avatars_version"),
    )


class ApiToken(Model):
    """A personal access token (PROTOCOL section 10): only the SHA-256 of its
    secret is stored, so a copy of the database gives no working token.
    Migration 0007."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("length(token_hash) = 64", name="ck_api_tokens_hash"),
        CheckConstraint("expires_at IS NULL OR expires_at > created_at",
                        name="ck_api_tokens_expiry"),
        Index("ix_api_tokens_user", "user_id"),
    )

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                "last_used_at": iso(self.last_used_at), "expires_at": iso(self.expires_at)}


class Invite(Model):
    """A registration link for REGISTRATION=invite (PROTOCOL section 15).
    The CHECK constraints keep ``0 <= uses <= max_uses`` whatever writes.
    Migration 0007."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(43), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    max_uses: Mapped[int] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    creator: Mapped[User | None] = relationship()

    __table_args__ = (
        CheckConstraint("max_uses >= 1", name="ck_invites_max_uses"),
        CheckConstraint("uses >= 0 AND uses <= max_uses", name="ck_invites_uses"),
        CheckConstraint("length(code) >= 22", name="ck_invites_code"),
        CheckConstraint("expires_at > created_at", name="ck_invites_expiry"),
        Index("ix_invites_created_by", "created_by"),
    )


class Room(Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Public and private rooms: textnorm.name_key(name), unique across both
    # kinds (a private "General" beside the public "general" would be the
    # same look-alike). dm rooms use "dm:<low id>:<high id>", so a pair has
    # exactly one; no other room's key may start with "dm:".
    name_key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # public | private | dm
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_rev: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Migration 0006: a line under the name (0-250 characters), and archived
    # rooms: read-only (no posts, edits or deletes) and listed apart.
    topic: Mapped[str] = mapped_column(String(250), default="", server_default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    __table_args__ = (
        CheckConstraint("length(topic) <= 250", name="ck_rooms_topic"),
    )


class Membership(Model):
    __tablename__ = "memberships"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_memberships_user", "user_id"),)


class Message(Model):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    seq: Mapped[int] = mapped_column(Integer)
    rev: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    client_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)

    author: Mapped[User] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("room_id", "seq", name="uq_messages_room_seq"),
        UniqueConstraint("author_id", "client_id", name="uq_messages_author_client"),
        Index("ix_messages_room_rev", "room_id", "rev"),
    )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "room": self.room_id,
            "seq": self.seq,
            "rev": self.rev,
            "author": self.author.to_dict(),
            "text": "" if self.deleted else self.text,
            "ts": iso(self.created_at),
            "client_id": self.client_id,
            "edited_ts": iso(self.edited_at),
            "deleted": self.deleted,
        }


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )


# -- market --
# Paper trading (PROTOCOL section 5). Money is Decimal with 2 places end to
# end: Python arithmetic only (never SQL arithmetic), NUMERIC(14,2) columns.

from decimal import Decimal  # noqa: E402

from money import CENT, has_cents_only  # noqa: E402


class _PlainNumeric(Numeric):
    """NUMERIC whose values pass to and from the driver untouched.

    SQLAlchemy's own Numeric converts to float for SQLite; ``Money`` below
    does the conversions itself instead. Still NUMERIC to Alembic, so
    autogenerate sees no difference from the migration.
    """

    def bind_processor(self, dialect):
        return None

    def result_processor(self, dialect, coltype):
        return None


class Money(TypeDecorator):
    """NUMERIC(14,2) that only ever takes and gives ``Decimal`` with 2 places.

    A float handed to it is a bug and raises. PostgreSQL stores NUMERIC
    exactly. SQLite stores a NUMERIC column as REAL (or INTEGER) but keeps 15
    significant digits, and 14 digits (12 before the point, 2 after) always
    round-trip exactly: we bind a string and read floats back through
    ``repr``, so no float arithmetic ever touches an amount. Arithmetic on
    money happens in Python ``Decimal`` only, never in SQL.
    """

    impl = _PlainNumeric(14, 2)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__}")
        if not has_cents_only(value):
            raise ValueError(f"money has more than 2 decimal places: {value}")
        value = value.quantize(CENT)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, float):  # SQLite's REAL storage: 15 digits survive
            value = repr(value)
        return Decimal(value).quantize(CENT)


class Account(Model):
    """A user's paper-trading cash. Created on first use with STARTING_CASH.

    ``version`` is bumped first in every transaction that changes the account
    or its positions: that UPDATE takes PostgreSQL's row lock (SQLite's write
    lock), so trades of one user are serialised there.
    """

    __tablename__ = "market_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    cash: Mapped[Decimal] = mapped_column(Money)
    realized_pnl: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Position(Model):
    """Shares of one symbol held by a user, with their cost basis (what was paid)."""

    __tablename__ = "market_positions"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(16), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(Money)


class Trade(Model):
    """One order and what became of it (open, filled, rejected, cancelled)."""

    __tablename__ = "market_trades"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    client_id: Mapped[str] = mapped_column(String(64))
    symbol: Mapped[str] = mapped_column(String(16))
    side: Mapped[str] = mapped_column(String(4))  # BUY | SELL
    quantity: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(8))  # market | limit
    limit_price: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(10))  # open | filled | rejected | cancelled
    price: Mapped[Decimal | None] = mapped_column(Money)  # the fill price
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "client_id", name="uq_market_trades_user_client"),
        Index("ix_market_trades_open", "status", "symbol"),
        Index("ix_market_trades_user", "user_id", "id"),
    )

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "symbol": self.symbol,
            "side": self.side,
            "quantity": self.quantity,
            "type": self.type,
            "limit_price": None if self.limit_price is None else str(self.limit_price),
            "status": self.status,
            "price": None if self.price is None else str(self.price),
            # The time of the latest change (placed, filled, rejected, cancelled).
            "ts": iso(self.updated_at),
            "created_ts": iso(self.created_at),
            "reason": self.reason,
            "client_id": self.client_id,
        }
