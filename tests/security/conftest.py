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


@pytest.fixture(scope="session")
def proxied_server(request):
    """One server behind a (pretend) proxy: TRUSTED_PROXIES=1, LOG_FORMAT=json."""
    srv = SecServerProcess(env={"TRUSTED_PROXIES": "1", "LOG_FORMAT": "json"},
                        name="security-proxied")
    yield srv.start()
    srv.stop()
