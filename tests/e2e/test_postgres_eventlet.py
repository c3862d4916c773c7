"""PostgreSQL under eventlet: a query that waits must not stall other sockets.

psycopg's C wait function blocks in poll(), which eventlet cannot patch;
patching.py selects its select()-based one. Here one message:send waits on a
row lock the test holds, and a message to another room must still be
stored and acknowledged meanwhile.
"""
from __future__ import annotations

import threading

import psycopg
import pytest

from tests.support.clients import Client, register, token
from tests.support.server import ServerProcess
from tests.support.services import postgres_database

GENERAL, RANDOM = 1, 2


@pytest.fixture(params=["eventlet", "gevent"])
def pg_server(request):
    with postgres_database() as url:
        with ServerProcess(async_mode=request.param, env={"DATABASE_URL": url},
                           name="pg-blocking") as srv:
            yield srv, url


def test_a_waiting_query_does_not_stall_other_sockets(pg_server):
    srv, url = pg_server
    register(srv.url, "slowpoke")
    register(srv.url, "speedy")
    slow = Client(srv.url, "websocket", token=token(srv.url, "slowpoke")).connect()
    fast = Client(srv.url, "polling", token=token(srv.url, "speedy")).connect()
    slow.call("room:join", {"room": GENERAL})
    fast.call("room:join", {"room": RANDOM})
    blocked_reply = {}
    with psycopg.connect(url.replace("+psycopg", "")) as locker:
        locker.execute("SELECT id FROM rooms WHERE id = %s FOR UPDATE", (GENERAL,))
        # This send needs the general room's row: it waits for our lock.
        waiter = threading.Thread(target=lambda: blocked_reply.update(
            slow.call("message:send", {"room": GENERAL, "text": "waits", "client_id": "w1"},
                      timeout=30)))
        waiter.start()
        waiter.join(1.0)
        assert waiter.is_alive(), "the send should be waiting on the row lock"
        # Meanwhile another socket's write to another room goes through.
        reply = fast.call("message:send", {"room": RANDOM, "text": "meanwhile", "client_id": "f1"},
                          timeout=10)
        assert reply["ok"] and reply["message"]["seq"] == 1
        assert waiter.is_alive() and not blocked_reply, "the waiting send finished too early"
        locker.rollback()  # release the lock
    waiter.join(30)
    assert blocked_reply.get("ok") and blocked_reply["message"]["text"] == "waits"
    slow.disconnect()
    fast.disconnect()
