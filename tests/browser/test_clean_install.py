"""What a Flask user does first works: a fresh venv, `pip install -r requirements.txt`, `python app.py`.

No Node, no npm, no dev requirements: the server runs from a copy of the
repository's tracked files (so no node_modules and no untracked
static/vendor) in a new virtualenv holding requirements.txt only (pip's
cache makes the second run quick). Two users register in Chromium and chat
both ways; the second browser has no ``window.WebSocket`` at all (removed
before any page script runs, as in a legacy browser), so its page must stay
on long-polling and say so.

Slow (a venv and a pip install: ~20-60 s, more on a cold pip cache), so it is
marked ``slow``; `make test` runs it. Every step is bounded.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    chat_both_ways,
    close_contexts,
    console_problems,
    new_context,
    open_chat,
    register,
    unique,
    wait_connected,
)
from tests.support.checkout import copy_tracked
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

VENV_TIMEOUT = 120
PIP_TIMEOUT = 420  # a cold cache downloads ~60 MB of wheels


def _run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    assert done.returncode == 0, (f"{' '.join(cmd)} exited {done.returncode}:\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


class CleanInstallServer(ServerProcess):
    """``python app.py`` of the clean venv, in the copy (not the work tree)."""

    def __init__(self, python: Path, repo: Path, **kw) -> None:
        super().__init__(**kw)
        self.python, self.repo = python, repo

    def env(self) -> dict:
        env = super().env()
        for key in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
            env.pop(key, None)
        return env

    def command(self) -> list[str]:
        # ServerProcess starts its command in the work tree; the copy is the cwd
        # here, as for someone who cloned it and typed `python app.py` inside.
        return ["/bin/sh", "-c", 'cd "$0" && exec "$1" app.py', str(self.repo), str(self.python)]


@pytest.fixture(scope="module")
def clean_install(tmp_path_factory):
    started = time.monotonic()
    base = tmp_path_factory.mktemp("clean-install")
    repo = copy_tracked(base / "switchboard")
    assert not (repo / "node_modules").exists()
    assert (repo / "static" / "vendor" / "socket.io.min.js").is_file(), \
        "static/vendor is not committed: a clone would serve pages that cannot connect"

    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], VENV_TIMEOUT)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PIP_NO_CACHE_DIR", "PIP_REQUIRE_VIRTUALENV")}
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          "-r", str(repo / "requirements.txt")], PIP_TIMEOUT, cwd=repo, env=env)
    # Only the runtime requirements: nothing from requirements-dev.txt.
    probe = subprocess.run([str(python), "-c", "import flask_socketio, eventlet; import pytest"],
                           capture_output=True, text=True, timeout=60)
    assert "No module named 'pytest'" in probe.stderr, probe.stderr
    installed = time.monotonic() - started

    with CleanInstallServer(python, repo, name="clean-install") as server:
        yield server
    print(f"\nclean install: copy + venv + pip install {installed:.1f} s, "
          f"everything {time.monotonic() - started:.1f} s")


def test_fresh_venv_without_node_serves_chat_websocket_and_legacy_polling(
        browser, clean_install, watch, screenshot):
    server = clean_install
    ctx_modern = new_context(browser, server)
    ctx_legacy = new_context(browser, server)
    # A browser without WebSocket: gone before the page's (and socket.io's) scripts run.
    ctx_legacy.add_init_script("delete window.WebSocket;")
    try:
        alice, bob = ctx_modern.new_page(), ctx_legacy.new_page()
        watch_a, watch_b = watch(alice), watch(bob)
        a_name, b_name = unique("alice"), unique("bob")
        register(alice, a_name)  # the first account: the admin, with the Admin link
        register(bob, b_name)
        expect(alice.locator("#admin-link")).to_have_attribute("href", "/admin")
        expect(bob.locator("#admin-link")).to_have_count(0)

        assert open_chat(alice) == open_chat(bob)
        assert bob.evaluate("typeof window.WebSocket") == "undefined"
        wait_connected(alice, "websocket")
        wait_connected(bob, "polling")

        chat_both_ways(alice, bob, "from the websocket page", "from the legacy page")

        assert bob.get_attribute("#conn-badge", "data-transport") == "polling"
        expect(bob.locator("#conn-badge")).to_contain_text("polling")
        expect(alice.locator("#conn-badge")).to_contain_text("websocket")
        screenshot(bob, "clean-install-legacy-polling")
        assert console_problems(watch_a) == []
        assert console_problems(watch_b) == []
    finally:
        close_contexts(ctx_modern, ctx_legacy)
