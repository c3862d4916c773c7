"""End-to-end fixtures: the real server as a subprocess, under eventlet and gevent."""
from __future__ import annotations

import itertools

import pytest

from tests.support.server import ServerProcess

_names = itertools.count(1)


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request):
    """One real server per test module and async mode (both run in CI)."""
    with ServerProcess(async_mode=request.param, name=request.module.__name__.rsplit(".", 1)[-1]) as srv:
        yield srv


@pytest.fixture
def username():
    """A fresh username per call site (servers are shared within a module)."""
    return lambda prefix="user": f"{prefix}{next(_names)}"


@pytest.fixture(params=["websocket", "polling"])
def transport(request):
    return request.param
