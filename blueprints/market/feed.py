"""The feed loop: quotes in, limit orders matched, newest quotes out.

One ``MarketFeed`` per process (``app.extensions["switchboard.market"]``),
started lazily on the first ``/market`` connection or page view, never in a
process that only runs a CLI command. Every ``MARKET_INTERVAL`` it runs
``tick()``:

1. **Lease.** ``state.acquire_lease("market-feed", <this process>, ttl)``.
   Only the holder steps the simulator and matches limit orders, so with
   several processes exactly one does (the lease is renewed every tick and
   expires ``lease_ttl`` after its holder stops renewing; another process
   then takes over and carries the walk on from the book's prices). A
   process that loses the lease stops publishing at once.
2. **Produce** (holder, ``MARKET_SOURCE=simulator``): one new quote per
   symbol into the quote book. With ``MARKET_SOURCE=publisher`` only
   ``flask market publish`` writes the book.
3. **Match** (holder): for every symbol whose quote changed since the last
   match, fill the open limit orders its price crosses (service.py), then
   ``trade:update`` to ``user:<id>`` and ``market:activity`` to everyone.
4. **Push** (every process): each local socket in room ``symbol:<S>`` gets
   the book's newest quote of ``S`` if it has not had that version yet, and
   only if its Engine.IO queue is empty, i.e. it has taken everything sent
   before. That is the conflation rule, explained in docs/market.md:
   a client never has more than one quote per symbol waiting for it, and a
   client that stalls gets the newest quote when it resumes, not a backlog.

Delivery bookkeeping (which version each local socket last got) is kept per
process on purpose: it is about the sockets this process holds and nobody
else needs to agree on it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from blueprints.market import service
from blueprints.market.quotes import QuoteBook, RandomWalk, Stored, make_book, make_rng
from config import Settings
from extensions import db
from models import utcnow
from realtime.rooms import symbol_room, user_room

log = logging.getLogger("switchboard.market")

LEASE = "market-feed"
NAMESPACE = "/market"


@dataclass
class Tick:
    """What one round of the loop did (tests read it)."""

    holding: bool
    published: list = field(default_factory=list)  # Quotes written by the simulator
    fills: list = field(default_factory=list)  # trade dicts that changed by matching
    pushed: int = 0  # (socket, quote) deliveries
    held_back: int = 0  # deliveries deferred because the socket had not drained


class MarketFeed:
    """The feed of one process, configured by the app's ``Settings`` (MARKET_*)."""

    def __init__(self, app, socketio, settings: Settings, book: QuoteBook, *,
                 clock: Callable[[], datetime] = utcnow, rng=None, holder: str | None = None,
                 namespace: str = NAMESPACE) -> None:
        self.app = app
        self.socketio = socketio
        self.symbols: tuple[str, ...] = tuple(symbol for symbol, _ in settings.MARKET_SYMBOLS)
        self.interval = settings.MARKET_INTERVAL
        self.source = settings.MARKET_SOURCE
        # The lease outlives three missed renewals, and at least a second.
        self.lease_ttl = max(3 * self.interval, 1.0)
        self.book = book
        self.clock = clock
        self.namespace = namespace
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.simulator: RandomWalk | None = None
        self.seed: int | None = None
        if self.source == "simulator":
            if rng is None:
                rng, self.seed = make_rng(settings.MARKET_SEED)
            self.simulator = RandomWalk(settings.MARKET_SYMBOLS, rng, clock)
        self._lock = threading.Lock()
        self._sent: dict[str, dict[str, int]] = {}  # sid -> symbol -> version delivered
        self._matched: dict[str, int] = {}  # symbol -> version matched (while holding)
        self._holding = False
        self._started = False
        self._stopping = False

    # -- lifecycle --------------------------------------------------------------
    def ensure_started(self) -> None:
        """Start the loop once per process (idempotent, cheap to call)."""
        with self._lock:
            if self._started:
                return
            self._started = True
        log.info("market feed starting: source=%s interval=%ss symbols=%s%s", self.source,
                 self.interval, ",".join(self.symbols),
                 f" seed={self.seed}" if self.seed is not None else "")
        self.socketio.start_background_task(self._run)

    def drive_manually(self) -> None:
        """Never start the background loop; the caller runs ``tick()`` (tests, tools)."""
        with self._lock:
            self._started = True

    def stop(self) -> None:
        """Let the loop end after its current round (tests; shutdown)."""
        self._stopping = True

    def _run(self) -> None:
        interval = self.interval
        next_at = time.monotonic()
        while not self._stopping:
            try:
                with self.app.app_context():
                    self.tick()
            except Exception:  # keep the loop alive; the next round tries again
                log.exception("market feed round failed")
            next_at += interval
            delay = next_at - time.monotonic()
            if delay < 0:  # fell behind (a slow round): skip, do not burst
                next_at = time.monotonic()
                delay = 0
            self.socketio.sleep(delay)

    # -- one round ----------------------------------------------------------------
    def tick(self) -> Tick:
        """Lease, produce, match, push. Needs an app context."""
        holding = self.app.extensions["switchboard.state"].acquire_lease(
            LEASE, self.holder, self.lease_ttl)
        if holding != self._holding:
            log.info("market feed lease %s by %s", "taken" if holding else "lost", self.holder)
            self._matched = {}  # on taking over, match every symbol once at its current price
        self._holding = holding
        result = Tick(holding)
        if holding and self.simulator is not None:
            result.published = self.simulator.next_quotes(self.book.all())
            self.book.put_many(result.published)
        snapshot = self.book.all()
        if holding:
            result.fills = self.match(snapshot)
        result.pushed, result.held_back = self.push(snapshot)
        return result

    def match(self, snapshot: dict[str, Stored]) -> list[dict]:
        """Fill crossed limit orders of symbols whose quote changed; tell whom it concerns."""
        fills: list[dict] = []
        for symbol, stored in snapshot.items():
            if self._matched.get(symbol) == stored.version:
                continue
            try:
                changed = service.match_limit_orders(symbol, stored.quote.price, self.clock())
            finally:
                db.session.rollback()  # leave no transaction open between symbols
            self._matched[symbol] = stored.version
            for trade in changed:
                data = trade.to_dict()
                fills.append(data)
                self.socketio.emit("trade:update", data, to=user_room(trade.user_id),
                                   namespace=self.namespace)
                if trade.status == "filled":
                    self.socketio.emit("market:activity", self.record_fill(trade),
                                       namespace=self.namespace)
        return fills

    def push(self, snapshot: dict[str, Stored]) -> tuple[int, int]:
        """Send each local subscriber the newest quote it has not had, if it has drained."""
        manager = self.socketio.server.manager
        pushed = held_back = 0
        # Whether each socket had drained is decided once, before this round
        # sends anything: the round's own quotes must not hold back each other.
        drained: dict[str, bool] = {}
        for symbol, stored in snapshot.items():
            candidates = list(manager.get_participants(self.namespace, symbol_room(symbol)))
            for _, eio_sid in candidates:
                if eio_sid not in drained:
                    drained[eio_sid] = self._drained(eio_sid)
            ready: list[str] = []
            with self._lock:  # check and record in one step: a quote version goes out once
                for sid, eio_sid in candidates:
                    sent = self._sent.get(sid)  # None: gone (disconnect raced this round)
                    if sent is None or sent.get(symbol) == stored.version:
                        continue
                    if not drained[eio_sid]:
                        held_back += 1
                        continue
                    sent[symbol] = stored.version
                    ready.append(sid)
            if not ready:
                continue
            # One encoding for all of them; ignore_queue: these sockets are ours,
            # so the message queue (when there is one) is not involved.
            self.socketio.server.emit("quote", stored.quote.to_dict(), to=ready,
                                      namespace=self.namespace, ignore_queue=True)
            pushed += len(ready)
        return pushed, held_back

    def _drained(self, eio_sid: str) -> bool:
        """Whether a socket has taken everything queued for it (Engine.IO level).

        Long-polling: the queue empties when the client's GET picks it up.
        WebSocket: when the writer task takes it to write to the socket.
        Sockets without an Engine.IO session (the test client) count as drained.
        """
        from realtime import compat

        return compat.session_drained(self.socketio.server, eio_sid)

    def record_fill(self, trade) -> dict:
        """The fill's ``market:activity`` payload, kept in the book's last fills.

        Kept so that a page loaded later shows the same activity as one that
        was open (``activity`` event). The fill is already committed: if the
        book cannot keep it (Redis down), it is still announced, without
        ``seq``, rather than turned into an error for the trader.
        """
        data = service.activity(trade)
        try:
            return self.book.add_fill(data)
        except Exception:
            log.exception("market activity not kept (announced anyway)")
            return data

    # -- subscriptions (called by the namespace) ------------------------------------
    def delivered(self, sid: str, stored: dict[str, Stored]) -> None:
        """Record that ``sid`` has these quotes (the subscribe snapshot)."""
        with self._lock:
            sent = self._sent.setdefault(sid, {})
            for symbol, s in stored.items():
                sent[symbol] = s.version

    def unsubscribed(self, sid: str, symbols) -> None:
        with self._lock:
            sent = self._sent.get(sid)
            if sent:
                for symbol in symbols:
                    sent.pop(symbol, None)

    def forget(self, sid: str) -> None:
        with self._lock:
            self._sent.pop(sid, None)


def get_feed(app) -> MarketFeed:
    return app.extensions["switchboard.market"]


def init_feed(app, socketio) -> MarketFeed:
    """Create this app's feed (not started) from the app's settings, and only those.

    The settings given to ``create_app`` are the whole truth: nothing here
    reads the environment, so a test's or a tool's settings reach the feed.
    """
    settings: Settings = app.extensions["switchboard.settings"]
    feed = MarketFeed(app, socketio, settings, make_book(settings.MESSAGE_QUEUE))
    app.extensions["switchboard.market"] = feed
    return feed
