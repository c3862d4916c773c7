"""Socket.IO room names, and taking one user's sockets out of a room.

Room names: every room a socket sits in is built here, once. Before, three
modules each built ``user:<id>`` (namespace.py at connect, chat's and
market's adapters when emitting): a typo in one would have sent a user's
messages to nobody, silently.

Taking a user out of a room (or putting them in), on every process:

Leaving a room (and, later, being removed from one) must end delivery to
every tab of the user, not only to the socket that asked: before this, the
user's other tabs kept receiving the room's live messages after
``room:leave`` (history already refused them).

python-socketio's managers have no "every socket of user U" operation across
processes: ``Manager.get_participants(ns, "user:<id>")`` sees only this
process's sockets, and ``PubSubManager`` propagates ``enter_room`` /
``leave_room`` per sid only. So the sids come from the shared connection
state (``ConnectionState.user_sids``: an index kept with every connect and
disconnect), and each goes to the public ``Server.leave_room``: a local sid
leaves at once; for a sid on another process the manager publishes a
``leave_room`` on the deployment's queue channel, which that process applies.

Ordering: that publish goes out on the same channel, from this process,
before anything this process emits afterwards (the ack, ``member:left``, the
next message), and Redis delivers one channel's messages in order; so no
later broadcast to the room can overtake the leave on any process.

Known window (not closed, for the cost of a query per connect): a tab of the
user that is connecting at this very moment, past its admission but before
it joined its rooms, may join the room from a membership read made just
before the leave committed; it leaves at its next reconnect.
"""
from __future__ import annotations

from realtime.state import ConnectionState

#: Operators' sockets on /admin (stats pushes).
ADMINS = "admins"


def user_room(user_id: int) -> str:
    """Every socket (every tab) of one user, in any namespace: joined at connect."""
    return f"user:{user_id}"


def chat_room(room_id: int) -> str:
    """The sockets of a chat room's members on /chat."""
    return f"room:{room_id}"


def symbol_room(symbol: str) -> str:
    """The sockets subscribed to one market symbol's quotes on /market."""
    return f"symbol:{symbol}"


def remove_user_from_room(server, state: ConnectionState, namespace: str, user_id: int,
                          room: str) -> int:
    """Every socket of ``user_id`` in ``namespace`` leaves ``room``, everywhere.

    Returns how many sockets were addressed. Idempotent: a socket that is not
    in the room, or is gone, is left alone.
    """
    sids = state.user_sids(user_id, namespace)
    for sid in sids:
        server.leave_room(sid, room, namespace=namespace)
    return len(sids)


def add_user_to_room(server, state: ConnectionState, namespace: str, user_id: int,
                     room: str) -> int:
    """Every socket of ``user_id`` in ``namespace`` enters ``room``, everywhere.

    The counterpart of ``remove_user_from_room``, for a user who becomes a
    member while connected (invited, added to a new private room, the other
    side of a new DM): their open tabs receive the room's messages at once,
    instead of only after their next reconnect. Same ordering guarantee: the
    ``enter_room`` for a sid on another process is published before anything
    this process emits afterwards. Returns how many sockets were addressed.
    """
    sids = state.user_sids(user_id, namespace)
    for sid in sids:
        try:
            server.enter_room(sid, room, namespace=namespace)
        except (KeyError, ValueError):  # disconnected since the state listed it
            pass
    return len(sids)
