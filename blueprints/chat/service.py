"""Chat domain logic: rooms, membership, room settings, messages, history, sync, read marks.

Plain Python and the database; nothing here knows about Socket.IO. Each
function checks what the caller may do, changes the database in one
transaction and returns what happened; the namespace decides whom to tell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from flask import current_app
from sqlalchemy import CursorResult, Table, and_, bindparam, delete, exists, false, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from errors import AppError, BadRequest, Conflict, Forbidden, NotFound, TooLarge
from extensions import db
from i18n import N_, _l
from models import Membership, Message, Room, User, iso, utcnow
from textnorm import control_in_name, is_blank, name_key

ARCHIVED = _l("This room is archived: it is read-only until it is unarchived.")
MAX_TOPIC_CHARS = 250  # PROTOCOL section 9; rooms.topic's CHECK constraint (migration 0006)

DEFAULT_ROOMS = ("general", "random")
SYNC_PAGE = 500


def _settings():
    return current_app.extensions["switchboard.settings"]


# -- rooms -----------------------------------------------------------------

def ensure_default_rooms() -> None:
    """A fresh install has the public rooms general and random."""
    existing = set(db.session.scalars(select(Room.name_key).where(Room.name_key.in_(DEFAULT_ROOMS))))
    for name in DEFAULT_ROOMS:
        if name not in existing:
            db.session.add(Room(name=name, name_key=name_key(name), kind="public"))
    try:
        db.session.commit()
    except IntegrityError:  # another process created them first
        db.session.rollback()


def get_room(room_id: int) -> Room:
    room = db.session.get(Room, room_id)
    if room is None:
        raise NotFound(_l("No room %(room)s.", room=room_id))
    return room


def membership(user_id: int, room_id: int) -> Membership | None:
    return db.session.get(Membership, (room_id, user_id))


def readable_room(user_id: int, room_id: int) -> Room:
    """The room, if the user may read it: public, or private/dm and a member.

    A member removed from a private room (``remove_member``) has no
    membership left, so from then on this refuses them everywhere it is
    used: ``history``, ``sync``, ``typing``, ``read``, and posting."""
    room = get_room(room_id)
    if room.kind != "public" and membership(user_id, room_id) is None:
        raise Forbidden(_l("Only members may use this room."))
    return room


def _writable(room: Room) -> None:
    """Archived rooms are read-only: no post, edit or delete, no new members by invite."""
    if room.archived:
        raise Forbidden(ARCHIVED)


def member_room(user_id: int, room_id: int) -> tuple[Room, Membership]:
    """The room and membership, if the user has joined it (needed to post)."""
    room = readable_room(user_id, room_id)
    member = membership(user_id, room_id)
    if member is None:
        raise Forbidden(_l("Join the room first."))
    return room, member


def room_members(room_id: int) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.room_id == room_id).order_by(User.username_key)
    ))


def room_member_ids(room_id: int) -> set[int]:
    return set(db.session.scalars(select(Membership.user_id).where(Membership.room_id == room_id)))


def room_dict(room: Room, last_read_seq: int | None = None) -> dict:
    data = {
        "id": room.id,
        "name": room.name,
        "kind": room.kind,
        "topic": room.topic or "",
        "archived": bool(room.archived),
        "created_by": room.created_by,
        "last_seq": room.last_seq,
        "last_rev": room.last_rev,
        "unread": max(0, room.last_seq - (last_read_seq or 0)) if last_read_seq is not None else 0,
        "joined": last_read_seq is not None,
    }
    if room.kind != "public":
        data["members"] = [u.to_dict() for u in room_members(room.id)]
    return data


def room_view(user_id: int, room: Room) -> dict:
    member = membership(user_id, room.id)
    return room_dict(room, member.last_read_seq if member else None)


# The fields of a Room that are the same for every reader: what
# ``room:updated`` carries (``unread``, ``joined`` are each reader's own).
SHARED_ROOM_FIELDS = ("id", "name", "kind", "topic", "archived", "created_by", "members")


def room_public_view(room: Room) -> dict:
    """The Room without the per-reader fields, for ``room:updated``."""
    data = room_dict(room)
    return {k: data[k] for k in SHARED_ROOM_FIELDS if k in data}


def system_message(text: str, room_id: int | None = None) -> dict:
    """A ``system`` event's payload (PROTOCOL.md): text from the server, not a user.

    Here, not in chat's adapter, so that /admin's announce builds it through
    the chat service instead of importing another adapter."""
    return {"room": room_id, "text": text, "ts": iso(utcnow())}


def list_rooms(user_id: int, archived: bool = False) -> list[dict]:
    """Public rooms plus the rooms the user is a member of, with unread counts.

    Archived rooms are listed apart: only with ``archived=True`` (and then only they)."""
    rows = db.session.execute(
        select(Room, Membership.last_read_seq)
        .outerjoin(Membership, and_(Membership.room_id == Room.id, Membership.user_id == user_id))
        .where(or_(Room.kind == "public", Membership.user_id.is_not(None)),
               Room.archived == archived)
        .order_by(Room.kind != "public", Room.name_key)
    ).all()
    return [room_dict(room, last_read) for room, last_read in rows]


ROOM_KEY_MAX = 80  # rooms.name_key is VARCHAR(80); NFKC can lengthen a name (U+FDFA: 18 letters)


def _refuse_controls(text: str, message: str) -> None:
    """``BadRequest`` with ``message`` (an ``N_`` template naming ``%(char)s``) if
    ``text`` holds a line break, a control or a direction character: they make
    the text shown differ from the text read ("\u202eroot" shows as "toor"), so
    they are refused, not stripped."""
    bad = control_in_name(text)
    if bad is not None:
        raise BadRequest(_l(message, char=f"U+{ord(bad):04X}"))


def _check_room_name(name: str) -> tuple[str, str]:
    """The name as shown (trimmed) and its ``name_key`` (textnorm.py), or ``BadRequest``."""
    name = name.strip()
    _refuse_controls(name, N_("name: must be one line without control or direction characters "
                              "(found %(char)s)"))
    if is_blank(name) or len(name) > 64:
        raise BadRequest(_l("name: 1-64 characters on one line, not only invisible ones"))
    key = name_key(name)
    if len(key) > ROOM_KEY_MAX:
        raise BadRequest(_l("name: too long once written in its plain form (NFKC)"))
    if key.startswith("dm:"):  # direct-message rooms own the "dm:<id>:<id>" keys
        raise BadRequest(_l("name: may not start with 'dm:'"))
    return name, key


def _room_named(key: str) -> str | None:
    return db.session.scalar(select(Room.name).where(Room.name_key == key))


def _room_exists(name: str, existing: str | None) -> Conflict:
    if existing is None or existing == name:
        return Conflict(_l("A room named %(name)r already exists.", name=name))
    return Conflict(_l("A room named %(existing)r already exists; %(name)r looks the same.",
                       existing=existing, name=name))


def clean_topic(topic: str) -> str:
    """A topic as stored: trimmed, one line, 0-250 characters (empty clears it)."""
    topic = topic.strip()
    _refuse_controls(topic, N_("topic: must be one line without control or direction characters "
                               "(found %(char)s)"))
    if is_blank(topic):
        return ""  # only invisible characters: no topic
    if len(topic) > MAX_TOPIC_CHARS:
        raise TooLarge(_l("topic: at most %(limit)s characters (got %(length)s)",
                          limit=MAX_TOPIC_CHARS, length=len(topic)), limit=MAX_TOPIC_CHARS)
    return topic


def _member_limit_reached(room_id: int | None, adding: int) -> None:
    """``Conflict`` if ``adding`` more members would pass MAX_ROOM_MEMBERS."""
    limit = _settings().MAX_ROOM_MEMBERS
    count = 0 if room_id is None else db.session.scalar(
        select(func.count()).select_from(Membership).where(Membership.room_id == room_id)) or 0
    if count + adding > limit:
        db.session.rollback()  # let go of _lock_room's lock at once
        raise Conflict(_l("A room may have at most %(limit)s members.", limit=limit), limit=limit)


def _lock_room(room_id: int) -> None:
    """Take the room's row lock (PostgreSQL) or the write lock (SQLite) for
    this transaction: membership changes of one room queue here, so two
    invites at once cannot both pass the member limit's count."""
    db.session.execute(update(_rooms).where(_rooms.c.id == room_id)
                       .values(last_rev=_rooms.c.last_rev))


