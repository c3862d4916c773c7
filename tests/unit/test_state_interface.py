"""The connection-state interface holds on both backends: memory and Redis.

The same checks run on an app built without MESSAGE_QUEUE (MemoryState) and
with it (RedisState). Housekeeping and the stop signal call
heartbeat_interval, maintain() and shutdown() on either (before: getattr /
hasattr probes, and only RedisState had them); the app builds one Redis
client that /readyz shares. The per-user cap across namespaces and the
dead-process clean-up: tests/security/test_state_backends.py.
"""
from __future__ import annotations

import pytest
import redis

from realtime.state import Connection
from tests.support.app import make_app
from tests.support.services import REDIS_DATABASES, redis_client, redis_url

DB = REDIS_DATABASES["tests/unit/test_state_interface.py"]  # this file's own Redis database
URL = redis_url(DB)


def _redis_or_skip() -> redis.Redis:
    return redis_client(URL)


@pytest.fixture(params=["memory", "redis"])
def app(request):
    env = {}
    client = None
    if request.param == "redis":
        client = _redis_or_skip()
        client.flushdb()
        env["MESSAGE_QUEUE"] = URL
    app = make_app(**env)
    with app.app_context():
        yield app
    state = app.extensions["switchboard.state"]
    if hasattr(state, "shutdown"):  # (the interface had none before)
        state.shutdown()
    if client is not None:
        client.flushdb()


def conn(sid, uid, ns):
    return Connection(sid=sid, namespace=ns, user_id=uid, username=f"u{uid}", is_admin=True,
                      transport="websocket", ip="127.0.0.1")


def test_the_interface_has_what_housekeeping_and_serving_call(app):
    state = app.extensions["switchboard.state"]
    assert 0 < state.heartbeat_interval
    assert state.maintain() == {}  # nobody died
    state.add(conn("s1", 1, "/chat"))
    state.shutdown()  # a clean stop takes this process's share out (memory: nothing to do)


@pytest.mark.parametrize("app", ["redis"], indirect=True)  # no Redis client in memory mode
def test_readyz_uses_the_apps_one_redis_client(app):
    """30 /readyz: no Redis connection more, and none opened (the shared pool's).

    Before, each /readyz made a client of its own: connect, AUTH, SELECT,
    PING, close. That connection was closed by the time the request ended, so
    CLIENT LIST alone does not show it; Redis's count of connections received
    does (it is server-wide, so other tests on this machine add to it: the
    quietest of three rounds is taken).
    """
    client = _redis_or_skip()

    def ours() -> int:
        # Connections to this file's database (CLIENT LIST names each one's db);
        # other tests on this machine use other databases.
        return sum(1 for c in client.client_list() if c.get("db") == str(DB))

    def received() -> int:
        return int(client.info("stats")["total_connections_received"])

    http = app.test_client()
    assert http.get("/readyz").status_code == 200  # the pool's connection opens once
    before = ours()
    opened = []
    for _ in range(3):
        start = received()
        for _ in range(30):
            assert http.get("/readyz").status_code == 200
        opened.append(received() - start)
    after = ours()
    assert after <= before, f"{before} Redis connections before 90 /readyz, {after} after"
    assert min(opened) < 10, f"Redis connections opened per 30 /readyz: {opened}"


def test_a_kick_block_is_seen_by_the_state_and_ends_by_itself(app):
    """block_user / blocked_for on both backends: whole seconds left, 0 when none."""
    import time

    state = app.extensions["switchboard.state"]
    assert state.blocked_for(7) == 0
    state.block_user(7, 60)
    assert 59 <= state.blocked_for(7) <= 60
    assert state.blocked_for(8) == 0
    state.block_user(9, 1)
    deadline = time.monotonic() + 5
    while state.blocked_for(9) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.blocked_for(9) == 0, "a block ends by itself"
    state.block_user(10, 0)
    assert state.blocked_for(10) == 0
