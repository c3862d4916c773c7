"""The per-user connection cap and dead-process clean-up hold on both state backends.

The same checks run on an app built without MESSAGE_QUEUE (MemoryState) and
with it (RedisState), with the Socket.IO Admin UI on. Before the state took its
namespaces from the registered ones, RedisState counted a hard-coded
("/chat", "/market", "/admin"): in Redis mode an admin's /socketio-admin
connections escaped MAX_CONNECTIONS_PER_USER (the memory backend counted
them), and their keys outlived a dead process.
"""
from __future__ import annotations

import re

import pytest
import redis

from realtime.state import Connection
from tests.security.helpers import make_user, refusal_code
from tests.support.app import make_app
from tests.support.services import REDIS_DATABASES, redis_client, redis_url

URL = redis_url(REDIS_DATABASES["tests/security/test_state_backends.py"])  # this file's own Redis database
UI = "/socketio-admin"


def _redis_or_skip() -> redis.Redis:
    return redis_client(URL)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_socketio_admin_connections_count_toward_the_per_user_cap(servers, clients, backend):
    """MAX_CONNECTIONS_PER_USER=2 with the Admin UI on: an admin's third
    connection, to the UI's namespace or to /chat, gets too_many_connections,
    on either backend. Before: in Redis mode the UI's connections were not
    counted, so both were admitted."""
    env = {"SOCKETIO_ADMIN_UI": "read-only", "MAX_CONNECTIONS_PER_USER": "2"}
    if backend == "redis":
        _redis_or_skip().flushdb()
        env["MESSAGE_QUEUE"] = URL
    srv = servers(env=env, name=f"state-backends-{backend}")
    admin = make_user(srv, "boss")  # a fresh server: the first account is the admin
    for _ in range(2):
        clients(srv, admin, "websocket", namespace=UI)
    for ns in (UI, "/chat"):
        data = clients.make(srv, admin, "websocket", namespace=ns).connect_refused()
        assert refusal_code(data) == "too_many_connections", f"{backend} {ns}: {data!r}"


@pytest.fixture
def redis_app():
    client = _redis_or_skip()
    client.flushdb()
    app = make_app(SOCKETIO_ADMIN_UI="read-only", MESSAGE_QUEUE=URL)
    yield app
    state = app.extensions["switchboard.state"]
    if hasattr(state, "shutdown"):  # (the interface had none before)
        state.shutdown()
    client.flushdb()


def conn(sid, uid, ns):
    return Connection(sid=sid, namespace=ns, user_id=uid, username=f"u{uid}", is_admin=True,
                      transport="websocket", ip="127.0.0.1")


def test_a_dead_process_leaves_no_keys_in_any_served_namespace(redis_app):
    """Redis only (one process has nothing to outlive it): a dead process's
    connections, the Admin UI's included, are taken out of the counts and
    their keys deleted by the next live process's maintenance round."""
    app = redis_app
    from extensions import socketio
    from realtime.redis_state import RedisState

    client = _redis_or_skip()
    served = sorted(socketio.server.namespace_handlers)
    assert UI in served
    state = app.extensions["switchboard.state"]
    dead = RedisState(URL, "dead-process")  # another process of the deployment
    for i, ns in enumerate(served):
        dead.add(conn(f"d{i}", 7, ns))
    with app.app_context():
        assert state.user_connections(7) == len(served)
    client.zadd("sb:procs", {dead.proc: 0})  # it stopped heartbeating long ago
    if hasattr(state, "maintain"):
        gone = state.maintain()
    else:  # before: what housekeeping called
        state.heartbeat()
        gone = state.reap_dead()
    assert gone == {ns: {7} for ns in served}
    assert state.user_connections(7) == 0
    left = [k for k in client.keys("sb:*")
            if ("dead-process" in k and not k.startswith("sb:lease:")) or re.search(r":7$", k)]
    assert left == []
