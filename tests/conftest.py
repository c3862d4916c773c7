"""Test-wide rules: what must run in CI, and which layer each test belongs to.

Layers are marked here, by where a test lives and what it starts, so nobody has
to remember a decorator (pytest.ini registers the markers; --strict-markers is on):

- ``e2e``: starts a real server or another process that serves (tests/e2e,
  tests/bench, and every test under tests/security whose fixtures or body
  start a server);
- ``browser``: drives Chromium (tests/browser);
- ``slow``: takes tens of seconds on its own (``SLOW`` below, with the time
  measured for each).

Everything else runs in-process (unit, integration, and the security tests
that use the Flask-SocketIO test client) and is what ``make test-fast`` runs:
``pytest -m "not e2e and not browser and not slow"``. A test left unmarked that
starts a server anyway fails at once (``tests.support.server.ServerProcess.start``
checks the running test's markers), so a misclassified test cannot slow the
fast layer down unnoticed.
"""
from __future__ import annotations

import inspect
import os
import shutil
from pathlib import Path

import pytest

from tests.support.clients import clients  # noqa: F401  (the shared fixture, for every layer)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
TESTS = Path(__file__).resolve().parent

# Fixtures that start a real server (directly or through the fixtures they use;
# pytest's fixture closure is transitive, so a module's own ``tls_server`` built
# on ``module_servers`` counts too).
SERVER_FIXTURES = {"server", "servers", "module_servers", "proxied_server", "live_server"}
# Tests that take tens of seconds each, measured on the 2-core machine with
# `pytest --durations` (setup + call). ``make test`` runs them; test-fast does not.
SLOW = {
    # a fresh venv and `pip install -r requirements.txt`: 33 s setup
    "tests/browser/test_clean_install.py",
    # bench/run.py --smoke against every server (module fixture, ~60-100 s)
    "tests/bench/test_bench_smoke.py",
    # a real two-worker pytest-xdist run (~10-20 s: two workers import the app)
    "tests/unit/test_xdist_groups.py::test_under_xdist_a_group_runs_on_one_worker_and_the_rest_spreads",
}

DIRECTORY_MARKERS = {"e2e": "e2e", "bench": "e2e", "browser": "browser"}


def _layer_of(item: pytest.Item) -> str | None:
    """"e2e", "browser" or None (in-process) for one collected test."""
    try:
        part = Path(str(item.fspath)).resolve().relative_to(TESTS).parts[0]
    except ValueError:
        return None
    if part in DIRECTORY_MARKERS:
        return DIRECTORY_MARKERS[part]
    if part != "security":
        return None  # unit, integration: in-process by definition
    if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "e2e"
    functions = [getattr(item, "function", None)]
    for defs in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
        functions.extend(d.func for d in defs)
    return "e2e" if _starts_a_server(f for f in functions if f is not None) else None


def _starts_a_server(functions) -> bool:
    """Whether these functions, or the test helpers they call (followed through
    the globals their code names, nested functions included), build a
    ``ServerProcess``: e.g. a test that opens ``deployment_pair()``, which
    starts three servers itself."""
    from tests.support.server import ServerProcess

    seen: set[int] = set()
    todo = list(functions)
    while todo:
        fn = inspect.unwrap(todo.pop())
        code = getattr(fn, "__code__", None)
        if code is None or id(code) in seen:
            continue
        seen.add(id(code))
        codes = [code]
        while codes:
            c = codes.pop()
            codes.extend(k for k in c.co_consts if inspect.iscode(k))
            for name in c.co_names:
                target = fn.__globals__.get(name)
                if inspect.isclass(target) and issubclass(target, ServerProcess):
                    return True
                if inspect.isfunction(inspect.unwrap(target) if callable(target) else None) \
                        and str(getattr(target, "__module__", "")).startswith("tests."):
                    todo.append(target)
    return False


def _is_slow(item: pytest.Item) -> bool:
    path = item.nodeid.split("::", 1)[0]
    return path in SLOW or item.nodeid.split("[", 1)[0] in SLOW


# Modules that run one after another in one xdist group under `make test`
# (pytest -n, --dist loadgroup): they load the machine on purpose (floods, 40
# concurrent password hashes, the benchmark pinned to both cores) or bound how
# long the server may take to answer under such load (header and handshake
# deadlines, "answered at once"); two of them at the same time would measure
# each other. Other tests still run beside them on the other workers.
SERIAL = {
    "tests/bench/test_bench_smoke.py",
    "tests/security/test_floods.py",
    "tests/security/test_login_budget.py",
    "tests/security/test_weaknesses.py",
    "tests/security/test_tls.py",
    "tests/security/test_limits.py",
}


def _xdist_group(item: pytest.Item) -> str | None:
    """The xdist group a test runs in under `make test` (None: any worker, alone).

    1. A module that owns a Redis database (tests/support/services.py
       REDIS_DATABASES) runs whole in that database's group: two workers never
       use (and flush) one database at the same time.
    2. SERIAL modules share one group.
    3. Tests that share a module-scoped fixture (a server, a browser page's
       server) run on one worker, per parametrisation of those fixtures, so each
       server starts once, as in a serial run; the three servers of an e2e
       module (eventlet, gevent, PostgreSQL) can run on three workers.
    """
    from tests.support.services import redis_group

    path = item.nodeid.split("::", 1)[0]
    group = redis_group(path)
    if group is not None:
        return group
    if path in SERIAL:
        return "serial"
    defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    shared = sorted(name for name, fixturedefs in defs.items()
                    if fixturedefs and str(fixturedefs[-1].scope) in ("module", "package", "class"))
    if not shared:
        return None
    params = getattr(getattr(item, "callspec", None), "params", {})
    ids = [f"{name}={params[name]}" for name in shared if name in params]
    return f"{path}[{','.join(ids)}]" if ids else path


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    groups: dict[str, str] = {}
    for item in items:
        layer = _layer_of(item)
        if layer is not None and item.get_closest_marker(layer) is None:
            item.add_marker(getattr(pytest.mark, layer))
        if _is_slow(item) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
        group = _xdist_group(item)
        if group is not None and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(group))
        if group is not None:
            groups[item.nodeid] = group
    worker = getattr(config, "workerinput", {}).get("workerid")
    if worker is not None:
        from tests.support import xdist_groups

        xdist_groups.write(worker, groups)


def pytest_configure(config):
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        from tests.support import xdist_groups

        xdist_groups.start_controller()


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadgroup: xdist's scheduler, given the groups above (tests/support/xdist_groups.py)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.support import xdist_groups

    return xdist_groups.make_scheduler(config, log)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    from tests.support import server

    server.RUNNING_IN_PROCESS_TEST = (item.nodeid if item.get_closest_marker("e2e") is None
                                      and item.get_closest_marker("browser") is None else None)


def require(what: str, available: bool, why: str = "") -> None:
    """In CI a missing Redis/PostgreSQL/Node/Chromium fails the test; elsewhere it skips."""
    if available:
        return
    message = f"{what} is not available{': ' + why if why else ''}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: tests that need it must run)")
    pytest.skip(message + " - skipping on this machine (install it to run this test)")


def require_binary(name: str) -> str:
    path = shutil.which(name)
    require(name, path is not None, "not on PATH")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(request):
    """The app on SQLite, then on a fresh PostgreSQL database (migrations run on both)."""
    from extensions import db
    from tests.support.app import make_app
    from tests.support.services import postgres_database

    if request.param == "sqlite":
        app = make_app()
        with app.app_context():
            yield app
        return
    with postgres_database() as url:
        app = make_app(DATABASE_URL=url)
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
