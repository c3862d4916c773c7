"""End-to-end: what a page that loads later gets, ``history`` and ``activity``.

Real servers and real clients over websocket and polling:

- **one process**, no Redis, the simulator: the chart's history and the
  last fills are kept in the process (``MemoryBook``);
- **two processes** sharing Redis and PostgreSQL, quotes from a real
  ``flask market publish`` (the external publisher mode): both processes
  answer the same history and the same fills, whichever process quoted,
  traded or filled.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.test_market_e2e import Publisher
from tests.support.clients import make_user
from tests.support.server import ServerProcess
from tests.support.services import REDIS_DATABASES, postgres_database, redis_db

NS = "/market"
FILL_KEYS = {"symbol", "side", "quantity", "price", "ts", "seq"}


def market_client(server, user, transport: str, clients):
    from tests.support.clients import Client

    # The session cookie of the registration; it works on every process (one database).
    return clients.append(Client(server.url, transport, http=user.http, namespace=NS)).connect()


def ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def assert_bounded(points: list) -> None:
    """Oldest first, at most one point per second, within ten minutes."""
    seconds = [t // 1000 for t, _ in points]
    assert seconds == sorted(set(seconds)), points[:5]
    assert not points or seconds[-1] - seconds[0] < 600
    assert all(isinstance(p, str) and "." in p for _, p in points)


# -- one process, no Redis: the simulator ---------------------------------------------------

@pytest.fixture(scope="module")
def one_process():
    env = {"MARKET_SOURCE": "simulator", "MARKET_INTERVAL": "0.1", "MARKET_SEED": "3",
           "MARKET_SYMBOLS": "ACME:100.00,GLOBX:50.00"}
    with ServerProcess(async_mode="eventlet", env=env, name="market-history-1") as srv:
        yield srv


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_one_process_keeps_the_history_and_the_fills_for_a_later_page(one_process, transport,
                                                                     clients):
    other = "polling" if transport == "websocket" else "websocket"
    trader = market_client(one_process, make_user(one_process, "hist"), transport, clients)
    assert trader.call("subscribe", {"symbols": ["ACME"]})["ok"]
    # About three seconds of quotes (ten a second; the history keeps one a second).
    live = [trader.wait_for("quote")]
    live += [trader.wait_for("quote", lambda q, n=n: ms(q["ts"]) >= ms(live[0]["ts"]) + n * 1000)
             for n in (1, 2, 3)]
    seen = {ms(q["ts"]): q["price"] for q in trader.received("quote")}
    bought = trader.call("trade", {"symbol": "ACME", "side": "BUY", "quantity": 3,
                                   "client_id": "hist-1"})["trade"]
    assert bought["status"] == "filled", bought
    announced = trader.wait_for("market:activity", lambda a: a["ts"] == bought["ts"])

    # A page loaded now (another user, the other transport) gets what the first one saw.
    later = market_client(one_process, make_user(one_process, "late"), other, clients)
    history = later.call("history", {"symbols": ["ACME", "GLOBX"]})
    assert history["ok"], history
    points = history["quotes"]["ACME"]
    assert_bounded(points)
    assert set(history["quotes"]) == {"ACME", "GLOBX"} and history["quotes"]["GLOBX"]
    # From before the later page connected: as old as the first quote the trader saw.
    assert points[0][0] // 1000 <= ms(live[0]["ts"]) // 1000
    # The points kept are quotes that were sent, with their prices. (A polling
    # client may have been skipped for some, by conflation: not for all.)
    common = [(t, p) for t, p in points if t in seen]
    assert common, (points[-5:], list(seen.items())[-5:])
    assert all(seen[t] == p for t, p in common)
    fills = later.call("activity")["fills"]
    assert fills[0] == announced and set(fills[0]) == FILL_KEYS
    assert (fills[0]["quantity"], fills[0]["price"]) == (3, bought["price"])


# -- two processes, Redis, an external publisher --------------------------------------------

SYMBOLS = "HA:10.00,HB:20.00,HC:30.00"
T0 = datetime(2026, 1, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def two_processes():
    with redis_db(REDIS_DATABASES["tests/e2e/test_market_history_e2e.py"]) as queue, \
            postgres_database() as database:
        env = {"MESSAGE_QUEUE": queue, "DATABASE_URL": database, "MARKET_SOURCE": "publisher",
               "MARKET_INTERVAL": "0.1", "MARKET_SYMBOLS": SYMBOLS}
        with ServerProcess(async_mode="eventlet", env=env, name="market-history-a") as a, \
                ServerProcess(async_mode="gevent", env=env, name="market-history-b") as b:
            yield a, b


@pytest.fixture(scope="module")
def publisher(two_processes):
    pub = Publisher(two_processes[0])
    yield pub
    pub.close()


def iso(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def test_two_processes_answer_the_same_history_of_published_quotes(two_processes, publisher,
                                                                   clients):
    a, b = two_processes
    on_a = market_client(a, make_user(a, "ha"), "websocket", clients)
    on_b = market_client(b, make_user(a, "hb"), "polling", clients)
    for s, price in [(0, "10.00"), (1, "10.10"), (1.5, "10.20"), (2, "10.30"), (700, "11.00")]:
        publisher.send("HA", price, ts=iso(s))
        if s == 2:  # before the jump: the first three seconds, one point each
            want = [[ms(iso(0)), "10.00"], [ms(iso(1.5)), "10.20"], [ms(iso(2)), "10.30"]]
            assert on_a.call("history", {"symbols": ["HA"]})["quotes"] == {"HA": want}
            assert on_b.call("history", {"symbols": ["HA"]})["quotes"] == {"HA": want}
    # Ten minutes later the old points are gone, on both processes.
    for client in (on_a, on_b):
        assert client.call("history", {"symbols": ["HA", "HC"]})["quotes"] == {
            "HA": [[ms(iso(700)), "11.00"]], "HC": []}
    bad = on_b.call("history", {"symbols": ["NOPE"]})
    assert bad["ok"] is False and bad["error"]["code"] == "bad_request"


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_two_processes_answer_the_same_last_fills(two_processes, publisher, transport, clients):
    """A market fill on one process and a limit fill by the feed (either process) reach
    the activity list every process answers, once each, in order."""
    a, b = two_processes
    other = "polling" if transport == "websocket" else "websocket"
    publisher.send("HB", "20.00")
    trader = market_client(a, make_user(a, "tr"), transport, clients)
    watcher = market_client(b, make_user(a, "wa"), other, clients)
    trader.call("subscribe", {"symbols": ["HB"]})
    qty = 11 if transport == "websocket" else 12
    market = trader.call("trade", {"symbol": "HB", "side": "BUY", "quantity": qty,
                                   "client_id": f"m-{transport}"})["trade"]
    assert market["status"] == "filled", market
    limit = trader.call("trade", {"symbol": "HB", "side": "BUY", "quantity": qty, "type": "limit",
                                  "limit_price": "19.00", "client_id": f"l-{transport}"})["trade"]
    assert limit["status"] == "open", limit
    publisher.send("HB", "18.75")  # crosses: the feed's lease holder fills it
    first = watcher.wait_for("market:activity", lambda x: x["ts"] == market["ts"])
    second = watcher.wait_for("market:activity", lambda x: x["price"] == "18.75"
                              and x["quantity"] == qty)
    assert second["seq"] > first["seq"]
    for server in (a, b):
        late = market_client(server, make_user(a, "late"), other, clients)
        fills = late.call("activity")["fills"]
        assert fills[:2] == [second, first], fills[:3]
        assert all(set(f) == FILL_KEYS for f in fills)
        assert len(fills) <= 50
