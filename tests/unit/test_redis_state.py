"""The Redis backend of the connection state, against a real Redis."""
from __future__ import annotations

import time

import pytest
import redis

from realtime.state import Connection
from tests.conftest import require
from tests.support.services import REDIS_DATABASES, redis_url

URL = redis_url(REDIS_DATABASES["tests/unit/test_redis_state.py"])  # this file's own Redis database


@pytest.fixture
def r():
    try:
        client = redis.Redis.from_url(URL)
        client.ping()
    except redis.RedisError:
        client = None
    require("Redis on 127.0.0.1:6379", client is not None)
    client.flushdb()
    yield client
    client.flushdb()


def conn(sid, uid, ns="/chat"):
    return Connection(sid=sid, namespace=ns, user_id=uid, username=f"u{uid}", is_admin=False,
                      transport="websocket", ip="127.0.0.1")


def test_counts_span_processes(r):
    from realtime.redis_state import RedisState

    a, b = RedisState(URL, "procA"), RedisState(URL, "procB")
    assert a.add(conn("s1", 1)) == 1  # first connection of user 1: online
    assert b.add(conn("s2", 1)) == 2
    assert b.add(conn("s3", 2)) == 1
    assert a.online_user_ids("/chat") == {1, 2}
    assert a.user_connections(1) == 2 and a.local_count() == 1
    assert {c.sid for c in a.connections()} == {"s1", "s2", "s3"}
    assert a.get("s2", "/chat") is None and b.get("s2", "/chat").user_id == 1
    assert a.remove("s1", "/chat")[1] == 1  # another tab elsewhere: still online
    assert b.remove("s2", "/chat")[1] == 0  # the last one: offline
    assert a.online_user_ids("/chat") == {2}


def test_a_dead_process_is_reaped_and_its_users_go_offline(r):
    from realtime.redis_state import RedisState

    alive = RedisState(URL, "alive", expiry=1)
    dead = RedisState(URL, "dead", expiry=1)
    alive.add(conn("s1", 1))
    dead.add(conn("s2", 1))
    dead.add(conn("s3", 2))
    dead.add(conn("s4", 2, ns="/market"))
    time.sleep(1.2)
    alive.heartbeat()
    assert alive.reap_dead() == {"/chat": {2}, "/market": {2}}
    assert alive.online_user_ids("/chat") == {1}
    assert alive.user_connections(1) == 1 and alive.user_connections(2) == 0
    assert {c.sid for c in alive.connections()} == {"s1"}
    assert alive.reap_dead() == {}


def test_leases_move_when_the_holder_stops_renewing(r):
    from realtime.redis_state import RedisState

    a, b = RedisState(URL, "a"), RedisState(URL, "b")
    assert a.acquire_lease("feed", "a", 0.5)
    assert not b.acquire_lease("feed", "b", 0.5)
    assert a.acquire_lease("feed", "a", 0.5)  # renewal
    time.sleep(0.6)
    assert b.acquire_lease("feed", "b", 0.5)
    assert not a.acquire_lease("feed", "a", 0.5)


def test_a_process_taken_for_dead_publishes_its_connections_again(r):
    from realtime.redis_state import RedisState

    slow = RedisState(URL, "slow", expiry=1)
    other = RedisState(URL, "other", expiry=1)
    slow.add(conn("s1", 7))
    time.sleep(1.2)
    other.heartbeat()
    assert other.reap_dead() == {"/chat": {7}}
    assert other.online_user_ids("/chat") == set()
    slow.heartbeat()  # it was only stalled: it comes back with what it holds
    assert other.online_user_ids("/chat") == {7}
    assert {c.sid for c in other.connections()} == {"s1"}


def test_republishing_is_idempotent(r):
    from realtime.redis_state import RedisState

    a = RedisState(URL, "a", expiry=1)
    a.add(conn("s1", 7))
    a.add(conn("s2", 7))
    a._republish()
    a._republish()
    assert a.user_connections(7) == 2
    assert a.remove("s1", "/chat")[1] == 1


def test_user_sids_span_processes_and_forget_a_dead_ones_sockets(r):
    """The index room:leave uses to reach every tab of a user (realtime/rooms.py)."""
    from realtime.redis_state import RedisState

    a, b = RedisState(URL, "procA", expiry=1), RedisState(URL, "procB", expiry=1)
    a.add(conn("s1", 1))
    b.add(conn("s2", 1))
    b.add(conn("s3", 2))
    a.add(conn("s4", 1, ns="/market"))
    assert sorted(b.user_sids(1, "/chat")) == ["s1", "s2"]
    assert a.user_sids(1, "/market") == ["s4"]
    a.remove("s1", "/chat")
    assert a.user_sids(1, "/chat") == ["s2"]
    time.sleep(1.2)  # b stops heartbeating: past its expiry it is dead
    a.heartbeat()
    a.reap_dead()
    assert a.user_sids(1, "/chat") == [] and a.user_sids(2, "/chat") == []
    assert a.user_sids(1, "/market") == ["s4"]


def test_a_clean_stop_after_a_user_left_here_but_not_elsewhere(r):
    """A user who closed their tab on this process while still connected through
    another left a 0 in this process's share; the stop's reaper sent it to
    HINCRBY as "-0", which Redis refuses ("value is not an integer"), and the
    process ran on until it was killed. Now the share goes with its last socket
    and the reaper skips zeros."""
    from realtime.redis_state import RedisState

    a, b = RedisState(URL, "procA"), RedisState(URL, "procB")
    a.add(conn("s1", 1))
    b.add(conn("s2", 1))
    a.add(conn("s3", 2))
    assert a.remove("s1", "/chat")[1] == 1  # still online through procB
    assert r.hget(b"sb:users:/chat:procA", b"1") is None
    r.hset("sb:users:/chat:procA", "1", 0)  # what an earlier version left behind
    a.shutdown()  # raised ResponseError before
    assert b.online_user_ids("/chat") == {1}
    assert b.user_connections(1) == 1 and b.user_connections(2) == 0
