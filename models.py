"""Database models (SQLAlchemy 2.0 typed declarative).

Ordering and durability live here: a room's ``last_seq`` and ``last_rev`` are
bumped in the same transaction that stores a message, and the unique
constraints ``(room_id, seq)`` and ``(author_id, client_id)`` make gaps,
reordering and double posts impossible even if application code is wrong.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(db.TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Usernames are unique case-insensitively; the lower-cased copy carries
    # the constraint so it holds on SQLite and PostgreSQL alike.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout, password change or disable: sessions and tokens carry
    # the value they were issued with and stop working when it moves.
    auth_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        # The epoch in the session id ends every session when it changes.
        return f"{self.id}:{self.auth_epoch}"

    def to_dict(self) -> dict:
        return {"id": self.id, "username": self.username}


class Room(db.Model):
    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    # Public and private room names are unique case-insensitively; dm rooms
    # use "dm:<low id>:<high id>" so a pair has exactly one.
    name_key: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # public | private | dm
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_rev: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Membership(db.Model):
    __tablename__ = "memberships"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()

    __table_args__ = (Index("ix_memberships_user", "user_id"),)


class Message(db.Model):
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
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
