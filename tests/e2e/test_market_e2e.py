"""End-to-end: the market board on the real server, over websocket and polling.

One server per async mode (eventlet and gevent) with ``MARKET_SOURCE=publisher``
and Redis as the message queue: nothing moves unless the test publishes,
through the real ``flask market publish`` command (one long-running process
per module, fed line by line, as a feed handler runs), so prices are exact.
The simulator is exercised on the real server by the browser test.
"""
from __future__ import annotations

import itertools
import json
import queue
import subprocess
import sys
import threading
import time
from decimal import Decimal

import pytest
import requests

from tests.support.clients import Client, User, make_user
from tests.support.server import ROOT, ServerProcess
from tests.support.services import REDIS_DATABASES, redis_db

SYMBOLS = "ACME:100.00,GLOBX:50.00,INITK:20.00,AAA:10.00,BBB:20.00,CCC:30.00,DDD:40.00"
INTERVAL = 0.1  # the feed's tick
NS = "/market"
_prices = itertools.count(1)


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def pub_server(request):
    # The publisher needs the message queue (Redis): this module's own database.
    with redis_db(REDIS_DATABASES["tests/e2e/test_market_e2e.py"]) as queue_url:
        env = {"MESSAGE_QUEUE": queue_url, "MARKET_SOURCE": "publisher",
               "MARKET_INTERVAL": str(INTERVAL), "MARKET_SYMBOLS": SYMBOLS}
        with ServerProcess(async_mode=request.param, env=env, name="market-pub") as srv:
            yield srv


@pytest.fixture(scope="module")
def publisher(pub_server):
    pub = Publisher(pub_server)
    yield pub
    pub.close()


class Publisher:
    """``flask market publish`` as a child process, fed one JSON line at a time."""

    def __init__(self, server: ServerProcess) -> None:
        env = server.env()
        env.update(PYTHONUNBUFFERED="1", FLASK_APP="app")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "market", "publish"], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def _read_errors(self) -> None:
        for line in self.proc.stderr:
            self.errors.append(line.rstrip("\n"))

    def send(self, symbol: str, price: str, **extra) -> str:
        """Publish one quote; return the command's echo once it is in the book."""
        self.proc.stdin.write(json.dumps({"symbol": symbol, "price": price, **extra}) + "\n")
        self.proc.stdin.flush()
        try:
            echo = self.lines.get(timeout=20)
        except queue.Empty:
            raise AssertionError(f"flask market publish said nothing (exit {self.proc.poll()}): "
                                 + "\n".join(self.errors[-20:])) from None
        assert echo.startswith(f"{symbol} {price} "), echo
        return echo

    def close(self) -> None:
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def new_user(server) -> User:
    return make_user(server, "mkt")


def market_client(server, user: User, transport: str, clients: list) -> Client:
    # The session cookie of the registration: no second password check for a token.
    client = Client(server.url, transport, http=user.http, namespace=NS)
    clients.append(client)
    return client.connect()


def fresh_price() -> str:
    """A price no earlier test published, so a matching quote is this test's."""
    return f"{100 + next(_prices)}.{next(_prices) % 100:02d}"


QUOTE_KEYS = {"symbol", "price", "change", "change_pct", "volume", "ts"}


def assert_quote(q) -> None:
    assert set(q) == QUOTE_KEYS, q
    for key in ("price", "change", "change_pct"):
        assert isinstance(q[key], str) and Decimal(q[key]) == Decimal(q[key]).quantize(
            Decimal("0.01")) and "." in q[key] and len(q[key].split(".")[1]) == 2, q
    assert type(q["volume"]) is int and q["volume"] >= 0


# -- the publisher's quotes ---------------------------------------------------------

