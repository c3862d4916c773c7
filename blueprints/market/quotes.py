"""Quotes: the two quote sources and the shared quote book.

Both sources produce ``Quote`` objects and write them to the ``QuoteBook``;
nothing else writes quotes:

- ``RandomWalk``: the simulator. A seeded random walk per symbol, stepped by
  the process that holds the feed lease. Prices move in whole cents, so no
  float ever becomes money; the random source and the clock are injected.
- ``parse_published`` + ``flask market publish``: an external feed handler
  writes one JSON object per line; each becomes a Quote in the book.

The book holds only the newest quote per symbol, with a version number that
grows with every write. The feed loop (feed.py) reads it every tick to match
limit orders and to push quotes to subscribers, so a symbol that changed
five times within a tick is pushed once, with its newest price (conflation
at the source). ``MemoryBook`` serves one process; ``RedisBook`` serves
several and the publisher CLI (MESSAGE_QUEUE set). Neither knows Socket.IO.
"""
from __future__ import annotations

import json
import random
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import cast

from models import iso, utcnow
from money import MAX_PRICE, from_cents, money, parse_money, percent, to_cents

MAX_VOLUME = 10**15


# -- the quote ---------------------------------------------------------------------

@dataclass(frozen=True)
class Quote:
    """The newest known price of a symbol.

    ``open`` is the reference the change is measured from (the first price
    of the session); ``volume`` the shares traded in the session so far.
    """

    symbol: str
    price: Decimal
    open: Decimal
    volume: int
    ts: datetime

    @property
    def change(self) -> Decimal:
        return self.price - self.open

    def to_dict(self) -> dict:
        """The Quote of PROTOCOL section 5."""
        return {
            "symbol": self.symbol,
            "price": money(self.price),
            "change": money(self.change),
            "change_pct": money(percent(self.change, self.open)),
            "volume": self.volume,
            "ts": iso(self.ts),
        }

    def to_json(self) -> str:
        return json.dumps({"symbol": self.symbol, "price": money(self.price),
                           "open": money(self.open), "volume": self.volume,
                           "ts": self.ts.astimezone(UTC).isoformat()})

    @classmethod
    def from_json(cls, raw: str) -> Quote:
        d = json.loads(raw)
        return cls(symbol=d["symbol"], price=Decimal(d["price"]), open=Decimal(d["open"]),
                   volume=int(d["volume"]), ts=datetime.fromisoformat(d["ts"]))


@dataclass(frozen=True)
class Stored:
    """A quote in the book and the version it was written with."""

    version: int
    quote: Quote


# -- source 1: the simulator ----------------------------------------------------------

class RandomWalk:
    """A seeded random walk per symbol, in whole cents.

    Each step moves the price by a normally distributed fraction of itself
    (``volatility`` per step, default 0.2 %, slightly mean-reverting towards
    the open so a long-running demo does not drift off to zero or the moon),
    rounded to the cent, never below 1 cent. Volume grows by a log-normal
    number of round lots (100 shares) per step, as a busy ticker's does.

    The walk continues from the book's current quote when there is one, so a
    process that takes over the feed lease carries on where the last left off.
    """

    def __init__(self, symbols: Iterable[tuple[str, Decimal | None]], rng: random.Random,
                 clock: Callable[[], datetime] = utcnow, volatility: float = 0.002) -> None:
        self.rng = rng
        self.clock = clock
        self.volatility = volatility
        self.start: dict[str, Decimal] = {}
        for symbol, price in symbols:
            # Symbols without a configured price start somewhere between 10 and 500.
            self.start[symbol] = price if price is not None else (
                from_cents(self.rng.randrange(1000, 50000)))

    def first(self, symbol: str) -> Quote:
        price = self.start[symbol]
        return Quote(symbol, price, price, 0, self.clock())

    def step(self, prev: Quote) -> Quote:
        cents = to_cents(prev.price)
        open_cents = to_cents(prev.open)
        pull = 0.02 * (open_cents - cents) / max(cents, 1)  # gentle mean reversion
        move = round(cents * (self.rng.gauss(0.0, self.volatility) + pull * self.volatility))
        new_cents = max(1, min(cents + move, to_cents(MAX_PRICE)))
        lots = int(self.rng.lognormvariate(1.5, 0.9)) + 1
        return replace(prev, price=from_cents(new_cents),
                       volume=min(prev.volume + lots * 100, MAX_VOLUME), ts=self.clock())

    def next_quotes(self, current: dict[str, Stored]) -> list[Quote]:
        """One tick: a new quote for every symbol (the first one at its start price)."""
        out = []
        for symbol in self.start:
            stored = current.get(symbol)
            out.append(self.step(stored.quote) if stored else self.first(symbol))
        return out


# -- source 2: the external publisher ----------------------------------------------------

class PublishError(ValueError):
    """A published line that is not a valid quote."""


