"""Payloads of the /chat events (PROTOCOL section 4)."""
from typing import Annotated, Literal

from pydantic import Field

from realtime.schemas import ClientId, Id, Payload

Username = Annotated[str, Field(min_length=1, max_length=64)]
# The length rule in characters after trimming is the service's (it is a
# setting and answers too_large); this bound only stops absurd payloads early.
Text = Annotated[str, Field(max_length=1_000_000)]


class Empty(Payload):
    pass


class RoomCreate(Payload):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    kind: Literal["public", "private"] = "public"
    members: Annotated[list[Username], Field(max_length=100)] = []


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