def test_published_quotes_reach_only_the_subscribers_of_their_symbol(pub_server, publisher,
                                                                     clients):
    acme = market_client(pub_server, new_user(pub_server), "websocket", clients)
    globx = market_client(pub_server, new_user(pub_server), "polling", clients)
    assert acme.call("subscribe", {"symbols": ["ACME"]})["ok"]
    assert globx.call("subscribe", {"symbols": ["GLOBX"]})["ok"]
    p_acme, p_globx = fresh_price(), fresh_price()
    publisher.send("ACME", p_acme, open="100.00", volume=1200)
    publisher.send("GLOBX", p_globx)
    got = acme.wait_for("quote", lambda q: q["price"] == p_acme)
    assert_quote(got)
    assert got["symbol"] == "ACME" and got["volume"] == 1200
    assert got["change"] == str(Decimal(p_acme) - Decimal("100.00"))
    assert globx.wait_for("quote", lambda q: q["price"] == p_globx)["symbol"] == "GLOBX"
    assert all(q["symbol"] == "ACME" for q in acme.received("quote"))
    assert all(q["symbol"] == "GLOBX" for q in globx.received("quote"))

    # Unsubscribed: no more ACME, while a new subscriber does get the next one.
    assert acme.call("unsubscribe", {"symbols": ["ACME"]}) == {"ok": True}
    late = market_client(pub_server, new_user(pub_server), "polling", clients)
    snapshot = late.call("subscribe", {"symbols": ["ACME", "INITK"]})
    assert [q["price"] for q in snapshot["quotes"] if q["symbol"] == "ACME"] == [p_acme]
    p_next = fresh_price()
    publisher.send("ACME", p_next)
    late.wait_for("quote", lambda q: q["price"] == p_next)
    acme.assert_no_event("quote", lambda q: q["price"] == p_next, within=0.5)


# -- trades ----------------------------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_trade_update_reaches_the_traders_other_tab_and_nobody_else(pub_server, publisher,
                                                                      transport, clients):
    """The trading tab uses ``transport``, the other tab and the stranger the other one."""
    other = "polling" if transport == "websocket" else "websocket"
    price = fresh_price()
    publisher.send("GLOBX", price)
    trader = new_user(pub_server)
    tab1 = market_client(pub_server, trader, transport, clients)
    tab2 = market_client(pub_server, trader, other, clients)
    stranger = market_client(pub_server, new_user(pub_server), other, clients)
    tab1.call("subscribe", {"symbols": ["GLOBX"]})  # the price is in the book before trading
    reply = tab1.call("trade", {"symbol": "GLOBX", "side": "BUY", "quantity": 7,
                                "client_id": "e2e-1"})
    assert reply["ok"], reply
    trade = reply["trade"]
    assert (trade["status"], trade["price"], trade["quantity"], trade["side"]) == (
        "filled", price, 7, "BUY")
    assert tab2.wait_for("trade:update", lambda t: t["id"] == trade["id"]) == trade
    assert tab1.wait_for("trade:update", lambda t: t["id"] == trade["id"]) == trade
    activity = stranger.wait_for("market:activity", lambda a: a["price"] == price)
    assert activity == {"symbol": "GLOBX", "side": "BUY", "quantity": 7, "price": price,
                        "ts": trade["ts"], "seq": activity["seq"]}  # no user identity
    assert type(activity["seq"]) is int
    stranger.assert_no_event("trade:update", within=0.5)
    # A retry with the same client_id changes nothing and tells nobody.
    again = tab2.call("trade", {"symbol": "GLOBX", "side": "BUY", "quantity": 7,
                                "client_id": "e2e-1"})
    assert again == {"ok": True, "trade": trade, "duplicate": True}
    tab1.assert_no_event("trade:update", lambda t: t["id"] != trade["id"], within=0.5)
    portfolio = tab2.call("portfolio")
    cost = Decimal(price) * 7
    assert portfolio["cash"] == str(Decimal("100000.00") - cost)
    assert portfolio["positions"] == [{"symbol": "GLOBX", "quantity": 7, "avg_price": price,
                                       "cost": str(cost)}]


def test_a_limit_order_fills_later_when_the_published_price_crosses(pub_server, publisher,
                                                                    clients):
    publisher.send("INITK", "20.00")
    trader = new_user(pub_server)
    tab1 = market_client(pub_server, trader, "websocket", clients)
    tab2 = market_client(pub_server, trader, "polling", clients)
    stranger = market_client(pub_server, new_user(pub_server), "polling", clients)
    tab1.call("subscribe", {"symbols": ["INITK"]})
    placed = tab1.call("trade", {"symbol": "INITK", "side": "BUY", "quantity": 50,
                                 "type": "limit", "limit_price": "19.50", "client_id": "lim-1"})
    assert placed["ok"] and placed["trade"]["status"] == "open", placed
    order_id = placed["trade"]["id"]
    assert tab2.wait_for("trade:update", lambda t: t["id"] == order_id)["status"] == "open"

    publisher.send("INITK", "19.51")  # close, but not crossed
    tab1.wait_for("quote", lambda q: q["price"] == "19.51")
    tab2.assert_no_event("trade:update", lambda t: t["status"] == "filled", within=0.6)

    publisher.send("INITK", "19.37")  # crossed: fills at this price
    filled = tab2.wait_for("trade:update", lambda t: t["id"] == order_id and t["status"] == "filled")
    assert (filled["price"], filled["limit_price"], filled["type"]) == ("19.37", "19.50", "limit")
    assert tab1.wait_for("trade:update", lambda t: t["status"] == "filled") == filled
    stranger.wait_for("market:activity", lambda a: a["price"] == "19.37" and a["quantity"] == 50)
    stranger.assert_no_event("trade:update", within=0.3)
    portfolio = tab1.call("portfolio")
    assert portfolio["cash"] == "99031.50"  # 100000.00 - 50 x 19.37
    assert portfolio["positions"] == [{"symbol": "INITK", "quantity": 50, "avg_price": "19.37",
                                       "cost": "968.50"}]
    assert tab1.call("cancel", {"id": order_id})["error"]["code"] == "conflict"


