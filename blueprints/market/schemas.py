"""Payloads of the /market events (PROTOCOL section 5).

Strict types (``Payload``): ``quantity`` must be a JSON integer, so ``"5"``,
``5.0`` and ``true`` are refused. What needs the configuration (known
symbols) or several fields at once (limit price rules) is checked in
``service.validate_order``, which names the field in its message.
"""
from typing import Annotated, Literal

from pydantic import Field

from realtime.schemas import ClientId, Id, Payload

Symbol = Annotated[str, Field(min_length=1, max_length=16)]
Symbols = Annotated[list[Symbol], Field(min_length=1, max_length=50)]


class Empty(Payload):
    pass


class SymbolList(Payload):
    symbols: Symbols


class TradeRequest(Payload):
    symbol: Symbol
    side: Literal["BUY", "SELL"]
    quantity: Annotated[int, Field(ge=1, le=10_000)]
    type: Literal["market", "limit"] = "market"
    limit_price: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    client_id: ClientId


class TradeRef(Payload):
    id: Id
