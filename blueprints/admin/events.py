"""The /admin namespace: operator figures, kick and announce (admins only)."""
from __future__ import annotations

from audit import audit
from blueprints.admin import schemas as s
from blueprints.admin import service
from blueprints.chat import service as chat_service
from errors import NotFound
from i18n import _l
from realtime.closing import disconnect_user
from realtime.namespace import AppNamespace, event
from realtime.rooms import ADMINS
from realtime.state import Connection


class AdminNamespace(AppNamespace):
    admin_only = True

    def connected(self, conn: Connection, first: bool) -> None:
        self.enter_room(conn.sid, ADMINS)

    def each_round(self) -> None:
        """Push stats to this process's admins (each process pushes to its own).

        A housekeeping step, so every ROUND_SECONDS, right after the round
        published this process's figures; before, a second loop of its own."""
        local = [c for c in self.state.local_connections() if c.namespace == self.namespace]
        if not local:
            return
        figures = service.stats(self.state)
        for conn in local:
            self.emit("stats", figures, to=conn.sid)

    @event("stats", s.Empty)
    def stats(self, conn: Connection, data: s.Empty):
        return service.stats(self.state)

    @event("connections", s.Empty)
    def connections(self, conn: Connection, data: s.Empty):
        return {"connections": service.connection_table(self.state)}

    @event("kick", s.Kick)
    def kick(self, conn: Connection, data: s.Kick):
        user = service.find_user(data.username)
        if user is None:
            raise NotFound(_l("No user named %(name)r.", name=data.username))
        count = disconnect_user(user.id, reason=f"kicked by {conn.username}")
        audit("kick", by=conn.username, user=user.username, user_id=user.id, sockets=count,
              ip=conn.ip, sid=conn.sid)
        return {"disconnected": count}

    @event("announce", s.Announce)
    def announce(self, conn: Connection, data: s.Announce):
        # data.text: trimmed and at most MAX_ANNOUNCEMENT long (the schema)
        text = service.announcement_text(data.text)
        message = chat_service.system_message(text)
        self.socketio.emit("system", message, namespace="/chat")
        audit("announce", by=conn.username, ip=conn.ip, sid=conn.sid, chars=len(text))
        return {"announcement": message}
