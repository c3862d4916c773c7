"""The /admin namespace: operator figures, kick and announce (admins only)."""
from __future__ import annotations

from blueprints.admin import schemas as s
from blueprints.admin import service
from blueprints.chat.events import system_message
from audit import audit
from errors import BadRequest, NotFound
from realtime.housekeeping import ROUND_SECONDS
from realtime.namespace import AppNamespace, event
from realtime.closing import disconnect_user
from realtime.rooms import ADMINS
from realtime.state import Connection
from textnorm import is_blank


class AdminNamespace(AppNamespace):
    admin_only = True

    def connected(self, conn: Connection, first: bool) -> None:
        self.enter_room(conn.sid, ADMINS)
        if not self.app.extensions.get("switchboard.admin_push"):
            self.app.extensions["switchboard.admin_push"] = True
            self.socketio.start_background_task(self._push_loop)

    def _push_loop(self) -> None:
        """Push stats every 2 s to this process's admins (each process pushes to its own)."""
        while True:
            self.socketio.sleep(ROUND_SECONDS)
            local = [c for c in self.state.local_connections() if c.namespace == self.namespace]
            if not local:
                continue
            try:
                with self.app.app_context():
                    figures = service.stats(self.state)
                for conn in local:
                    self.emit("stats", figures, to=conn.sid)
            except Exception:
                self.app.logger.exception("admin stats push failed")

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
            raise NotFound(f"No user named {data.username!r}.")
        count = disconnect_user(user.id, reason=f"kicked by {conn.username}")
        audit("kick", by=conn.username, user=user.username, user_id=user.id, sockets=count,
              ip=conn.ip, sid=conn.sid)
        return {"disconnected": count}

    @event("announce", s.Announce)
    def announce(self, conn: Connection, data: s.Announce):
        text = data.text  # trimmed and at most MAX_ANNOUNCEMENT long (the schema)
        if is_blank(text):  # only invisible characters: an announcement nobody sees
            raise BadRequest("text: must not be empty")
        message = system_message(text)
        self.socketio.emit("system", message, namespace="/chat")
        audit("announce", by=conn.username, ip=conn.ip, sid=conn.sid, chars=len(text))
        return {"announcement": message}
