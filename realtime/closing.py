"""Closing live connections: logout, password change, disable, kick, expiry.

(Named for what it does: it was ``sessions.py``, which read like the login
sessions of blueprints/auth.)
"""
from __future__ import annotations

from flask import current_app

from audit import audit
from extensions import socketio
from realtime import compat
from realtime.state import Connection


def close_connection(sio, conn: Connection, local: bool, reconnect: bool = False) -> None:
    """Close one connection.

    ``reconnect``: close only the Engine.IO transport, which clients take for
    a network drop: they reconnect, and authenticate again, by themselves
    (connection age). Otherwise the namespace is disconnected first (clients
    then stay away) and, when this process holds the connection, the
    transport is closed too: a client that kept an Engine.IO session open
    with no namespace would keep its slot. A connection held by another
    process is disconnected through the message queue.
    """
    eio_sid = sio.server.manager.eio_sid_from_sid(conn.sid, conn.namespace) if local else None
    if not reconnect or eio_sid is None:
        sio.server.disconnect(conn.sid, namespace=conn.namespace)
    if eio_sid is not None:
        # Not python-engineio's Server.disconnect: it closes with wait=True, and
        # for a long-polling client blocks until the client fetches the close
        # packet, which it may never do (a socket.io client that has just lost
        # its last namespace stops polling): that blocked the logout request
        # for good.
        compat.close_session_now(sio.server.eio, eio_sid)


def disconnect_user(user_id: int, reason: str, keep_personal_tokens: bool = False) -> int:
    """Disconnect every socket of the user, in every namespace and process.

    ``keep_personal_tokens``: leave the sockets opened with a personal access
    token (log out everywhere, password change: those tokens stay valid, see
    blueprints/auth/tokens.py)."""
    state = current_app.extensions["switchboard.state"]
    count = 0
    for conn in state.connections():
        if conn.user_id == user_id and not (keep_personal_tokens and conn.token_id is not None):
            close_connection(socketio, conn, local=state.get(conn.sid, conn.namespace) is not None)
            count += 1
    if count:
        audit("disconnect_user", user_id=user_id, reason=reason, sockets=count)
    return count


def disconnect_token(token_id: int, reason: str) -> int:
    """Disconnect every socket opened with this personal token, every process."""
    state = current_app.extensions["switchboard.state"]
    count = 0
    for conn in state.connections():
        if conn.token_id == token_id:
            close_connection(socketio, conn, local=state.get(conn.sid, conn.namespace) is not None)
            count += 1
    if count:
        audit("disconnect_token", token_id=token_id, reason=reason, sockets=count)
    return count
