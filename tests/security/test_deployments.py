"""Two deployments on one Redis server never see each other's broadcasts.

Redis pub/sub channels ignore the database number, so with Flask-SocketIO's
default channel a deployment on ``redis://.../14`` received every broadcast
of one on ``.../10`` (its clients got the other deployment's messages in the
room with the same id). Each deployment now has its own channel, named by
``DEPLOYMENT`` or, unset, by a hash of its database URL
(realtime/state.pubsub_channel). The control: a second process of the same
deployment does receive them.
"""
from __future__ import annotations

import contextlib
import uuid
from pathlib import Path

import pytest
import redis

from realtime.state import pubsub_channel
from tests.security.helpers import SecServerProcess, make_user, unique
from tests.support.services import REDIS_DATABASES, REDIS_URL, redis_db

GENERAL = 1  # every fresh install has general with id 1: the same room id in both


@contextlib.contextmanager
def deployment_pair(set_deployment: bool):
    """Deployment A (two processes, one database) and deployment B (one process),
    on two databases of the same Redis server."""
    with redis_db(REDIS_DATABASES["tests/security/test_deployments.py::a"]) as queue_a, \
            redis_db(REDIS_DATABASES["tests/security/test_deployments.py::b"]) as queue_b:
        env_a, env_b = {"MESSAGE_QUEUE": queue_a}, {"MESSAGE_QUEUE": queue_b}
        if set_deployment:
            env_a["DEPLOYMENT"], env_b["DEPLOYMENT"] = unique("alpha"), unique("beta")
        a1 = SecServerProcess(env=env_a, name="deployment-a1")
        a2 = SecServerProcess(async_mode="gevent", env=env_a, instance_path=a1.instance_path,
                              name="deployment-a2")
        b = SecServerProcess(env=env_b, name="deployment-b")
        started = []
        try:
            for srv in (a1, a2, b):
                started.append(srv.start())
            yield a1, a2, b
        finally:
            for srv in started:
                srv.stop()


@pytest.mark.parametrize("set_deployment", [True, False], ids=["DEPLOYMENT", "database-url"])
def test_a_deployments_broadcasts_never_reach_another_deployment(set_deployment, clients):
    with deployment_pair(set_deployment) as (a1, a2, b):
        sender_user, peer_user, stranger = make_user(a1, "dpa"), make_user(a1, "dpp"), \
            make_user(b, "dpb")
        sender = clients(a1, sender_user)
        peer = clients(a2, peer_user, "polling")
        outsider = clients(b, stranger)
        for client in (sender, peer, outsider):
            assert client.call("room:join", {"room": GENERAL})["ok"]
        texts = [f"deployment A only {uuid.uuid4().hex}" for _ in range(3)]
        for text in texts:
            ack = sender.call("message:send", {"room": GENERAL, "text": text,
                                               "client_id": uuid.uuid4().hex})
            assert ack["ok"], ack
        # Control: the other process of deployment A receives all of them.
        peer.wait_for_count("message", 3, lambda m: m["text"] in texts, timeout=10)
        outsider.assert_no_event("message", lambda m: m["text"] in texts, within=1.0)
        # On the Redis server: each deployment subscribed to its own channel.
        subscribed = set(redis.Redis.from_url(REDIS_URL, decode_responses=True)
                         .pubsub_channels("switchboard:*"))
        assert {channel_of(a1), channel_of(b)} <= subscribed, subscribed
        assert channel_of(a1) == channel_of(a2) != channel_of(b)


def channel_of(server) -> str:
    env = server.env()
    database = env.get("DATABASE_URL") or \
        f"sqlite:///{Path(env['INSTANCE_PATH']) / 'switchboard.db'}"
    return pubsub_channel(env.get("DEPLOYMENT"), database)


def test_channel_names_are_per_deployment_and_hide_the_database_url():
    pg = "postgresql+psycopg://switchboard:s3cret@db.internal:5432/switchboard"
    assert pubsub_channel("chat-prod", pg) == "switchboard:chat-prod"
    derived = pubsub_channel(None, pg)
    assert derived.startswith("switchboard:db:") and len(derived) == len("switchboard:db:") + 16
    assert "s3cret" not in derived and "db.internal" not in derived
    assert pubsub_channel(None, pg) == derived  # stable: every process computes the same
    assert pubsub_channel(None, pg.replace("/switchboard", "/staging")) != derived
    assert pubsub_channel(None, "sqlite:////srv/a/switchboard.db") != \
        pubsub_channel(None, "sqlite:////srv/b/switchboard.db")