INVALID = [
    ("unknown symbol", {"symbol": "NOPE"}),
    ("unknown side", {"side": "SHORT"}),
    ("zero quantity", {"quantity": 0}),
    ("fractional quantity", {"quantity": 2.5}),
    ("float quantity", {"quantity": 3.0}),
    ("negative quantity", {"quantity": -3}),
    ("huge quantity", {"quantity": 10_001}),
    ("string quantity", {"quantity": "5"}),
    ("boolean quantity", {"quantity": True}),
    ("limit without a price", {"type": "limit"}),
    ("malformed limit price", {"type": "limit", "limit_price": "19.5.0"}),
    ("limit price with 3 places", {"type": "limit", "limit_price": "19.505"}),
    ("limit price as a number", {"type": "limit", "limit_price": 19.5}),
    ("negative limit price", {"type": "limit", "limit_price": "-19.50"}),
    ("zero limit price", {"type": "limit", "limit_price": "0"}),
    ("unknown type", {"type": "stop"}),
    ("no client_id", {"client_id": None}),
]


def test_every_invalid_trade_is_a_bad_request_and_nothing_is_stored(pub_server, publisher,
                                                                    clients):
    publisher.send("ACME", fresh_price())
    user = new_user(pub_server)
    # The same user over both transports: each payload is sent once on each.
    ws = market_client(pub_server, user, "websocket", clients)
    polling = market_client(pub_server, user, "polling", clients)
    watcher = market_client(pub_server, new_user(pub_server), "websocket", clients)
    for client in (ws, polling):
        for n, (name, change) in enumerate(INVALID):
            payload = {"symbol": "ACME", "side": "BUY", "quantity": 1, "client_id": f"bad-{n}",
                       **change}
            payload = {k: v for k, v in payload.items() if v is not None}
            reply = client.call("trade", payload)
            assert reply["ok"] is False, (client.transport, name, reply)
            assert reply["error"]["code"] == "bad_request", (client.transport, name, reply)
            assert reply["error"]["message"], name
    for client in (ws, polling):
        portfolio = client.call("portfolio")
        assert (portfolio["cash"], portfolio["positions"], portfolio["trades"]) == (
            "100000.00", [], [])
        assert client.received("trade:update") == [] and client.connected
    watcher.assert_no_event("market:activity", within=0.3)


# -- conflation for a stalled long-polling client ----------------------------------------

class RawPolling:
    """An Engine.IO v4 long-polling client by hand, so the test decides when it polls."""

    def __init__(self, base_url: str, http: requests.Session) -> None:
        self.base = base_url
        self.http = http  # logged in: the session cookie authenticates the connection
        self.http.headers["Origin"] = base_url
        opened = self.http.get(f"{base_url}/socket.io/", params={"EIO": "4", "transport": "polling"},
                               timeout=10)
        assert opened.status_code == 200, opened.text
        first = opened.text.split("\x1e")[0]
        assert first.startswith("0"), first
        self.sid = json.loads(first[1:])["sid"]
        self.post(f"40{NS},")
        packets = self.poll_until(lambda p: p.startswith(f"40{NS},"))
        assert any(p.startswith(f"40{NS},") for p in packets), packets

    def _params(self) -> dict:
        return {"EIO": "4", "transport": "polling", "sid": self.sid}

    def post(self, body: str) -> None:
        r = self.http.post(f"{self.base}/socket.io/", params=self._params(),
                           data=body.encode(), timeout=10,
                           headers={"Content-Type": "text/plain;charset=UTF-8"})
        assert r.status_code == 200 and r.text.lower() == "ok", (r.status_code, r.text)

    def poll(self) -> list[str]:
        """One long-polling GET: every packet the server had queued for us."""
        r = self.http.get(f"{self.base}/socket.io/", params=self._params(), timeout=60)
        assert r.status_code == 200, (r.status_code, r.text)
        packets = r.text.split("\x1e")
        if "2" in packets:  # a ping: answer it as the real client would
            self.post("3")
        return packets

    def poll_until(self, predicate, timeout: float = 10) -> list[str]:
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            seen += self.poll()
            if any(predicate(p) for p in seen):
                return seen
        raise AssertionError(f"not seen within {timeout}s: {seen[-5:]}")

    def close(self) -> None:
        """Say goodbye (Engine.IO CLOSE) so the server ends the session at once."""
        try:
            self.post("1")
        except (AssertionError, requests.RequestException):
            pass

    @staticmethod
    def quotes(packets: list[str]) -> list[dict]:
        out = []
        for p in packets:
            if p.startswith(f"42{NS},"):
                name, *args = json.loads(p[len(f"42{NS},"):])
                if name == "quote":
                    out.append(args[0])
        return out


