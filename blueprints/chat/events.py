"""The /chat namespace: a thin adapter from events to the chat service.

Each handler calls the service, then decides what to emit to whom. Sockets
sit in ``user:<id>`` (every tab of a user) and ``room:<id>`` for each room
the user belongs to, so live messages and unread counts reach every tab.
"""
from __future__ import annotations

from audit import audit
from blueprints.chat import schemas as s
from blueprints.chat import service
from blueprints.people import service as people
from realtime import metrics
from realtime.namespace import AppNamespace, event
from realtime.rooms import add_user_to_room, chat_room, remove_user_from_room, user_room
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

    def _enter_everywhere(self, user_id: int, room_id: int) -> None:
        """Every open tab of a new member, on every process, joins the room's
        Socket.IO room: its live messages reach them at once."""
        add_user_to_room(self.socketio.server, self.state, self.namespace, user_id,
                         chat_room(room_id))

    def _room_updated(self, room) -> None:
        """``room:updated`` to whoever can see the room: every /chat client for a
        public room, every tab of each member for a private one."""
        view = service.room_public_view(room)
        if room.kind == "public":
            self.emit("room:updated", view)
        else:
            self.emit("room:updated", view,
                      to=[user_room(u) for u in service.room_member_ids(room.id)])

    def _me(self, conn: Connection) -> dict:
        (user,) = service.users_by_id([conn.user_id])
        return user.to_dict()

    # -- rooms ------------------------------------------------------------
    @event("rooms:list", s.RoomsList)
    def rooms_list(self, conn: Connection, data: s.RoomsList):
        return {"rooms": service.list_rooms(conn.user_id, archived=data.archived)}

    @event("room:create", s.RoomCreate)
    def room_create(self, conn: Connection, data: s.RoomCreate):
        room = service.create_room(conn.user_id, data.name, data.kind, data.members, data.topic)
        view = service.room_view(conn.user_id, room)
        self.join(conn, chat_room(room.id))
        audit("room_created", by=conn.username, user_id=conn.user_id, room=room.id,
              kind=room.kind, members=len(data.members))
        if room.kind == "public":
            # Everyone may join a public room: every /chat client learns of it.
            self.emit("room:added", service.room_dict(room), skip_sid=conn.sid)
        else:
            members = service.room_member_ids(room.id)
            for uid in members:
                self._enter_everywhere(uid, room.id)
            # Every member's tabs learn about the new private room.
            self.emit("room:added", view, skip_sid=conn.sid,
                      to=[user_room(u) for u in members])
        return {"room": view}

    @event("room:join", s.RoomRef)
    def room_join(self, conn: Connection, data: s.RoomRef):
        room, newly = service.join_room(conn.user_id, data.room)
        self.join(conn, chat_room(room.id))
        if newly:
            self.emit("member:joined", {"room": room.id, "user": self._me(conn)},
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
            audit("room_invite", by=conn.username, user_id=conn.user_id, room=room.id,
                  target=user.username, target_id=user.id)
            self.emit("member:joined", {"room": room.id, "user": user.to_dict()},
                      to=chat_room(room.id))
            self._enter_everywhere(user.id, room.id)
            self.emit("room:added", service.room_view(user.id, room), to=user_room(user.id))
        return {}

    @event("room:remove", s.RoomRemove)
    def room_remove(self, conn: Connection, data: s.RoomRemove):
        room, user = service.remove_member(conn.user_id, conn.is_admin, data.room, data.username)
        audit("room_remove", by=conn.username, user_id=conn.user_id, room=room.id,
              target=user.username, target_id=user.id, admin=conn.is_admin)
        # Their sockets leave first, on every process (realtime/rooms.py): no
        # later message, typing or member event of the room reaches them.
        remove_user_from_room(self.socketio.server, self.state, self.namespace, user.id,
                              chat_room(room.id))
        self.emit("room:removed", {"room": room.id}, to=user_room(user.id))
        self.emit("member:left", {"room": room.id, "user": user.to_dict(), "removed": True,
                                  "by": self._me(conn)}, to=chat_room(room.id))
        return {}

    @event("room:update", s.RoomUpdate)
    def room_update(self, conn: Connection, data: s.RoomUpdate):
        room, changes = service.update_room(conn.user_id, conn.is_admin, data.room,
                                            data.name, data.topic)
        if changes:
            # Who renamed what into what; the topic only as "changed" (it is free text).
            audit("room_update", by=conn.username, user_id=conn.user_id, room=room.id,
                  name=list(changes["name"]) if "name" in changes else None,
                  topic_changed="topic" in changes, admin=conn.is_admin)
            self._room_updated(room)
        return {"room": service.room_view(conn.user_id, room)}

    @event("room:archive", s.RoomArchive)
    def room_archive(self, conn: Connection, data: s.RoomArchive):
        room, changed = service.set_archived(conn.user_id, conn.is_admin, data.room,
                                             data.archived)
        if changed:
            audit("room_archive", by=conn.username, user_id=conn.user_id, room=room.id,
                  archived=data.archived, admin=conn.is_admin)
            self._room_updated(room)
        return {"room": service.room_view(conn.user_id, room)}

    @event("dm:open", s.DmOpen)
    def dm_open(self, conn: Connection, data: s.DmOpen):
        """The DM with anyone active, connected or not. A new one appears in the
        other person's list with its first message (``message_send``), not
        before: opening a DM and writing nothing bothers nobody. Their open
        tabs enter the room now, so that first message reaches them live."""
        room, other, created = service.open_dm(conn.user_id, data.username)
        self.join(conn, chat_room(room.id))
        if created:
            audit("dm_opened", by=conn.username, user_id=conn.user_id, room=room.id,
                  target=other.username, target_id=other.id)
            self._enter_everywhere(other.id, room.id)
        return {"room": service.room_view(conn.user_id, room)}

    # -- people ---------------------------------------------------------------
    @event("users:list", s.UsersList)
    def users_list(self, conn: Connection, data: s.UsersList):
        users, has_more = people.directory(data.q)
        online = self.state.online_user_ids(self.namespace)
        return {"users": [{**u.to_dict(), "online": u.id in online} for u in users],
                "has_more": has_more}

    @event("profile:update", s.ProfileUpdate)
    def profile_update(self, conn: Connection, data: s.ProfileUpdate):
        user, changed = people.update_profile(conn.user_id, data.display_name, data.status)
        if changed:
            audit("profile_update", user=conn.username, user_id=conn.user_id, fields=changed)
            # Everyone sharing a room, and the user's own tabs: one emit, one
            # copy per socket, every process.
            rooms = [chat_room(r) for r in service.shared_room_ids(conn.user_id)]
            self.emit("user:updated", user.to_dict(), to=[*rooms, user_room(conn.user_id)])
        return {"user": user.to_dict()}

    # -- messages -----------------------------------------------------------
    @event("message:send", s.MessageSend, limit="messages")
    def message_send(self, conn: Connection, data: s.MessageSend):
        sent = service.send_message(conn.user_id, data.room, data.text, data.client_id)
        message = sent.message
        if sent.duplicate:
            return {"message": message, "duplicate": True}
        # Stored and committed: now the ack (returned) and the broadcast.
        metrics.MESSAGES_STORED.inc()
        self.emit("message", message, to=chat_room(data.room))
        if message["seq"] == 1:
            self._first_message(conn, data.room)
        return {"message": message}

    def _first_message(self, conn: Connection, room_id: int) -> None:
        """The first message of a DM: the other person's tabs get ``room:added``
        (their view: ``unread`` already counts it), after the ``message``
        itself, so their list and unread badge show it at once. Every tab on
        every process, through ``user:<id>``. Not on the hot path: seq 1 only."""
        room = service.get_room(room_id)
        if room.kind != "dm":
            return
        for uid in service.room_member_ids(room_id) - {conn.user_id}:
            self.emit("room:added", service.room_view(uid, room), to=user_room(uid))

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