def create_room(user_id: int, name: str, kind: str, members: list[str],
                topic: str = "") -> Room:
    """A public or private room. Names are unique across both kinds by ``name_key``
    (UNIQUE in the database): a private "General" beside the public one would
    be the same look-alike. Direct-message rooms keep their own "dm:" keys."""
    name, key = _check_room_name(name)
    topic = clean_topic(topic)
    limit = _settings().MAX_ROOMS_PER_USER
    owned = db.session.scalar(
        select(func.count(Room.id)).where(Room.created_by == user_id, Room.kind != "dm")
    )
    if owned >= limit:
        raise Conflict(_l("You may create at most %(limit)s rooms.", limit=limit), limit=limit)
    existing = _room_named(key)
    if existing is not None:
        raise _room_exists(name, existing)
    if kind == "public" and members:
        raise BadRequest(_l("members: only for private rooms"))
    invitees = _users_by_name(members) if kind == "private" else []
    _member_limit_reached(None, len({user_id, *(u.id for u in invitees)}))
    room = Room(name=name, name_key=key, kind=kind, created_by=user_id, topic=topic)
    db.session.add(room)
    try:
        db.session.flush()
    except IntegrityError:  # created at the same moment: the UNIQUE index decides
        db.session.rollback()
        raise _room_exists(name, _room_named(key)) from None
    for uid in {user_id, *(u.id for u in invitees)}:
        db.session.add(Membership(room_id=room.id, user_id=uid))
    db.session.commit()
    return room


