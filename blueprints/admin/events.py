"""The /admin namespace: operator figures, kick and announce (admins only)."""
from __future__ import annotations

from audit import audit
from blueprints.admin import schemas as s
from blueprints.admin import service
from blueprints.chat import service as chat_service
from errors import Forbidden, NotFound
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
        if user.id == conn.user_id:
            # It would shut the admin out of this console for KICK_BLOCK_SECONDS.
            raise Forbidden(_l("You cannot kick yourself."))
        # The block first: a client that reconnects the moment it is cut must
        # already find it, on whichever process it lands (shared state).
        seconds = self.settings.KICK_BLOCK_SECONDS
        self.state.block_user(user.id, seconds)
        count = disconnect_user(user.id, reason=f"kicked by {conn.username}")
        audit("kick", by=conn.username, user=user.username, user_id=user.id, sockets=count,
              ip=conn.ip, sid=conn.sid, block_seconds=seconds)
        return {"disconnected": count, "blocked_seconds": seconds}

    @event("users", s.Empty)
    def users(self, conn: Connection, data: s.Empty):
        return {"users": service.user_table(self.state)}

    @event("user:disable", s.SetDisabled)
    def user_disable(self, conn: Connection, data: s.SetDisabled):
        user = service.set_disabled(conn.user_id, data.username, data.disabled)
        # set_disabled ended the sessions (epoch) and revoked the tokens; the
        # sockets close here, on every process (a missed one: housekeeping).
        count = disconnect_user(user.id, reason="disabled") if data.disabled else 0
        audit("user_disabled" if data.disabled else "user_enabled", by=conn.username,
              user=user.username, user_id=user.id, sockets=count, ip=conn.ip, sid=conn.sid)
        return {"user": self._row(user)}

    @event("user:admin", s.SetAdmin)
    def user_admin(self, conn: Connection, data: s.SetAdmin):
        was = self._admin_of(data.username)
        user = service.set_admin(conn.user_id, data.username, data.admin)
        count = 0
        if was and not data.admin:
            # Their sockets carry is_admin from connect (deleting others'
            # messages, /admin itself): close them; they come back as members.
            count = disconnect_user(user.id, reason="admin_revoked")
        audit("admin_granted" if data.admin else "admin_revoked", by=conn.username,
              user=user.username, user_id=user.id, sockets=count, ip=conn.ip, sid=conn.sid)
        return {"user": self._row(user)}

    def _row(self, user) -> dict:
        return service.user_row(user, sum(1 for c in self.state.connections()
                                          if c.user_id == user.id))

    @staticmethod
    def _admin_of(username: str) -> bool:
        user = service.find_user(username)
        return bool(user and user.is_admin)

    # -- invite links (PROTOCOL section 15) -------------------------------
    @event("invites", s.Empty)
    def invites(self, conn: Connection, data: s.Empty):
        from blueprints.auth import invites

        return {"invites": [invites.to_dict(i) for i in invites.list_all()]}

    @event("invite:create", s.InviteCreate)
    def invite_create(self, conn: Connection, data: s.InviteCreate):
        from blueprints.auth import invites
        from extensions import db
        from models import User

        invite = invites.create(db.session.get(User, conn.user_id), uses=data.uses,
                                days=data.days)
        audit("invite_created", by=conn.username, invite=invite.id, uses=data.uses,
              days=data.days, ip=conn.ip, sid=conn.sid)
        return {"invite": invites.to_dict(invite)}

    @event("invite:revoke", s.InviteRevoke)
    def invite_revoke(self, conn: Connection, data: s.InviteRevoke):
        from blueprints.auth import invites

        invite = invites.revoke(data.code)
        audit("invite_revoked", by=conn.username, invite=invite.id, ip=conn.ip, sid=conn.sid)
        return {"invite": invites.to_dict(invite)}

    @event("announce", s.Announce)
    def announce(self, conn: Connection, data: s.Announce):
        # data.text: trimmed and at most MAX_ANNOUNCEMENT long (the schema)
        text = service.announcement_text(data.text)
        message = chat_service.system_message(text)
        self.socketio.emit("system", message, namespace="/chat")
        audit("announce", by=conn.username, ip=conn.ip, sid=conn.sid, chars=len(text))
        return {"announcement": message}
