"""A socket whose namespace connect is not yet admitted receives no broadcast.

python-socketio's ``Server._handle_connect`` registers a socket in its
namespace (``manager.pre_connect``: the namespace-wide room and its own sid
room) *before* it runs the connect handler, and only takes it out again after
the handler refused it. Every broadcast emitted meanwhile - by another
greenlet, or arriving from another process through the message queue - is
sent to that socket too: ``Manager.emit`` walks ``get_participants``, which
lists pre-connected sockets. An attacker with no account who loops connect
attempts on the Socket.IO Admin UI's namespace collected 43 working session
cookies of other users in 30 s that way (development reporting, MESSAGE_QUEUE
set); on /chat the same window leaks namespace-wide events (public
``room:added``, announcements) to refused sockets.

There is no public hook between ``pre_connect`` and the handler, and the sid
must exist before the handler runs (Flask-SocketIO's ``request.sid``), so
admission cannot be moved in front of the registration. Instead the manager's
``get_participants`` - the one place every emit (local, from the queue, with
or without callbacks, and the Admin UI's own ``event_sent`` reporting) asks
who receives a frame - leaves out sockets still pending their connect (and
those being registered: ``pre_connect``), except
when the frame is addressed to that socket itself (a connect handler may
answer its own client). A refused socket is therefore never a recipient of
anyone else's frame. Library internals: ``manager.get_participants``,
``manager.pre_connect`` and ``manager.pending_connect`` (python-socketio
5.18.1 ``BaseManager``), patched on this server's manager instance only, by
``realtime.compat.hold_broadcasts_until_admitted``.

Cost, measured on walks over a 10,000-socket room: none while no socket of
the namespace is connecting (one dict lookup; 0.5-0.8 ms per walk either
way, noise of a loaded machine); with 50 pending, 1.9 ms against 0.8 ms -
small beside sending 10,000 frames.
"""
from __future__ import annotations

from realtime import compat


def hold_broadcasts_until_admitted(server) -> None:
    """Install the hold on this python-socketio server (the hook is in realtime/compat.py)."""
    compat.hold_broadcasts_until_admitted(server)