def _users_by_name(names: list[str]) -> list[User]:
    """The active accounts with these usernames; a disabled one is "no user" to
    others (it cannot be invited, added or messaged)."""
    typed = {name_key(n): n for n in names}
    users = list(db.session.scalars(select(User).where(User.username_key.in_(typed),
                                                       User.active.is_(True))))
    missing = set(typed) - {u.username_key for u in users}
    if missing:
        raise NotFound(_l("No user named %(name)r.", name=typed[sorted(missing)[0]]))
    return users


def join_room(user_id: int, room_id: int) -> tuple[Room, bool]:
    """Join a public room (or re-open one the user belongs to). Returns (room, newly)."""
    room = readable_room(user_id, room_id)
    if membership(user_id, room_id) is not None:
        return room, False
    # Public only: readable_room already refused private rooms of non-members.
    db.session.commit()  # end the read transaction: the lock below starts the write
    _lock_room(room_id)
    _member_limit_reached(room_id, 1)
    db.session.add(Membership(room_id=room_id, user_id=user_id, last_read_seq=0))
    try:
        db.session.commit()
    except IntegrityError:  # joined twice at once from two tabs
        db.session.rollback()
        return room, False
    return room, True


def leave_room(user_id: int, room_id: int) -> bool:
    room = get_room(room_id)
    if room.kind == "dm":
        raise BadRequest(_l("room: a direct message cannot be left"))
    result = cast("CursorResult[Any]", db.session.execute(  # a DELETE's result has rowcount
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user_id)
    ))
    db.session.commit()
    return result.rowcount > 0


