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

The book also keeps what a page that loads later needs to look the same as
one that was open all along: the recent **history** of every symbol (the
chart's last ten minutes, see ``HISTORY_SECONDS``) and the **last fills**
(the market activity, see ``ACTIVITY_SIZE``). Both are written where the
quotes and the fills are, so the simulator, the publisher CLI and every
process of a cluster feed the same history.
"""
from __future__ import annotations

import bisect
import json
import random
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import cast

from models import iso, utcnow
from money import MAX_PRICE, from_cents, money, parse_money, percent, to_cents

MAX_VOLUME = 10**15
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The chart's window. The history keeps at most one point per symbol and
# second (the newest written in that second) over the last HISTORY_SECONDS
# of that symbol's quotes: at most 600 points per symbol, whatever
# MARKET_INTERVAL is (0.05 s would otherwise mean 12,000) and however fast a
# feed handler publishes. A page cannot draw more than one point per second
# on a ten-minute chart anyway, and 600 points of ~25 bytes keep the
# ``history`` answer for all 50 symbols allowed under a megabyte.
HISTORY_SECONDS = 600
# The market activity a page shows: the newest fills, no more (no user identity).
ACTIVITY_SIZE = 50


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

    def point(self) -> tuple[int, int, str]:
        """This quote as a history point: (second, ts in ms since the epoch, price)."""
        # Integer arithmetic, no float rounding: the page matches points by ms.
        ms = (self.ts - EPOCH) // timedelta(milliseconds=1)
        return ms // 1000, ms, money(self.price)

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

    @abstractmethod
    def history(self, symbols: Iterable[str]) -> dict[str, list[list]]:
        """Each symbol's recent points, oldest first: ``[[ts_ms, "price"], ...]``.

        At most one point per second over the last ``HISTORY_SECONDS`` before
        the symbol's newest point (not before now: a feed that paused still
        shows its last ten minutes). Symbols without quotes get ``[]``.
        """

    @abstractmethod
    def add_fill(self, activity: dict) -> dict:
        """Keep a fill (a ``market:activity`` payload); return it with its ``seq``.

        ``seq`` grows with every fill, so a page that loaded the list and
        also received the same fill live keeps it once.
        """

    @abstractmethod
    def fills(self) -> list[dict]:
        """The last ``ACTIVITY_SIZE`` fills, newest first."""

    def put(self, quote: Quote) -> int:
        return self.put_many([quote])

    def last_price(self, symbol: str) -> Decimal | None:
        stored = self.get(symbol)
        return stored.quote.price if stored else None

    @abstractmethod
    def clear(self) -> None:
        """Forget every quote, the history and the fills (tests, a fresh simulated session)."""


class MemoryBook(QuoteBook):
    """One process: dicts behind a lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._quotes: dict[str, Stored] = {}
        self._version = 0
        # symbol -> [(second, ts_ms, price)], sorted by second, one per second
        self._history: dict[str, list[tuple[int, int, str]]] = {}
        self._fills: deque[dict] = deque(maxlen=ACTIVITY_SIZE)
        self._fill_seq = 0

    def put_many(self, quotes: list[Quote]) -> int:
        with self._lock:
            for quote in quotes:
                self._version += 1
                self._quotes[quote.symbol] = Stored(self._version, quote)
                self._remember(quote)
            return self._version

    def _remember(self, quote: Quote) -> None:
        """Add a quote to its symbol's history: one point per second, the window only."""
        points = self._history.setdefault(quote.symbol, [])
        point = quote.point()
        if points and point[0] == points[-1][0]:  # the usual case: same second, newest wins
            points[-1] = point
        elif not points or point[0] > points[-1][0]:  # the usual case: a new second
            points.append(point)
        else:  # a published quote with an older ts: into its place
            i = bisect.bisect_left(points, (point[0],))
            if i < len(points) and points[i][0] == point[0]:
                points[i] = point
            else:
                points.insert(i, point)
        oldest = points[-1][0] - HISTORY_SECONDS + 1
        if points[0][0] < oldest:
            del points[:bisect.bisect_left(points, (oldest,))]

    def history(self, symbols: Iterable[str]) -> dict[str, list[list]]:
        with self._lock:
            return {s: [[ms, price] for _, ms, price in self._history.get(s, ())]
                    for s in symbols}

    def add_fill(self, activity: dict) -> dict:
        with self._lock:
            self._fill_seq += 1
            entry = {**activity, "seq": self._fill_seq}
            self._fills.appendleft(entry)
            return entry

    def fills(self) -> list[dict]:
        with self._lock:
            return list(self._fills)

    def all(self) -> dict[str, Stored]:
        with self._lock:
            return dict(self._quotes)

    def get(self, symbol: str) -> Stored | None:
        return self._quotes.get(symbol)

    def clear(self) -> None:
        with self._lock:
            self._quotes.clear()
            self._history.clear()
            self._fills.clear()