def test_a_stalled_polling_client_gets_the_newest_quote_not_a_backlog(pub_server, publisher):
    """Conflation: while a client does not poll, at most one quote per symbol waits for it.

    A feed handler streams new prices for 4 symbols every ~50 ms and the
    server ticks every 0.1 s. The client stops polling for 2 s (20 ticks)
    and then polls once: it must receive at most one (stale) quote per
    symbol, not 20, and its next poll brings the newest quotes, ~2 s newer.
    """
    symbols = ["AAA", "BBB", "CCC", "DDD"]
    stop, flowing = threading.Event(), threading.Event()

    def stream() -> None:
        for i in itertools.count(1):
            for n, symbol in enumerate(symbols):
                publisher.send(symbol, f"{(n + 1) * 10 + i % 500}.{i % 100:02d}", volume=i * 100)
            if i == 3:
                flowing.set()
            if stop.wait(0.05):
                return

    streamer = threading.Thread(target=stream, daemon=True)
    streamer.start()
    assert flowing.wait(30), "the publisher did not get going"
    client = RawPolling(pub_server.url, new_user(pub_server).http)
    try:
        _stall_and_resume(client, symbols)
    finally:
        client.close()
        stop.set()
        streamer.join(10)


def _stall_and_resume(client: RawPolling, symbols: list[str]) -> None:
    client.post(f"42{NS},1" + json.dumps(["subscribe", {"symbols": symbols}]))
    client.poll_until(lambda p: p.startswith(f"43{NS},1"))
    # Polling normally: quotes keep coming, a few per poll at most. Polls until
    # each symbol has streamed 4 (about 0.4 s at a 0.1 s tick), with room for a slow machine.
    streamed = []
    per_symbol = dict.fromkeys(symbols, 0)
    until = time.monotonic() + 10.0
    while min(per_symbol.values()) < 4 and time.monotonic() < until:
        streamed += RawPolling.quotes(client.poll())
        per_symbol = {s: sum(q["symbol"] == s for q in streamed) for s in symbols}
    assert all(n >= 4 for n in per_symbol.values()), per_symbol

    stall = 2.0
    time.sleep(stall)  # the client does not poll: a phone in a tunnel, a frozen tab
    resumed = RawPolling.quotes(client.poll())
    counts = {s: sum(q["symbol"] == s for q in resumed) for s in symbols}
    # At most the one quote per symbol queued in the first round of the stall
    # (none for a symbol that had not changed then); not one per round.
    assert all(n <= 1 for n in counts.values()), f"a backlog of stale quotes: {counts}"
    assert sum(counts.values()) >= 1, "the stall began with nothing queued: prove nothing"

    # The very next poll(s) bring the newest quote of every symbol.
    fresh: dict[str, dict] = {}
    deadline = time.monotonic() + 5
    while len(fresh) < len(symbols) and time.monotonic() < deadline:
        for q in RawPolling.quotes(client.poll()):
            fresh.setdefault(q["symbol"], q)
    assert set(fresh) == set(symbols)
    stale = {q["symbol"]: q for q in resumed}
    for symbol, q in stale.items():
        waited = _seconds(fresh[symbol]["ts"]) - _seconds(q["ts"])
        # The newest quote skips the ~20 rounds of the stall instead of replaying
        # them (a replay would bring the next one, a round = 0.1 s newer).
        assert waited >= stall / 2, (symbol, q["ts"], fresh[symbol]["ts"])
        assert fresh[symbol]["volume"] > q["volume"]


def _seconds(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
