"""Shared pieces of event payload schemas."""
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

# Ids are positive ints that fit a 64-bit column; strict mode refuses "5" and true.
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]
ClientId = Annotated[str, Field(min_length=1, max_length=64)]


class Payload(BaseModel):
    """Base of every event payload: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
