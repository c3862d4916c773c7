"""`make test` runs pytest on several workers (xdist, --dist loadgroup): the groups
that keep it correct are checked here, not left to a lucky schedule.

- Redis databases: a number belongs to one module (or one glob of modules),
  and every module that owns one runs whole in that number's group;
- a module's tests that share a server run on one worker, per server;
- the SERIAL modules (floods, hashing, deadlines, the benchmark) share one group.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import SERIAL
from tests.support import services
from tests.support.services import REDIS_DATABASES, redis_group

ROOT = Path(__file__).resolve().parents[2]


def test_each_redis_database_belongs_to_one_module():
    owners = defaultdict(set)
    for key, number in REDIS_DATABASES.items():
        owners[number].add(key.split("::", 1)[0])
    shared = {n: keys for n, keys in owners.items() if len(keys) > 1}
    assert not shared, f"one Redis database for several modules: {shared}"
    assert all(1 <= n <= 15 for n in owners), "0 is left to `make run`; Redis has 16 by default"


def test_every_module_that_owns_a_database_has_one_group_holding_all_its_numbers():
    groups = defaultdict(set)  # number -> groups it appears in
    for path in (ROOT / "tests").rglob("test_*.py"):
        group = redis_group(str(path.relative_to(ROOT)))
        if group is not None:
            for number in group.removeprefix("redis-").split("-"):
                groups[int(number)].add(group)
    assert set(groups) == set(REDIS_DATABASES.values()), "a row of REDIS_DATABASES matches no test file"
    assert all(len(g) == 1 for g in groups.values()), dict(groups)


def test_a_test_using_a_database_its_module_does_not_own_fails(monkeypatch):
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/unit/test_config.py::test_x (call)")
    with pytest.raises(AssertionError, match="does not own"):
        with services.redis_db(REDIS_DATABASES["tests/unit/test_redis_state.py"]):
            pass
    monkeypatch.setenv("PYTEST_CURRENT_TEST", "tests/unit/test_market_cli.py::test_x (setup)")
    services._check_owner(REDIS_DATABASES["tests/unit/test_market_*.py"])  # a glob row: owned


PLUGIN = textwrap.dedent("""
    def pytest_collection_finish(session):
        for item in session.items:
            marks = [m.args[0] for m in item.iter_markers("xdist_group")]
            print("GROUP\t" + item.nodeid + "\t" + (marks[0] if marks else "-"))
""")


@pytest.fixture(scope="module")
def groups(tmp_path_factory) -> dict[str, str]:
    """node id -> xdist group, as tests/conftest.py marks them at collection."""
    folder = tmp_path_factory.mktemp("plugin")
    (folder / "print_groups.py").write_text(PLUGIN)
    files = ["tests/e2e/test_chat_e2e.py", "tests/security/test_floods.py",
             "tests/unit/test_market_quotes.py", "tests/unit/test_config.py",
             "tests/browser/test_layout_browser.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", "-p", "print_groups", *files],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(folder)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    found = {}
    for line in result.stdout.splitlines():
        if line.startswith("GROUP\t"):
            _, node_id, group = line.split("\t")
            found[node_id] = group
    assert found, result.stdout[-3000:]
    return found


def _of(groups: dict[str, str], path: str) -> set[str]:
    return {g for node_id, g in groups.items() if node_id.startswith(path + "::")}


def test_an_e2e_module_runs_in_one_group_per_server(groups):
    assert _of(groups, "tests/e2e/test_chat_e2e.py") == {
        f"tests/e2e/test_chat_e2e.py[server={mode}]"
        for mode in ("eventlet", "gevent", "eventlet-postgres")}


def test_serial_modules_share_one_group(groups):
    assert "tests/security/test_floods.py" in SERIAL
    assert _of(groups, "tests/security/test_floods.py") == {"serial"}


def test_a_module_owning_a_redis_database_runs_whole_in_its_group(groups):
    assert _of(groups, "tests/unit/test_market_quotes.py") == {
        f"redis-{REDIS_DATABASES['tests/unit/test_market_*.py']}"}


def test_tests_that_share_nothing_run_anywhere(groups):
    assert _of(groups, "tests/unit/test_config.py") == {"-"}


def test_browser_tests_share_their_modules_server(groups):
    assert _of(groups, "tests/browser/test_layout_browser.py") == {"tests/browser/test_layout_browser.py"}


def test_under_xdist_a_group_runs_on_one_worker_and_the_rest_spreads():
    """The real thing: two workers, --dist loadgroup, as `make test` runs it.

    pytest-xdist 3.8 with pytest 9.2 drops the groups silently (the node-id
    suffix it relies on no longer sticks), so without tests/support/xdist_groups.py
    the Redis module's tests land on both workers and this fails.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-o", "addopts=",
         "-n", "2", "--dist", "loadgroup",
         "tests/unit/test_market_quotes.py", "tests/unit/test_config.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    workers = defaultdict(set)  # file -> workers that ran its tests
    for line in result.stdout.splitlines():
        m = re.match(r"\[(gw\d+)\] \[\s*\d+%\] (?:PASSED|SKIPPED) (\S+)", line)
        if m:
            workers[m.group(2).split("::", 1)[0]].add(m.group(1))
    assert workers["tests/unit/test_market_quotes.py"], result.stdout[-3000:]
    assert len(workers["tests/unit/test_market_quotes.py"]) == 1, dict(workers)
    assert workers["tests/unit/test_config.py"] - workers["tests/unit/test_market_quotes.py"], \
        f"the ungrouped tests never ran beside the group: {dict(workers)}"
