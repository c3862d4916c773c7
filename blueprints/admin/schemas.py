"""Payloads of the /admin events (PROTOCOL section 6)."""
from typing import Annotated

from pydantic import Field

from realtime.schemas import Payload


class Empty(Payload):
    pass


class Kick(Payload):
    username: Annotated[str, Field(min_length=1, max_length=64)]


class Announce(Payload):
    text: Annotated[str, Field(min_length=1, max_length=1_000_000)]
