"""``user:updated`` for a changed profile, from wherever it changed: the
avatar upload (people's routes) and the account page's profile form (auth's
account.py). The chat's ``profile:update`` event sends the same from its
namespace. One module both import, so neither imports the other's adapter."""
from __future__ import annotations

from blueprints.chat import service as chat_service
from extensions import socketio
from realtime.rooms import chat_room, user_room


def announce_user_updated(user) -> None:
    """``user:updated`` (User) to everyone sharing a room with ``user``, and
    to their own tabs: one emit, so a socket in several of those rooms gets
    one copy; through the message queue it reaches every process."""
    rooms = [chat_room(r) for r in chat_service.shared_room_ids(user.id)]
    socketio.emit("user:updated", user.to_dict(), to=[*rooms, user_room(user.id)],
                  namespace="/chat")
