"""/market handlers through socketio.test_client: validation, acks, who is told what.

The feed is driven by hand (``tick()``) with ``MARKET_SOURCE=publisher``, so
quotes are exactly the ones a test puts in the book.
"""
from __future__ import annotations

import contextlib
import itertools
import tempfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import create_app, prepare_database
from blueprints.market.quotes import Quote
from config import Settings
from extensions import db, socketio
from models import Account, Position, Trade
from tests.support.app import make_app

NS = "/market"
T0 = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)
_names = itertools.count(1)


def market_app():
    app = make_app(MARKET_SOURCE="publisher", MARKET_SYMBOLS="ACME:100.00,GLOBX:50.00,INITK")
    app.extensions["switchboard.market"].drive_manually()
    return app


@pytest.fixture
def app():
    return market_app()


@pytest.fixture(scope="module")
def shared_app():
    """One app for the many validation cases (each uses fresh users)."""
    return market_app()


@pytest.fixture
def feed(app):
    return app.extensions["switchboard.market"]


@contextlib.contextmanager
def connector(app):
    """Makes /market test clients for a user (a new one unless ``user`` is
    given); on leaving, disconnects the ones still connected."""
    from blueprints.auth.service import issue_token
    from models import User

    made = []

    def _connect(user=None):
        with app.app_context():
            if user is None:
                # A plain row: these clients log in with tokens, never with the password.
                name = f"trader{next(_names)}"
                user = User(username=name, username_key=name, password_hash="-")
                db.session.add(user)
                db.session.commit()
            token, _ = issue_token(user)
        client = socketio.test_client(app, namespace=NS, auth={"token": token})
        assert client.is_connected(NS)
        client.user = user
        made.append(client)
        return client

    try:
        yield _connect
    finally:
        for client in made:
            if client.is_connected(NS):
                client.disconnect(NS)


@pytest.fixture
def connect(app):
    with connector(app) as _connect:
        yield _connect


@pytest.fixture
def shared_connect(shared_app):
    with connector(shared_app) as _connect:
        yield _connect


def call(client, event, payload=None):
    return client.emit(event, {} if payload is None else payload, namespace=NS, callback=True)


def received(client, name):
    """The ``name`` events that arrived since the last look at ``name`` (others are kept)."""
    log = client.__dict__.setdefault("log", [])
    log.extend(client.get_received(NS))
    mine = [p["args"][0] for p in log if p["name"] == name]
    log[:] = [p for p in log if p["name"] != name]
    return mine


def put_quote(app, feed, symbol, price, ts=T0):
    feed.book.put(Quote(symbol, Decimal(price), Decimal(price), 0, ts))
    with app.app_context():
        return feed.tick()


def two_tabs_and_a_stranger(app, feed, connect):
    """ACME quoted at 100.00; two tabs of one trader, and another user."""
    put_quote(app, feed, "ACME", "100.00")
    tab1 = connect()
    return tab1, connect(tab1.user), connect()


def stored(app):
    with app.app_context():
        return (db.session.scalar(select(func.count(Trade.id))),
                db.session.scalar(select(func.count()).select_from(Position)),
                [a.cash for a in db.session.scalars(select(Account))])


# -- connecting and quotes -------------------------------------------------------

def test_connect_without_credentials_is_refused(app):
    client = socketio.test_client(app, namespace=NS)
    assert not client.is_connected(NS)


def test_symbols_lists_the_configured_symbols(connect):
    reply = call(connect(), "symbols")
    assert reply == {"ok": True, "symbols": ["ACME", "GLOBX", "INITK"], "source": "publisher"}


