"""The feed loop's round: lease, produce, match, push (with injected time and randomness)."""
from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from blueprints.market import service
from blueprints.market.feed import LEASE, MarketFeed
from blueprints.market.quotes import MemoryBook, Quote, RedisBook
from config import Settings
from extensions import db, socketio
from models import Trade

D = Decimal
T0 = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
SYMBOLS = "ACME:100.00,GLOBX:50.00"


class StepClock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        self.now += timedelta(seconds=1)
        return self.now


def market_settings(source="simulator", seed=1, interval=1.0):
    return Settings.from_env({"MARKET_SYMBOLS": SYMBOLS, "MARKET_SOURCE": source,
                              "MARKET_SEED": str(seed), "MARKET_INTERVAL": str(interval)})


def make_feed(app, source="simulator", seed=1, holder="proc-a", book=None, interval=1.0):
    settings = market_settings(source, seed, interval)
    feed = MarketFeed(app, socketio, settings, book or MemoryBook(), clock=StepClock(),
                      rng=random.Random(seed) if source == "simulator" else None, holder=holder)
    feed.drive_manually()
    return feed


def test_the_lease_holder_publishes_one_quote_per_symbol_per_tick(app):
    feed = make_feed(app)
    first = feed.tick()
    assert first.holding
    assert [(q.symbol, q.price) for q in first.published] == [("ACME", D("100.00")),
                                                              ("GLOBX", D("50.00"))]
    second = feed.tick()
    assert len(second.published) == 2
    assert {s: st.quote for s, st in feed.book.all().items()} == {q.symbol: q for q in second.published}


def test_a_process_without_the_lease_publishes_and_matches_nothing(app):
    state = app.extensions["switchboard.state"]
    assert state.acquire_lease(LEASE, "someone-else", 0.3)
    feed = make_feed(app)
    result = feed.tick()
    assert not result.holding and result.published == [] and feed.book.all() == {}
    time.sleep(0.35)  # the other holder stopped renewing: its lease lapses
    assert feed.tick().holding


def test_a_process_that_loses_the_lease_stops_publishing(app):
    state = app.extensions["switchboard.state"]
    book = MemoryBook()
    a = make_feed(app, holder="proc-a", book=book, interval=0.05)  # lease_ttl: 1 s
    b = make_feed(app, holder="proc-b", book=book, interval=0.05, seed=2)
    assert a.tick().holding
    assert not b.tick().holding  # a holds it and keeps renewing
    last = book.all()["ACME"]
    time.sleep(a.lease_ttl + 0.05)  # a stalls past its lease
    taken = b.tick()
    assert taken.holding and taken.published
    # b carries the walk on from a's last prices (no jump back to the start price).
    assert abs(book.all()["ACME"].quote.price - last.quote.price) < D("5.00")
    assert not a.tick().holding and book.all()["ACME"] == b.book.all()["ACME"]
    assert state.acquire_lease(LEASE, "proc-b", 1)  # still b's


def test_publisher_mode_produces_nothing_but_matches_published_quotes(app, users):
    feed = make_feed(app, source="publisher")
    assert feed.simulator is None and feed.tick().published == []
    order = service.validate_order("ACME", "BUY", 5, "limit", "99.00", "c1", feed.symbols)
    placed = service.place_order(users[0].id, order, feed.book)
    assert placed.trade.status == "open"
    feed.book.put(Quote("ACME", D("99.50"), D("100.00"), 0, T0))
    assert feed.tick().fills == []
    feed.book.put(Quote("ACME", D("98.75"), D("100.00"), 0, T0))
    fills = feed.tick().fills
    assert [(f["id"], f["status"], f["price"]) for f in fills] == [(placed.trade.id, "filled", "98.75")]
    assert feed.tick().fills == []  # the same quote version is matched once
    db.session.expire_all()
    assert db.session.get(Trade, placed.trade.id).status == "filled"


def test_a_new_lease_holder_matches_current_prices_once(app, users):
    book = MemoryBook()
    book.put(Quote("ACME", D("90.00"), D("100.00"), 0, T0))
    order = service.validate_order("ACME", "BUY", 1, "limit", "95.00", "c1", ("ACME",))
    placed = service.place_order(users[0].id, order, book)
    assert placed.trade.status == "open"  # placed while another process held the feed
    feed = make_feed(app, source="publisher", book=book)
    assert [f["id"] for f in feed.tick().fills] == [placed.trade.id]


def test_a_failing_round_does_not_stop_the_loop(app, caplog):
    # A real failure: the quote book's Redis is not there.
    from tests.support.server import free_port

    feed = make_feed(app, interval=0.05, book=RedisBook(f"redis://127.0.0.1:{free_port()}/0"))
    feed.book.redis.connection_pool.connection_kwargs["socket_connect_timeout"] = 0.1
    thread = threading.Thread(target=feed._run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sum(
            r.getMessage() == "market feed round failed" for r in caplog.records) < 3:
        time.sleep(0.05)
    feed.stop()
    thread.join(5)
    assert sum(r.getMessage() == "market feed round failed" for r in caplog.records) >= 3
    assert not thread.is_alive()


@pytest.mark.parametrize("interval", [0.05, 1.0, 60.0])
def test_the_lease_outlives_three_rounds(interval):
    feed = MarketFeed(None, socketio, market_settings(interval=interval), MemoryBook())
    assert feed.lease_ttl >= 3 * interval and feed.lease_ttl >= 1.0


def test_limit_fills_are_kept_in_the_last_fills_and_a_failure_to_keep_one_is_not_fatal(app, users,
                                                                                     caplog):
    feed = make_feed(app, source="publisher")
    for n, user in enumerate(users[:2]):
        order = service.validate_order("ACME", "BUY", n + 1, "limit", "99.00", f"k{n}", feed.symbols)
        service.place_order(user.id, order, feed.book)
    feed.book.put(Quote("ACME", D("98.00"), D("100.00"), 0, T0))
    assert len(feed.tick().fills) == 2
    kept = feed.book.fills()
    assert [(f["quantity"], f["price"], f["seq"]) for f in kept] == [(2, "98.00", 2), (1, "98.00", 1)]

    # The book cannot keep the next one (Redis down): the fill stands and is still
    # announced, without seq; the round goes on.
    def down(activity):
        raise ConnectionError("redis is down")

    feed.book.add_fill = down
    order = service.validate_order("ACME", "BUY", 3, "limit", "97.00", "k9", feed.symbols)
    placed = service.place_order(users[2].id, order, feed.book)
    feed.book.put(Quote("ACME", D("96.00"), D("100.00"), 0, T0))
    assert [f["id"] for f in feed.tick().fills] == [placed.trade.id]
    assert "market activity not kept (announced anyway)" in caplog.text
    assert feed.record_fill(db.session.get(Trade, placed.trade.id)) == {
        "symbol": "ACME", "side": "BUY", "quantity": 3, "price": "96.00",
        "ts": db.session.get(Trade, placed.trade.id).to_dict()["ts"]}
