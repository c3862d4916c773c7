"""What the operator console shows: figures summed over every process.

Plain Python over the connection state and the database; no Socket.IO.
"""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select, update

from errors import BadRequest, Conflict, Forbidden, NotFound
from extensions import db
from i18n import _l
from models import ApiToken, Membership, Room, User, iso, utcnow
from realtime.state import ConnectionState
from textnorm import is_blank, name_key

BUSIEST_ROOMS = 10


def stats(state: ConnectionState) -> dict:
    conns = state.connections()
    by_namespace = Counter(c.namespace for c in conns)
    by_transport = Counter(c.transport for c in conns)
    online = state.online_user_ids("/chat")
    procs = state.process_stats()
    errors: Counter = Counter()
    for p in procs:
        errors.update(p.get("errors_by_code", {}))
    return {
        "connections": {
            "total": len(conns),
            "by_namespace": dict(by_namespace),
            "by_transport": {"websocket": by_transport.get("websocket", 0),
                             "polling": by_transport.get("polling", 0)},
        },
        "users_online": len(online),
        "events_per_sec": round(sum(p.get("events_per_sec", 0) for p in procs), 2),
        "errors_by_code": dict(errors),
        "rooms": busiest_rooms(online),
        "processes": len(procs),
    }


def busiest_rooms(online: set[int]) -> list[dict]:
    """Rooms by how many of their members are connected now (public and private alike)."""
    if not online:
        return []
    rows = db.session.execute(
        select(Room.id, Room.name, Room.kind, func.count(Membership.user_id).label("online"))
        .join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id.in_(online), Room.kind != "dm")
        .group_by(Room.id, Room.name, Room.kind)
        .order_by(func.count(Membership.user_id).desc(), Room.id)
        .limit(BUSIEST_ROOMS)
    ).all()
    return [{"id": r.id, "name": r.name, "online": r.online} for r in rows]


def connection_table(state: ConnectionState) -> list[dict]:
    """Every connection: user, namespace, transport, address, since, rooms."""
    conns = sorted(state.connections(), key=lambda c: c.connected_at)
    user_ids = {c.user_id for c in conns}
    rooms: dict[int, list[str]] = {}
    if user_ids:
        for uid, name in db.session.execute(
            select(Membership.user_id, Room.name).join(Room, Room.id == Membership.room_id)
            .where(Membership.user_id.in_(user_ids), Room.kind != "dm").order_by(Room.name)
        ):
            rooms.setdefault(uid, []).append(name)
    return [{
        "sid": c.sid, "user": {"id": c.user_id, "username": c.username},
        "namespace": c.namespace, "transport": c.transport, "address": c.ip,
        "since": iso(datetime.fromtimestamp(c.connected_at, UTC)),
        "rooms": rooms.get(c.user_id, []) if c.namespace == "/chat" else [],
    } for c in conns]


def find_user(username: str) -> User | None:
    """The account whose name looks like ``username`` (its ``name_key``, as auth stores it)."""
    return db.session.scalar(select(User).where(User.username_key == name_key(username)))


def announcement_text(text: str) -> str:
    """The text of an announcement, or BadRequest (the rule lives here, not in
    the adapter). ``text`` is already trimmed and bounded by the schema."""
    if is_blank(text):  # only invisible characters: an announcement nobody sees
        raise BadRequest(_l("text: must not be empty"))
    return text


# -- accounts (PROTOCOL section 15: users, user:disable, user:admin) ----------

MAX_USER_ROWS = 1000


def user_table(state: ConnectionState) -> list[dict]:
    """Every account (the first MAX_USER_ROWS by name) with admin, disabled,
    last seen and live connections (all processes)."""
    per_user = Counter(c.user_id for c in state.connections())
    users = db.session.scalars(select(User).order_by(User.username_key).limit(MAX_USER_ROWS))
    return [user_row(u, per_user.get(u.id, 0)) for u in users]


def user_row(user: User, connections: int) -> dict:
    """One row of the admin's users table: User + admin, disabled, last_seen."""
    return {**user.to_dict(), "admin": user.is_admin, "disabled": not user.active,
            "last_seen": iso(user.last_seen_at), "connections": connections}


def _target(username: str) -> User:
    user = find_user(username)
    if user is None:
        raise NotFound(_l("No user named %(name)r.", name=username))
    return user


def _other_active_admins(user_id: int) -> int:
    return db.session.scalar(select(func.count(User.id)).where(
        User.is_admin.is_(True), User.active.is_(True), User.id != user_id)) or 0


def set_disabled(actor_id: int, username: str, disabled: bool) -> User:
    """Disable or enable, in one transaction. Disabling moves the auth epoch
    (every session and short-lived token ends) and revokes every personal
    access token, as ``flask users disable`` does (auth's ``set_active``);
    the caller closes the sockets. Enabling brings no old token back."""
    user = _target(username)
    if user.id == actor_id and disabled:
        raise Forbidden(_l("You cannot disable your own account."))
    if disabled and user.is_admin and user.active and _other_active_admins(user.id) == 0:
        raise Conflict(_l("%(name)s is the last admin; make someone else an admin first.",
                          name=user.username))
    user.active = not disabled
    if disabled:
        user.auth_epoch += 1
        db.session.execute(update(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    db.session.commit()
    return user


def set_admin(actor_id: int, username: str, admin: bool) -> User:
    """Grant or revoke admin rights. Nobody demotes themselves, and the last
    admin stays one (else nobody could manage the accounts any more)."""
    user = _target(username)
    if user.id == actor_id and not admin:
        raise Forbidden(_l("You cannot remove your own admin rights; ask another admin."))
    if not admin and user.is_admin and _other_active_admins(user.id) == 0:
        raise Conflict(_l("%(name)s is the last admin; make someone else an admin first.",
                          name=user.username))
    user.is_admin = admin
    db.session.commit()
    return user