def test_settings_given_to_create_app_reach_the_feed(monkeypatch):
    """The app's Settings are the feed's only source: the process environment is not read.

    Before MARKET_* were fields of config.Settings, the feed re-read
    ``os.environ``: these settings were checked and then ignored.
    """
    # Different values in the environment, one of them invalid: were it read, the
    # feed would list ZZZ, or start-up would fail on the source.
    monkeypatch.setenv("MARKET_SYMBOLS", "ZZZ")
    monkeypatch.setenv("MARKET_SOURCE", "bloomberg")
    monkeypatch.setenv("MARKET_INTERVAL", "0.5")
    instance = tempfile.mkdtemp(prefix="sb-test-")
    app = create_app(Settings.from_env({
        "ASYNC_MODE": "threading", "INSTANCE_PATH": instance, "SECRET_KEY": "test-secret",
        "MARKET_SYMBOLS": "BBB:2.00,AAA", "MARKET_SOURCE": "simulator", "MARKET_SEED": "7",
        "MARKET_INTERVAL": "2.5",
    }), TESTING=True)
    prepare_database(app)
    feed = app.extensions["switchboard.market"]
    feed.drive_manually()
    assert (feed.interval, feed.seed, feed.lease_ttl) == (2.5, 7, 7.5)
    with connector(app) as _connect:
        client = _connect()
        reply = call(client, "symbols")
        assert reply == {"ok": True, "symbols": ["BBB", "AAA"], "source": "simulator"}
        with app.app_context():
            feed.tick()  # the simulator's first round: the configured start price
        assert call(client, "subscribe", {"symbols": ["BBB"]})["quotes"][0]["price"] == "2.00"


def test_subscribe_answers_with_a_snapshot_of_each_symbol_that_has_a_quote(app, feed, connect):
    put_quote(app, feed, "ACME", "101.25")
    client = connect()
    reply = call(client, "subscribe", {"symbols": ["ACME", "INITK", "ACME"]})
    assert reply["ok"], reply
    assert reply["quotes"] == [{"symbol": "ACME", "price": "101.25", "change": "0.00",
                                "change_pct": "0.00", "volume": 0, "ts": "2026-01-02T09:30:00.000Z"}]
    with app.app_context():
        feed.tick()
    assert received(client, "quote") == []  # the snapshot is not pushed again


def test_quotes_reach_only_the_subscribers_of_their_symbol_once_per_change(app, feed, connect):
    acme, globx, nobody = connect(), connect(), connect()
    assert call(acme, "subscribe", {"symbols": ["ACME"]})["ok"]
    assert call(globx, "subscribe", {"symbols": ["GLOBX"]})["ok"]
    put_quote(app, feed, "ACME", "101.00")
    put_quote(app, feed, "GLOBX", "51.00")
    with app.app_context():
        feed.tick()  # nothing new: nothing sent
    assert [q["price"] for q in received(acme, "quote")] == ["101.00"]
    assert [q["price"] for q in received(globx, "quote")] == ["51.00"]
    assert received(nobody, "quote") == []
    assert call(acme, "unsubscribe", {"symbols": ["ACME"]}) == {"ok": True}
    put_quote(app, feed, "ACME", "102.00")
    assert received(acme, "quote") == []


def test_several_changes_within_a_tick_are_pushed_as_the_newest_one(app, feed, connect):
    client = connect()
    call(client, "subscribe", {"symbols": ["ACME"]})
    for price in ("100.10", "100.20", "100.30"):
        feed.book.put(Quote("ACME", Decimal(price), Decimal("100.00"), 0, T0))
    with app.app_context():
        result = feed.tick()
    assert result.pushed == 1
    assert [q["price"] for q in received(client, "quote")] == ["100.30"]


@pytest.mark.parametrize("event,payload", [
    ("subscribe", {}),
    ("subscribe", {"symbols": []}),
    ("subscribe", {"symbols": "ACME"}),
    ("subscribe", {"symbols": ["NOPE"]}),
    ("subscribe", {"symbols": ["ACME", 5]}),
    ("subscribe", {"symbols": ["acme"]}),
    ("subscribe", {"symbols": ["ACME"] * 51}),
    ("subscribe", {"symbols": ["ACME"], "extra": 1}),
    ("unsubscribe", {"symbols": ["NOPE"]}),
    ("history", {}),
    ("history", {"symbols": []}),
    ("history", {"symbols": ["NOPE"]}),
    ("history", {"symbols": ["ACME"] * 51}),
    ("history", {"symbols": ["A" * 17]}),
    ("history", {"symbols": ["ACME"], "since": 1}),
    ("activity", {"limit": 500}),
    ("symbols", {"x": 1}),
    ("portfolio", {"x": 1}),
    ("cancel", {}),
    ("cancel", {"id": "1"}),
    ("cancel", {"id": 0}),
    ("cancel", {"id": 1.0}),
    ("no:such:event", {}),
])
def test_bad_payloads_of_other_events_are_bad_requests(connect, event, payload):
    client = connect()
    reply = call(client, event, payload)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
    assert reply["error"]["message"]
    assert call(client, "symbols")["ok"]  # still connected and usable


