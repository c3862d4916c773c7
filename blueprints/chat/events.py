"""The /chat namespace: a thin adapter from events to the chat service.

Each handler calls the service, then decides what to emit to whom. Sockets
sit in ``user:<id>`` (every tab of a user) and ``room:<id>`` for each room
the user belongs to, so live messages and unread counts reach every tab.
"""
from __future__ import annotations

from blueprints.chat import schemas as s
from blueprints.chat import service
from realtime import metrics
from realtime.namespace import AppNamespace, event
from realtime.rooms import chat_room, remove_user_from_room, user_room
from realtime.state import Connection


class ChatNamespace(AppNamespace):
    # -- connection lifecycle -------------------------------------------
    def connected(self, conn: Connection, first: bool) -> None:
        room_ids = service.shared_room_ids(conn.user_id)
        for room_id in room_ids:
            self.join(conn, chat_room(room_id))
        if first and room_ids:
            self._presence(conn, "online", room_ids, skip_sid=conn.sid)

    def disconnected(self, conn: Connection, last: bool) -> None:
        if last:
            room_ids = service.shared_room_ids(conn.user_id)
            if room_ids:
                self._presence(conn, "offline", room_ids)

    def users_went_offline(self, user_ids: set[int]) -> None:
        for user in service.users_by_id(user_ids):
            room_ids = service.shared_room_ids(user.id)
            if room_ids:
                self._presence_of(user.to_dict(), "offline", room_ids)

    def _presence(self, conn: Connection, status: str, room_ids, skip_sid=None) -> None:
        user = {"id": conn.user_id, "username": conn.username}
        self._presence_of(user, status, room_ids, skip_sid)

    def _presence_of(self, user: dict, status: str, room_ids, skip_sid=None) -> None:
        # One emit to many rooms: python-socketio sends each socket one copy.
        self.emit("presence", {"user": user, "status": status},
                  to=[chat_room(r) for r in room_ids], skip_sid=skip_sid)

    def _online_in(self, room_id: int) -> list[dict]:
        online = self.state.online_user_ids(self.namespace)
        return [u.to_dict() for u in service.room_members(room_id) if u.id in online]

    # -- rooms ------------------------------------------------------------
    @event("rooms:list", s.Empty)
    def rooms_list(self, conn: Connection, data: s.Empty):
        return {"rooms": service.list_rooms(conn.user_id)}

    @event("room:create", s.RoomCreate)
    def room_create(self, conn: Connection, data: s.RoomCreate):
        room = service.create_room(conn.user_id, data.name, data.kind, data.members)
        view = service.room_view(conn.user_id, room)
        self.join(conn, chat_room(room.id))
        if room.kind == "public":
            # Everyone may join a public room: every /chat client learns of it.
            self.emit("room:added", service.room_dict(room), skip_sid=conn.sid)
        else:
            # Every member's tabs learn about the new private room.
            self.emit("room:added", view, skip_sid=conn.sid,
                      to=[user_room(u) for u in service.room_member_ids(room.id)])
        return {"room": view}

    @event("room:join", s.RoomRef)
    def room_join(self, conn: Connection, data: s.RoomRef):
        room, newly = service.join_room(conn.user_id, data.room)
        self.join(conn, chat_room(room.id))
        if newly:
            user = {"id": conn.user_id, "username": conn.username}
            self.emit("member:joined", {"room": room.id, "user": user},
                      to=chat_room(room.id), skip_sid=conn.sid)
        return {"room": service.room_view(conn.user_id, room), "online": self._online_in(room.id)}

    @event("room:leave", s.RoomRef)
    def room_leave(self, conn: Connection, data: s.RoomRef):
        left = service.leave_room(conn.user_id, data.room)
        # Every tab of the user, on every process, not only this socket: the
        # others would go on receiving the room's messages (realtime/rooms.py).
        remove_user_from_room(self.socketio.server, self.state, self.namespace, conn.user_id,
                              chat_room(data.room))
        if left:
            user = {"id": conn.user_id, "username": conn.username}
            self.emit("member:left", {"room": data.room, "user": user}, to=chat_room(data.room))
            # The user's other tabs drop the room from their list.
            self.emit("room:left", {"room": data.room}, to=user_room(conn.user_id),
                      skip_sid=conn.sid)
        return {}

    @event("room:invite", s.RoomInvite)
    def room_invite(self, conn: Connection, data: s.RoomInvite):
        room, user, added = service.invite(conn.user_id, data.room, data.username)
        if added:
            self.emit("member:joined", {"room": room.id, "user": user.to_dict()},
                      to=chat_room(room.id))
            self.emit("room:added", service.room_view(user.id, room), to=user_room(user.id))
        return {}

    @event("dm:open", s.DmOpen)
    def dm_open(self, conn: Connection, data: s.DmOpen):
        room, other, created = service.open_dm(conn.user_id, data.username)
        self.join(conn, chat_room(room.id))
        if created:
            self.emit("room:added", service.room_view(other.id, room), to=user_room(other.id))
        return {"room": service.room_view(conn.user_id, room)}

    # -- messages -----------------------------------------------------------
    @event("message:send", s.MessageSend, limit="messages")
    def message_send(self, conn: Connection, data: s.MessageSend):
        sent = service.send_message(conn.user_id, data.room, data.text, data.client_id,
                                    username=conn.username)
        message = sent.message
        if sent.duplicate:
            return {"message": message, "duplicate": True}
        # Stored and committed: now the ack (returned) and the broadcast.
        metrics.MESSAGES_STORED.inc()
        self.emit("message", message, to=chat_room(data.room))
        return {"message": message}

    @event("message:edit", s.MessageEdit)
    def message_edit(self, conn: Connection, data: s.MessageEdit):
        message = service.edit_message(conn.user_id, data.id, data.text).to_dict()
        self.emit("message:edited", message, to=chat_room(message["room"]))
        return {"message": message}

    @event("message:delete", s.MessageRef)
    def message_delete(self, conn: Connection, data: s.MessageRef):
        message = service.delete_message(conn.user_id, data.id, conn.is_admin).to_dict()
        self.emit("message:deleted", message, to=chat_room(message["room"]))
        return {}

    @event("history", s.History)
    def history(self, conn: Connection, data: s.History):
        messages, has_more = service.history(conn.user_id, data.room, data.before_seq, data.limit)
        return {"messages": [m.to_dict() for m in messages], "has_more": has_more}

    @event("sync", s.Sync)
    def sync(self, conn: Connection, data: s.Sync):
        rooms = {int(k): v for k, v in data.rooms.items()}
        messages, has_more = service.sync(conn.user_id, rooms)
        return {"messages": [m.to_dict() for m in messages], "has_more": has_more}

    @event("read", s.Read)
    def read(self, conn: Connection, data: s.Read):
        room, unread = service.mark_read(conn.user_id, data.room, data.seq)
        # The user's other tabs clear their badge too.
        self.emit("room:read", {"room": room.id, "unread": unread, "seq": data.seq},
                  to=user_room(conn.user_id), skip_sid=conn.sid)
        return {"unread": unread}

    @event("typing", s.Typing, ack=False)
    def typing(self, conn: Connection, data: s.Typing):
        service.readable_room(conn.user_id, data.room)
        user = {"id": conn.user_id, "username": conn.username}
        self.socketio.emit("typing", {"room": data.room, "user": user, "typing": data.typing},
                           to=chat_room(data.room), skip_sid=conn.sid,
                           namespace=self.namespace)
        return None