def invite(user_id: int, room_id: int, username: str) -> tuple[Room, User, bool]:
    room = get_room(room_id)
    if membership(user_id, room_id) is None:
        raise Forbidden(_l("Only members may invite to this room."))
    if room.kind == "dm":
        raise BadRequest(_l("room: nobody can be invited to a direct message"))
    _writable(room)
    (user,) = _users_by_name([username])
    if membership(user.id, room_id) is not None:
        return room, user, False
    db.session.commit()
    _lock_room(room_id)
    _member_limit_reached(room_id, 1)
    db.session.add(Membership(room_id=room_id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return room, user, False
    return room, user, True


def _managed_room(actor_id: int, is_admin: bool, room_id: int) -> Room:
    """A public or private room the actor may manage: its creator, or an admin.

    Non-members of a private room learn nothing more than ``readable_room``
    tells them; direct messages have no settings."""
    room = get_room(room_id) if is_admin else readable_room(actor_id, room_id)
    if room.kind == "dm":
        raise BadRequest(_l("room: a direct message has no settings or members to manage"))
    if not is_admin and room.created_by != actor_id:
        raise Forbidden(_l("Only the room's creator or an admin may do that."))
    return room


def remove_member(actor_id: int, is_admin: bool, room_id: int, username: str) -> tuple[Room, User]:
    """Take ``username`` out of a private room (its creator or an admin).

    Their membership row goes, so ``readable_room`` refuses them from the
    commit on; the adapter then takes their sockets out of the room on every
    process. Public rooms have no removal (anyone may join them again)."""
    room = _managed_room(actor_id, is_admin, room_id)
    if room.kind != "private":
        raise BadRequest(_l("room: only members of a private room can be removed"))
    typed = name_key(username)
    user = db.session.scalar(select(User).where(User.username_key == typed))
    if user is None:
        raise NotFound(_l("No user named %(name)r.", name=username))
    if user.id == actor_id:
        raise BadRequest(_l("username: to take yourself out of a room, leave it (room:leave)"))
    result = cast("CursorResult[Any]", db.session.execute(  # a DELETE's result has rowcount
        delete(Membership).where(Membership.room_id == room_id, Membership.user_id == user.id)))
    if result.rowcount == 0:
        db.session.rollback()
        raise NotFound(_l("%(name)r is not a member of this room.", name=user.username))
    db.session.commit()
    return room, user


def update_room(actor_id: int, is_admin: bool, room_id: int, name: str | None,
                topic: str | None) -> tuple[Room, dict]:
    """Rename a room and/or set its topic (its creator or an admin).

    Returns the room and what changed (``{"name": (old, new), ...}``, empty
    when nothing did). The new name must not look like another room's
    (``name_key``, UNIQUE in the database): "Dev ", "DEV" or "ｄｅｖ" beside
    "dev" is a ``conflict``; changing only the case of the room's own name is fine."""
    if name is None and topic is None:
        raise BadRequest(_l("payload: give name, topic or both"))
    room = _managed_room(actor_id, is_admin, room_id)
    _writable(room)
    changes: dict = {}
    if name is not None:
        name, key = _check_room_name(name)
        if key != room.name_key:
            existing = _room_named(key)
            if existing is not None:
                raise _room_exists(name, existing)
        if name != room.name:
            changes["name"] = (room.name, name)
            room.name, room.name_key = name, key
    if topic is not None:
        topic = clean_topic(topic)
        if topic != (room.topic or ""):
            changes["topic"] = True  # never the text itself in the audit log
            room.topic = topic
    if not changes:
        db.session.rollback()
        return room, changes
    try:
        db.session.commit()
    except IntegrityError:  # another room took that name at the same moment
        db.session.rollback()
        taken = changes["name"][1]
        raise _room_exists(taken, _room_named(name_key(taken))) from None
    return room, changes


def set_archived(actor_id: int, is_admin: bool, room_id: int, archived: bool) -> tuple[Room, bool]:
    """Archive (read-only, listed apart) or unarchive a room. Returns (room, changed)."""
    room = _managed_room(actor_id, is_admin, room_id)
    if room.archived == archived:
        return room, False
    room.archived = archived
    db.session.commit()
    return room, True


def open_dm(user_id: int, username: str) -> tuple[Room, User, bool]:
    """The one dm room of this pair, created on first use. Returns (room, other, created)."""
    (other,) = _users_by_name([username])
    low, high = sorted((user_id, other.id))
    key = f"dm:{low}:{high}"
    room = db.session.scalar(select(Room).where(Room.name_key == key))
    if room is not None:
        return room, other, False
    me = db.session.get_one(User, user_id)
    room = Room(name=f"{me.username}, {other.username}" if low != high else me.username,
                name_key=key, kind="dm", created_by=user_id)
    db.session.add(room)
    try:
        db.session.flush()
        for uid in {low, high}:
            db.session.add(Membership(room_id=room.id, user_id=uid))
        db.session.commit()
    except IntegrityError:  # the other side opened it at the same moment
        db.session.rollback()
        return db.session.scalars(select(Room).where(Room.name_key == key)).one(), other, False
    return room, other, True


def users_by_id(user_ids) -> list[User]:
    return list(db.session.scalars(select(User).where(User.id.in_(list(user_ids)))))


def shared_room_ids(user_id: int) -> list[int]:
    """Rooms the user belongs to: where their presence is of interest."""
    return list(db.session.scalars(select(Membership.room_id).where(Membership.user_id == user_id)))


# -- messages ----------------------------------------------------------------

def clean_text(text: str) -> str:
    text = text.strip()
    if is_blank(text):  # zero-width spaces alone would post a message nobody sees
        raise BadRequest(_l("text: must not be empty (or only invisible characters)"))
    limit = _settings().MAX_MESSAGE_CHARS
    if len(text) > limit:
        raise TooLarge(_l("text: at most %(limit)s characters (got %(length)s)", limit=limit,
                          length=len(text)), limit=limit)
    return text


def _by_client_id(user_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.author_id == user_id, Message.client_id == client_id)
    )


# A declarative class's __table__ is its Table (typed as the wider FromClause).
_rooms = cast(Table, Room.__table__)
_messages = cast(Table, Message.__table__)
_memberships = cast(Table, Membership.__table__)


def _next_rev(room_id: int) -> int:
    return db.session.execute(
        update(_rooms).where(_rooms.c.id == room_id).values(last_rev=_rooms.c.last_rev + 1)
        .returning(_rooms.c.last_rev)
    ).scalar_one()


@dataclass
class Sent:
    message: dict  # the wire shape (PROTOCOL section 4)
    duplicate: bool


def _why_cannot_post(user_id: int, room_id: int) -> AppError:
    """The error for a refused post: no such room, not a member, or archived."""
    room = db.session.get(Room, room_id)
    if room is None:
        return NotFound(_l("No room %(room)s.", room=room_id))
    if room.archived and (room.kind == "public" or membership(user_id, room_id) is not None):
        return Forbidden(ARCHIVED)
    return Forbidden(_l("Join the room first.") if room.kind == "public"
                     else _l("Only members may use this room."))


# The hot path's statements, built once: SQLAlchemy then reuses their cache
# keys and compiled forms instead of rebuilding them for every message.
# Taking the room's next seq and rev is one UPDATE ... RETURNING: PostgreSQL
# holds the room's row lock and SQLite its write lock until the sender's
# transaction commits, so concurrent senders queue here and numbers are never
# shared or skipped.
_TAKE_NUMBERS_IF_MEMBER = (
    update(_rooms)
    .where(_rooms.c.id == bindparam("room"),
           _rooms.c.archived == false(),
           exists().where(_memberships.c.room_id == bindparam("room"),
                          _memberships.c.user_id == bindparam("user")))
    .values(last_seq=_rooms.c.last_seq + 1, last_rev=_rooms.c.last_rev + 1)
    .returning(_rooms.c.last_seq, _rooms.c.last_rev)
)
_INSERT_MESSAGE = _messages.insert().returning(_messages.c.id)
_MARK_READ = (
    update(_memberships)
    .where(_memberships.c.room_id == bindparam("room"),
           _memberships.c.user_id == bindparam("user"))
    .values(last_read_seq=bindparam("seq"))
)


def send_message(user_id: int, room_id: int, text: str, client_id: str) -> Sent:
    """Store a message, or return the one already stored for this client_id.

    The hot path of the product: three statements in one transaction. Taking
    the room's next seq/rev only if the sender is a member (UPDATE ... WHERE
    EXISTS ... RETURNING) is also the membership check; then the insert and
    the sender's read mark. A retried client_id meets the unique constraint,
    which rolls the whole transaction back, numbers included. Archived rooms
    take no numbers either (the same WHERE), so nothing is stored there.
    """
    text = clean_text(text)
    # The author as every reader shows them (display name, avatar): read
    # before the write transaction, which then holds the room's lock only
    # for the three statements.
    author = db.session.get(User, user_id)
    if author is None:
        raise NotFound(_l("No user %(id)s.", id=user_id))
    author_dict = author.to_dict()
    if db.session().in_transaction():
        # End a read transaction so the write below starts a fresh one (an
        # empty commit per message showed up as 5% of the handler).
        db.session.commit()
    now = utcnow()
    try:
        row = db.session.execute(_TAKE_NUMBERS_IF_MEMBER,
                                 {"room": room_id, "user": user_id}).first()
        if row is None:
            db.session.rollback()
            raise _why_cannot_post(user_id, room_id)
        seq, rev = row.last_seq, row.last_rev
        message_id = db.session.execute(_INSERT_MESSAGE, {
            "room_id": room_id, "seq": seq, "rev": rev, "author_id": user_id, "text": text,
            "client_id": client_id, "created_at": now, "deleted": False,
        }).scalar_one()
        # The sender's own message is read: their unread count stays put.
        db.session.execute(_MARK_READ, {"room": room_id, "user": user_id, "seq": seq})
        db.session.commit()
    except IntegrityError:
        # This client_id is stored already (a retry, or another tab or process).
        db.session.rollback()
        existing = _by_client_id(user_id, client_id)
        if existing is None:
            raise
        if existing.room_id != room_id:
            raise Conflict(_l("client_id: already used for a message in another room")) from None
        return Sent(existing.to_dict(), duplicate=True)
    return Sent({
        "id": message_id, "room": room_id, "seq": seq, "rev": rev,
        "author": author_dict, "text": text, "ts": iso(now),
        "client_id": client_id, "edited_ts": None, "deleted": False,
    }, duplicate=False)


def _changeable_message(user_id: int, message_id: int, admin_override: bool = False) -> Message:
    """A live message the user may change: their own (still a member), or any for admins."""
    message = db.session.get(Message, message_id)
    if message is None or message.deleted:
        raise NotFound(_l("No message %(id)s.", id=message_id))
    if message.author_id == user_id:
        room, _ = member_room(user_id, message.room_id)
    elif not admin_override:
        readable_room(user_id, message.room_id)  # non-members learn nothing more
        raise Forbidden(_l("Only the author may do that."))
    else:
        room = get_room(message.room_id)
    _writable(room)
    return message


def edit_message(user_id: int, message_id: int, text: str) -> Message:
    message = _changeable_message(user_id, message_id)
    text = clean_text(text)
    db.session.commit()
    message.rev = _next_rev(message.room_id)
    message.text = text
    message.edited_at = utcnow()
    db.session.commit()
    return message


def delete_message(user_id: int, message_id: int, is_admin: bool) -> Message:
    """Delete (author or admin): the message keeps its seq as an empty placeholder."""
    message = _changeable_message(user_id, message_id, admin_override=is_admin)
    db.session.commit()
    message.rev = _next_rev(message.room_id)
    message.deleted = True
    message.text = ""
    message.edited_at = utcnow()
    db.session.commit()
    return message


def history(user_id: int, room_id: int, before_seq: int | None, limit: int) -> tuple[list[Message], bool]:
    """Up to ``limit`` messages before ``before_seq`` (ascending seq), and whether more exist."""
    readable_room(user_id, room_id)
    query = select(Message).where(Message.room_id == room_id)
    if before_seq is not None:
        query = query.where(Message.seq < before_seq)
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit + 1)))
    has_more = len(rows) > limit
    return list(reversed(rows[:limit])), has_more


def sync(user_id: int, rooms: dict[int, int]) -> tuple[list[Message], bool]:
    """Everything created, edited or deleted after each given rev (<= 500 in all)."""
    for room_id in rooms:
        readable_room(user_id, room_id)
    collected: list[Message] = []
    has_more = False
    for room_id, after_rev in sorted(rooms.items()):
        room_left = SYNC_PAGE - len(collected)
        if room_left <= 0:
            has_more = True
            break
        rows = list(db.session.scalars(
            select(Message).where(Message.room_id == room_id, Message.rev > after_rev)
            .order_by(Message.rev).limit(room_left + 1)
        ))
        if len(rows) > room_left:
            has_more = True
            rows = rows[:room_left]
        collected.extend(rows)
    return collected, has_more


def mark_read(user_id: int, room_id: int, seq: int) -> tuple[Room, int]:
    """Move the user's read mark forward (never back); return the unread count."""
    room, member = member_room(user_id, room_id)
    seq = min(seq, room.last_seq)
    if seq > member.last_read_seq:
        member.last_read_seq = seq
        db.session.commit()
    return room, max(0, room.last_seq - member.last_read_seq)