# -- invalid trades: bad_request, nothing stored ----------------------------------

def T(**over):
    base = {"symbol": "ACME", "side": "BUY", "quantity": 1, "client_id": "c1"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


INVALID_TRADES = [
    ("unknown symbol", T(symbol="NOPE"), "symbol"),
    ("lower-case symbol", T(symbol="acme"), "symbol"),
    ("symbol not a string", T(symbol=5), "symbol"),
    ("empty symbol", T(symbol=""), "symbol"),
    ("missing symbol", T(symbol=...), "symbol"),
    ("unknown side", T(side="HOLD"), "side"),
    ("lower-case side", T(side="buy"), "side"),
    ("missing side", T(side=...), "side"),
    ("zero quantity", T(quantity=0), "quantity"),
    ("negative quantity", T(quantity=-5), "quantity"),
    ("fractional quantity", T(quantity=1.5), "quantity"),
    ("float quantity", T(quantity=5.0), "quantity"),
    ("huge quantity", T(quantity=10_001), "quantity"),
    ("enormous quantity", T(quantity=10**30), "quantity"),
    ("string quantity", T(quantity="5"), "quantity"),
    ("boolean quantity", T(quantity=True), "quantity"),
    ("null quantity", T(quantity=None), "quantity"),
    ("missing quantity", T(quantity=...), "quantity"),
    ("unknown type", T(type="stop"), "type"),
    ("limit without price", T(type="limit"), "limit_price"),
    ("limit price zero", T(type="limit", limit_price="0.00"), "limit_price"),
    ("limit price negative", T(type="limit", limit_price="-1.00"), "limit_price"),
    ("limit price 3 places", T(type="limit", limit_price="1.005"), "limit_price"),
    ("limit price a number", T(type="limit", limit_price=101.25), "limit_price"),
    ("limit price words", T(type="limit", limit_price="cheap"), "limit_price"),
    ("limit price exponent", T(type="limit", limit_price="1e2"), "limit_price"),
    ("limit price comma", T(type="limit", limit_price="1,50"), "limit_price"),
    ("limit price too high", T(type="limit", limit_price="1000000.01"), "limit_price"),
    ("limit price too long", T(type="limit", limit_price="1" * 40), "limit_price"),
    ("market order with a limit price", T(limit_price="100.00"), "limit_price"),
    ("missing client_id", T(client_id=...), "client_id"),
    ("empty client_id", T(client_id=""), "client_id"),
    ("long client_id", T(client_id="x" * 65), "client_id"),
    ("unknown field", T(user_id=1), "user_id"),
]


@pytest.mark.parametrize("name,payload,field", INVALID_TRADES, ids=[t[0] for t in INVALID_TRADES])
def test_every_invalid_trade_is_a_bad_request_and_nothing_is_stored(shared_app, shared_connect,
                                                                    name, payload, field):
    app, connect = shared_app, shared_connect
    put_quote(app, app.extensions["switchboard.market"], "ACME", "100.00")
    client, other = connect(), connect()
    before = stored(app)
    reply = call(client, "trade", payload)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request", reply
    assert reply["error"]["message"].startswith(field), reply
    assert stored(app) == before
    assert received(client, "trade:update") == [] and received(other, "market:activity") == []
    # The connection is fine and the account untouched.
    assert call(client, "portfolio")["cash"] == "100000.00"


@pytest.mark.parametrize("payload", [None, [], "trade", 5, True, [{"symbol": "ACME"}]])
def test_non_object_trade_payloads_are_bad_requests(shared_app, shared_connect, payload):
    client = shared_connect()
    before = stored(shared_app)
    reply = client.emit("trade", payload, namespace=NS, callback=True)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"
    assert stored(shared_app) == before


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
trade_like = st.fixed_dictionaries({}, optional={
    "symbol": st.sampled_from(["ACME", "NOPE", "", "acme"]) | json_values,
    "side": st.sampled_from(["BUY", "SELL", "buy"]) | json_values,
    "quantity": st.integers(-10, 20_000) | json_values,
    "type": st.sampled_from(["market", "limit"]) | json_values,
    "limit_price": st.sampled_from(["1.00", "0", "1.001"]) | json_values,
    "client_id": st.text(max_size=70) | json_values,
    "junk": json_values,
})


@pytest.fixture
def one_client(shared_connect):
    return shared_connect()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=trade_like | json_values)
