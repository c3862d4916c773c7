"""Payloads of the /chat events (PROTOCOL sections 4 and 15)."""
from typing import Annotated, Literal

from pydantic import Field

from realtime.schemas import ClientId, Id, Payload

Username = Annotated[str, Field(min_length=1, max_length=64)]
# The length rule in characters after trimming is the service's (it is a
# setting and answers too_large); this bound only stops absurd payloads early.
Text = Annotated[str, Field(max_length=1_000_000)]


class Empty(Payload):
    pass


RoomName = Annotated[str, Field(min_length=1, max_length=64)]
# Limits of PROTOCOL section 9 (the services check them again after trimming,
# and the database has CHECK constraints for them).
Topic = Annotated[str, Field(max_length=250)]
DisplayName = Annotated[str, Field(max_length=64)]
Status = Annotated[str, Field(max_length=80)]


class RoomsList(Payload):
    # false: the rooms in use; true: only the archived ones (listed apart).
    archived: bool = False


class RoomCreate(Payload):
    name: RoomName
    kind: Literal["public", "private"] = "public"
    # Private rooms only: the other first members. At most 100 per call
    # (invite more afterwards); MAX_ROOM_MEMBERS bounds the room itself.
    members: Annotated[list[Username], Field(max_length=100)] = []
    topic: Topic = ""


class RoomUpdate(Payload):
    room: Id
    name: RoomName | None = None
    topic: Topic | None = None


class RoomArchive(Payload):
    room: Id
    archived: bool


class RoomRemove(Payload):
    room: Id
    username: Username


class UsersList(Payload):
    # Case-insensitive part of a username or display name; empty: everyone.
    q: Annotated[str, Field(max_length=64)] = ""


class ProfileUpdate(Payload):
    # "" resets display_name to the username; "" clears the status.
    display_name: DisplayName | None = None
    status: Status | None = None


class RoomRef(Payload):
    room: Id


class RoomInvite(Payload):
    room: Id
    username: Username


class DmOpen(Payload):
    username: Username


class MessageSend(Payload):
    room: Id
    text: Text
    client_id: ClientId


class MessageEdit(Payload):
    id: Id
    text: Text


class MessageRef(Payload):
    id: Id


class History(Payload):
    room: Id
    before_seq: Annotated[int, Field(ge=1)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class Sync(Payload):
    # JSON object keys are strings: {"<room id>": last_rev_seen}
    rooms: Annotated[dict[Annotated[str, Field(pattern=r"^[1-9][0-9]{0,17}$")],
                          Annotated[int, Field(ge=0)]], Field(max_length=1000)]


class Read(Payload):
    room: Id
    seq: Annotated[int, Field(ge=0)]


class Typing(Payload):
    room: Id
    typing: bool
