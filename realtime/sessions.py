"""Ending a user's live connections (logout, password change, disable, kick)."""
from __future__ import annotations

from flask import current_app

from extensions import socketio
from realtime.audit import audit


def disconnect_user(user_id: int, reason: str) -> int:
    """Disconnect every socket of the user, in every namespace and process.

    With a message queue python-socketio forwards the disconnect of a sid
    held by another process to that process.
    """
    state = current_app.extensions["switchboard.state"]
    count = 0
    for conn in state.connections():
        if conn.user_id == user_id:
            socketio.server.disconnect(conn.sid, namespace=conn.namespace)
            count += 1
    if count:
        audit("disconnect_user", user_id=user_id, reason=reason, sockets=count)
    return count