def test_random_trade_payloads_never_break_anything(shared_app, one_client, payload):
    app, client = shared_app, one_client
    before = stored(app)[0]
    reply = client.emit("trade", payload, namespace=NS, callback=True)
    assert isinstance(reply, dict) and isinstance(reply.get("ok"), bool)
    if reply["ok"]:
        # Only a well-formed order can be accepted.
        assert isinstance(payload, dict) and payload.get("symbol") in ("ACME", "GLOBX", "INITK")
        assert type(payload.get("quantity")) is int and 1 <= payload["quantity"] <= 10_000
        assert payload.get("side") in ("BUY", "SELL")
    else:
        assert reply["error"]["code"] in ("bad_request", "conflict"), reply
        assert stored(app)[0] == before
    assert call(client, "symbols")["ok"]


# -- valid trades: who is told what ---------------------------------------------

def test_a_trade_update_reaches_every_tab_of_the_trader_and_activity_everyone(app, feed, connect):
    tab1, tab2, stranger = two_tabs_and_a_stranger(app, feed, connect)
    reply = call(tab1, "trade", T(quantity=3, client_id="buy-1"))
    assert reply["ok"], reply
    trade = reply["trade"]
    assert (trade["status"], trade["price"], trade["quantity"], trade["type"]) == (
        "filled", "100.00", 3, "market")
    assert received(tab1, "trade:update") == [trade]
    assert received(tab2, "trade:update") == [trade]
    assert received(stranger, "trade:update") == []
    activity = received(stranger, "market:activity")
    assert activity == [{"symbol": "ACME", "side": "BUY", "quantity": 3, "price": "100.00",
                         "ts": trade["ts"], "seq": 1}]
    assert received(tab2, "market:activity") == activity
    p = call(tab2, "portfolio")
    assert p["cash"] == "99700.00"
    assert p["positions"] == [{"symbol": "ACME", "quantity": 3, "avg_price": "100.00", "cost": "300.00"}]
    assert [t["id"] for t in p["trades"]] == [trade["id"]]


def test_a_retried_trade_returns_the_stored_one_and_tells_nobody_again(app, feed, connect):
    put_quote(app, feed, "ACME", "100.00")
    client = connect()
    first = call(client, "trade", T(quantity=2, client_id="retry-me"))
    received(client, "trade:update"), received(client, "market:activity")
    put_quote(app, feed, "ACME", "120.00")
    again = call(client, "trade", T(quantity=2, client_id="retry-me"))
    assert again == {"ok": True, "trade": first["trade"], "duplicate": True}
    assert received(client, "trade:update") == [] and received(client, "market:activity") == []
    assert call(client, "portfolio")["cash"] == "99800.00"
    changed = call(client, "trade", T(quantity=3, client_id="retry-me"))
    assert changed["ok"] is False and changed["error"]["code"] == "conflict"


def test_rejections_are_acked_and_pushed_with_a_reason(app, feed, connect):
    client = connect()
    no_quote = call(client, "trade", T(symbol="INITK", client_id="r1"))["trade"]
    assert no_quote["status"] == "rejected" and "No price for INITK" in no_quote["reason"]
    put_quote(app, feed, "ACME", "100.00")
    too_much = call(client, "trade", T(quantity=1001, client_id="r2"))["trade"]
    assert too_much["status"] == "rejected" and too_much["reason"].startswith("Not enough cash")
    unheld = call(client, "trade", T(side="SELL", client_id="r3"))["trade"]
    assert unheld["status"] == "rejected" and "You hold 0 ACME" in unheld["reason"]
    assert [t["id"] for t in received(client, "trade:update")] == [
        no_quote["id"], too_much["id"], unheld["id"]]
    assert received(client, "market:activity") == []
    assert call(client, "portfolio")["cash"] == "100000.00"


