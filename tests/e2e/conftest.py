"""End-to-end fixtures: the real server as a subprocess, under eventlet and gevent."""
from __future__ import annotations

import contextlib

import pytest

from tests.support import clients as shared
from tests.support.clients import Client, User, disconnect_all
from tests.support.server import ServerProcess
from tests.support.services import postgres_database


@pytest.fixture(scope="module", params=["eventlet", "gevent", "eventlet-postgres"])
def server(request):
    """One real server per test module: eventlet and gevent on SQLite, and once on PostgreSQL.

    The PostgreSQL run gets a fresh database (dropped afterwards); in CI a
    missing PostgreSQL fails the test instead of skipping it.
    """
    mode, _, database = request.param.partition("-")
    name = request.module.__name__.rsplit(".", 1)[-1]
    with contextlib.ExitStack() as stack:
        env = {}
        if database == "postgres":
            env["DATABASE_URL"] = stack.enter_context(postgres_database())
        srv = stack.enter_context(ServerProcess(async_mode=mode, env=env, name=name))
        srv.database = database or "sqlite"
        yield srv


@pytest.fixture
def username():
    """``unique``: a fresh username per call (servers are shared within a module)."""
    return shared.unique


@pytest.fixture(params=["websocket", "polling"])
def transport(request):
    return request.param


@pytest.fixture
def make_user(server):
    """``make_user`` bound to this module's server: a fresh account through the HTML form."""

    def make(prefix: str = "user") -> User:
        return shared.make_user(server, prefix)

    return make


@pytest.fixture
def connect(server, transport):
    """Connect a recording /chat client for a user (token or session cookie).

    Every client made here is disconnected when the test ends.
    """
    made: list[Client] = []

    def _connect(user: User, via: str = "cookie", transport_: str | None = None) -> Client:
        kwargs = {"token": user.token()} if via == "token" else {"http": user.http}
        client = Client(server.url, transport_ or transport, **kwargs)
        made.append(client)
        return client.connect()

    yield _connect
    disconnect_all(made)


@pytest.fixture
def unconnected(server, transport):
    """A recording client that is not connected yet (for refused connections)."""
    made: list[Client] = []

    def _make(**kwargs) -> Client:
        client = Client(server.url, transport, **kwargs)
        made.append(client)
        return client

    yield _make
    disconnect_all(made)