# Writes every quote with the next version number, and its history point,
# in one atomic step. KEYS: the quotes hash, the version counter, then the
# history key of each quote; ARGV per quote: symbol, json, second, point.
# A history is a sorted set scored by the second, so "one point per second"
# is "remove that second's point, add this one", and the window is one
# ZREMRANGEBYSCORE below the newest second.
_PUT = """
local v = 0
local window = tonumber(ARGV[1])
local n = 0
for i = 2, #ARGV, 4 do
  n = n + 1
  local key = KEYS[2 + n]
  local sec = tonumber(ARGV[i + 2])
  v = redis.call('INCR', KEYS[2])
  redis.call('HSET', KEYS[1], ARGV[i], v .. '|' .. ARGV[i + 1])
  redis.call('ZREMRANGEBYSCORE', key, sec, sec)
  redis.call('ZADD', key, sec, ARGV[i + 3])
  local newest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (tonumber(newest[2]) - window + 1))
end
return v
"""

# Keeps a fill with the next sequence number; the list holds the newest ACTIVITY_SIZE.
# Entries are "seq|json".
_FILL = """
local seq = redis.call('INCR', KEYS[2])
redis.call('LPUSH', KEYS[1], seq .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
return seq
"""


class RedisBook(QuoteBook):
    """Several processes and the publisher CLI: one Redis hash, symbol -> "version|json"."""

    KEY = "sb:market:quotes"
    VERSION_KEY = "sb:market:version"
    HISTORY_KEY = "sb:market:history:"  # + symbol: sorted set, second -> "ts_ms|price"
    FILLS_KEY = "sb:market:activity"  # list of "seq|json", newest first
    FILL_SEQ_KEY = "sb:market:activity:seq"

    def __init__(self, url: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                          health_check_interval=30)
        self._put = self.redis.register_script(_PUT)
        self._fill = self.redis.register_script(_FILL)

    def put_many(self, quotes: list[Quote]) -> int:
        if not quotes:
            return 0
        keys = [self.KEY, self.VERSION_KEY]
        args: list = [HISTORY_SECONDS]
        for quote in quotes:
            sec, ms, price = quote.point()
            keys.append(self.HISTORY_KEY + quote.symbol)
            args += [quote.symbol, quote.to_json(), sec, f"{ms}|{price}"]
        return int(self._put(keys=keys, args=args))

    def history(self, symbols: Iterable[str]) -> dict[str, list[list]]:
        symbols = list(symbols)
        pipe = self.redis.pipeline(transaction=False)
        for symbol in symbols:
            pipe.zrange(self.HISTORY_KEY + symbol, 0, -1)
        out: dict[str, list[list]] = {}
        for symbol, members in zip(symbols, pipe.execute(), strict=True):
            points = []
            for member in members:
                ms, _, price = member.partition("|")
                points.append([int(ms), price])
            out[symbol] = points
        return out

    def add_fill(self, activity: dict) -> dict:
        seq = self._fill(keys=[self.FILLS_KEY, self.FILL_SEQ_KEY],
                         args=[json.dumps(activity), ACTIVITY_SIZE])
        return {**activity, "seq": int(seq)}

    def fills(self) -> list[dict]:
        out = []
        raws = cast("list[str]", self.redis.lrange(self.FILLS_KEY, 0, ACTIVITY_SIZE - 1))
        for raw in raws:  # decode_responses
            seq, _, body = raw.partition("|")
            out.append({**json.loads(body), "seq": int(seq)})
        return out

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
        histories = list(self.redis.scan_iter(match=self.HISTORY_KEY + "*", count=100))
        self.redis.delete(self.KEY, self.FILLS_KEY, *histories)


def make_book(message_queue: str | None) -> QuoteBook:
    return RedisBook(message_queue) if message_queue else MemoryBook()


def make_rng(seed: int | None) -> tuple[random.Random, int]:
    """The simulator's random source and the seed it was made from (for the log)."""
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    return random.Random(seed), seed