def test_a_limit_order_fills_when_a_later_quote_crosses_it(app, feed, connect):
    tab1, tab2, stranger = two_tabs_and_a_stranger(app, feed, connect)
    placed = call(tab1, "trade", T(quantity=4, type="limit", limit_price="99.00", client_id="l1"))
    assert placed["trade"]["status"] == "open" and placed["trade"]["limit_price"] == "99.00"
    received(tab1, "trade:update"), received(tab2, "trade:update")
    put_quote(app, feed, "ACME", "99.01")
    assert received(tab2, "trade:update") == []
    put_quote(app, feed, "ACME", "98.50")
    update = received(tab2, "trade:update")
    assert [(u["id"], u["status"], u["price"]) for u in update] == [
        (placed["trade"]["id"], "filled", "98.50")]
    assert received(tab1, "trade:update") == update
    assert received(stranger, "trade:update") == []
    assert [a["price"] for a in received(stranger, "market:activity")] == ["98.50"]
    assert call(tab1, "portfolio")["cash"] == "99606.00"


def test_cancel(app, feed, connect):
    client, tab2, other = two_tabs_and_a_stranger(app, feed, connect)
    placed = call(client, "trade", T(type="limit", limit_price="90.00", client_id="x1"))["trade"]
    received(tab2, "trade:update")
    reply = call(client, "cancel", {"id": placed["id"]})
    assert reply["ok"] and reply["trade"]["status"] == "cancelled"
    assert [u["status"] for u in received(tab2, "trade:update")] == ["cancelled"]
    again = call(client, "cancel", {"id": placed["id"]})
    assert again["ok"] is False and again["error"]["code"] == "conflict"
    filled = call(client, "trade", T(client_id="x2"))["trade"]
    assert call(client, "cancel", {"id": filled["id"]})["error"]["code"] == "conflict"
    assert call(other, "cancel", {"id": filled["id"]})["error"]["code"] == "not_found"
    assert call(client, "cancel", {"id": 999_999})["error"]["code"] == "not_found"


def test_a_failure_without_an_ack_becomes_an_error_event(connect):
    client = connect()
    client.emit("trade", T(quantity=0), namespace=NS)
    errors = received(client, "error")
    assert len(errors) == 1 and errors[0]["code"] == "bad_request" and errors[0]["event"] == "trade"


# -- what a page that (re)loads gets: the chart's history and the last fills --------------

def test_history_answers_the_recent_quotes_of_each_symbol_asked(app, feed, connect):
    from datetime import timedelta

    def ms(dt):
        return int(dt.timestamp() * 1000)

    t = [T0 + timedelta(seconds=s) for s in (0, 0.5, 1, 2, 700)]
    put_quote(app, feed, "ACME", "100.00", t[0])
    put_quote(app, feed, "ACME", "100.50", t[1])  # same second: replaces the first
    put_quote(app, feed, "ACME", "101.00", t[2])
    put_quote(app, feed, "GLOBX", "50.00", t[3])
    client = connect()
    reply = call(client, "history", {"symbols": ["ACME", "INITK", "ACME"]})
    assert reply == {"ok": True, "quotes": {"ACME": [[ms(t[1]), "100.50"], [ms(t[2]), "101.00"]],
                                            "INITK": []}}
    put_quote(app, feed, "ACME", "102.00", t[4])  # ten minutes later: the old points go
    assert call(client, "history", {"symbols": ["ACME"]})["quotes"] == {
        "ACME": [[ms(t[4]), "102.00"]]}


def test_activity_answers_the_last_fills_market_and_limit_without_identity(app, feed, connect):
    put_quote(app, feed, "ACME", "100.00")
    trader = connect()
    assert call(trader, "activity") == {"ok": True, "fills": []}
    market = call(trader, "trade", T(quantity=3, client_id="a1"))["trade"]
    call(trader, "trade", T(quantity=4, type="limit", limit_price="99.00", client_id="a2"))
    call(trader, "trade", T(quantity=5, type="limit", limit_price="10.00", client_id="a3"))
    put_quote(app, feed, "ACME", "98.00")  # fills the 99.00 limit, not the 10.00 one
    live = received(trader, "market:activity")
    late = connect()  # a page loaded after the fills
    fills = call(late, "activity")["fills"]
    assert fills == live[::-1]  # the same entries as pushed, newest first
    assert [(f["quantity"], f["price"], f["seq"]) for f in fills] == [
        (4, "98.00", 2), (3, "100.00", 1)]
    assert fills[1]["ts"] == market["ts"]
    # No user identity: exactly these fields.
    assert all(set(f) == {"symbol", "side", "quantity", "price", "ts", "seq"} for f in fills)