def parse_published(line: str, symbols: Iterable[str],
                    previous: Callable[[str], Quote | None] = lambda symbol: None,
                    clock: Callable[[], datetime] = utcnow) -> Quote:
    """One JSON line from a feed handler -> a Quote.

    ``{"symbol": "ACME", "price": "101.25", "volume"?: int, "open"?: "100.00",
    "ts"?: ISO-8601}``. Prices are decimal strings (JSON numbers are read as
    decimals, never floats). ``previous(symbol)`` gives the symbol's current
    quote, if any: ``open`` defaults to its open,
    or this price for the first quote of a symbol; ``volume`` to the previous
    volume; ``ts`` to now.
    """
    try:
        data = json.loads(line, parse_float=Decimal, parse_int=Decimal)
    except ValueError as exc:
        raise PublishError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PublishError("each line must be a JSON object")
    extra = set(data) - {"symbol", "price", "volume", "open", "ts"}
    if extra:
        raise PublishError(f"unknown field(s): {', '.join(sorted(extra))}")
    symbol = data.get("symbol")
    if not isinstance(symbol, str) or symbol not in set(symbols):
        raise PublishError(f"symbol: {symbol!r} is not one of MARKET_SYMBOLS")
    prev = previous(symbol)

    def amount(field: str) -> Decimal:
        if field not in data:
            raise PublishError(f'{field}: required, a decimal string like "101.25"')
        raw = data[field]
        if isinstance(raw, Decimal):
            raw = str(raw)
        try:
            return parse_money(raw, field)
        except ValueError as exc:
            raise PublishError(str(exc)) from None

    price = amount("price")
    open_ = amount("open") if "open" in data else (prev.open if prev else price)
    volume = data.get("volume", Decimal(prev.volume if prev else 0))
    if (not isinstance(volume, Decimal) or volume != volume.to_integral_value()
            or not 0 <= volume <= MAX_VOLUME):
        raise PublishError(f"volume: a whole number from 0 to {MAX_VOLUME}")
    ts = clock()
    if "ts" in data:
        try:
            ts = datetime.fromisoformat(str(data["ts"]).replace("Z", "+00:00"))
        except ValueError:
            raise PublishError("ts: an ISO-8601 time like 2026-01-02T03:04:05Z") from None
        if ts.tzinfo is None:
            raise PublishError("ts: needs a time zone (e.g. a trailing Z)")
    return Quote(symbol, price, open_, int(volume), ts)


# -- the book ---------------------------------------------------------------------------

class QuoteBook(ABC):
    """The newest quote per symbol, shared by every process of the cluster."""

    @abstractmethod
    def put_many(self, quotes: list[Quote]) -> int:
        """Store quotes (each replaces its symbol's); return the newest version."""

    @abstractmethod
    def all(self) -> dict[str, Stored]:
        """Every symbol's newest quote."""

    @abstractmethod
    def get(self, symbol: str) -> Stored | None:
        """One symbol's newest quote."""

    def put(self, quote: Quote) -> int:
        return self.put_many([quote])

    def last_price(self, symbol: str) -> Decimal | None:
        stored = self.get(symbol)
        return stored.quote.price if stored else None

    @abstractmethod
    def clear(self) -> None:
        """Forget every quote (tests, and a fresh simulated session)."""


class MemoryBook(QuoteBook):
    """One process: a dict behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._quotes: dict[str, Stored] = {}
        self._version = 0

    def put_many(self, quotes: list[Quote]) -> int:
        with self._lock:
            for quote in quotes:
                self._version += 1
                self._quotes[quote.symbol] = Stored(self._version, quote)
            return self._version

    def all(self) -> dict[str, Stored]:
        with self._lock:
            return dict(self._quotes)

    def get(self, symbol: str) -> Stored | None:
        return self._quotes.get(symbol)

    def clear(self) -> None:
        with self._lock:
            self._quotes.clear()


# Writes every quote with the next version number in one atomic step.
_PUT = """
local v = 0
for i = 1, #ARGV, 2 do
  v = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], ARGV[i], v .. '|' .. ARGV[i + 1])
end
return v
"""


class RedisBook(QuoteBook):
    """Several processes and the publisher CLI: one Redis hash, symbol -> "version|json"."""

    KEY = "sb:market:quotes"
    VERSION_KEY = "sb:market:version"

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                          health_check_interval=30)
        self._put = self.redis.register_script(_PUT)

    def put_many(self, quotes: list[Quote]) -> int:
        if not quotes:
            return 0
        args: list[str] = []
        for quote in quotes:
            args += [quote.symbol, quote.to_json()]
        return int(self._put(keys=[self.KEY, self.VERSION_KEY], args=args))

    @staticmethod
    def _decode(raw: str) -> Stored:
        version, _, body = raw.partition("|")
        return Stored(int(version), Quote.from_json(body))

    def all(self) -> dict[str, Stored]:
        stored = cast("dict[str, str]", self.redis.hgetall(self.KEY))  # decode_responses
        return {s: self._decode(raw) for s, raw in stored.items()}

    def get(self, symbol: str) -> Stored | None:
        raw = cast("str | None", self.redis.hget(self.KEY, symbol))  # decode_responses
        return self._decode(raw) if raw else None

    def clear(self) -> None:
        self.redis.delete(self.KEY)


def make_book(message_queue: str | None) -> QuoteBook:
    return RedisBook(message_queue) if message_queue else MemoryBook()


def make_rng(seed: int | None) -> tuple[random.Random, int]:
    """The simulator's random source and the seed it was made from (for the log)."""
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    return random.Random(seed), seed
