"""Payloads of the /admin events (PROTOCOL section 6)."""
from typing import Annotated

from pydantic import Field, StringConstraints

from realtime.schemas import Payload

# What fits the admin page's banner; the page's input has the same maxlength.
MAX_ANNOUNCEMENT = 1000


class Empty(Payload):
    pass


class Kick(Payload):
    username: Annotated[str, Field(min_length=1, max_length=64)]


class Announce(Payload):
    # Trimmed first, then measured: surrounding white space neither counts nor is sent.
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=MAX_ANNOUNCEMENT)]


class SetDisabled(Payload):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    disabled: bool


class SetAdmin(Payload):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    admin: bool


class InviteCreate(Payload):
    # The same bounds as `flask invites create` (blueprints/auth/invites.py).
    uses: Annotated[int, Field(ge=1, le=1000)] = 1
    days: Annotated[int, Field(ge=1, le=365)] = 7


class InviteRevoke(Payload):
    code: Annotated[str, Field(min_length=1, max_length=64)]
