"""Fixtures of the security suite: real servers (``python app.py``) with chosen settings.

Every server started here is stopped by PID when its module (or test) ends.
"""
from __future__ import annotations

import pytest

from tests.security import mutants
from tests.security.helpers import MUTANT, SecServerProcess

if MUTANT:  # in-process tests (test client) get the same defence removed
    mutants.apply(MUTANT)


def _starter(request, started: list):
    module = request.module.__name__.rsplit(".", 1)[-1]

    def start(env: dict | None = None, mode: str = "eventlet", name: str | None = None,
              cls=SecServerProcess):
        srv = cls(async_mode=mode, env={k: str(v) for k, v in (env or {}).items()},
                  name=name or module)
        started.append(srv)
        return srv.start()

    return start


@pytest.fixture(scope="module")
def module_servers(request):
    """start(env=..., mode=...) -> a running server, stopped when the module ends."""
    started: list = []
    yield _starter(request, started)
    for srv in started:
        srv.stop()


@pytest.fixture
def servers(request):
    """start(env=..., mode=...) -> a running server, stopped when the test ends."""
    started: list = []
    yield _starter(request, started)
    for srv in started:
        srv.stop()


@pytest.fixture
def clients():
    """connect(server_or_url, user, transport, via='token'|'cookie', **kw) -> connected Client.

    ``connect.make(...)`` returns one not yet connected. All are closed at the end.
    """
    from tests.support.clients import Client

    made: list = []

    def make(server, user=None, transport="websocket", via="token", **kwargs):
        base = getattr(server, "url", server)
        if user is not None and "token" not in kwargs and "http" not in kwargs \
                and "auth" not in kwargs and "cookie" not in kwargs:
            if via == "token":
                kwargs["token"] = user.token()
            else:
                kwargs["http"] = user.http
        client = Client(base, transport, **kwargs)
        made.append(client)
        return client

    def connect(server, user=None, transport="websocket", via="token", **kwargs):
        return make(server, user, transport, via, **kwargs).connect()

    connect.make = make
    yield connect
    for client in made:
        try:
            client.disconnect(wait=False, timeout=5)
        except Exception:  # teardown must not hide the test's own failure
            pass


@pytest.fixture(scope="session")
def proxied_server(request):
    """One server behind a (pretend) proxy: TRUSTED_PROXIES=1, LOG_FORMAT=json."""
    srv = SecServerProcess(env={"TRUSTED_PROXIES": "1", "LOG_FORMAT": "json"},
                        name="security-proxied")
    yield srv.start()
    srv.stop()
