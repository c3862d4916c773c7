"""What the operator console shows: figures summed over every process.

Plain Python over the connection state and the database; no Socket.IO.
"""
from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from errors import BadRequest
from extensions import db
from i18n import _l
from models import Membership, Room, User, iso
from realtime.state import ConnectionState
from textnorm import is_blank

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
    return db.session.scalar(select(User).where(User.username_key == username.lower()))


def announcement_text(text: str) -> str:
    """The text of an announcement, or BadRequest (the rule lives here, not in
    the adapter). ``text`` is already trimmed and bounded by the schema."""
    if is_blank(text):  # only invisible characters: an announcement nobody sees
        raise BadRequest(_l("text: must not be empty"))
    return text
