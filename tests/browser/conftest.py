"""Browser fixtures: Playwright driving Debian's Chromium against the real server.

Never a downloaded browser: /usr/bin/chromium (apt-get install chromium).
Screenshots go to test-output/.
"""
from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import require
from tests.support.server import OUTPUT, ServerProcess

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or (
        "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    require("Chromium (/usr/bin/chromium)", path is not None, "apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def live_server():
    with ServerProcess(async_mode="eventlet", name="browser") as srv:
        yield srv


class PageWatch:
    """Console errors, page errors and CSP violations seen by a page."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        self.csp: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))

    def _console(self, msg) -> None:
        text = msg.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp.append(text)
        elif msg.type == "error":
            # A failed request's message names no URL; its location does.
            url = (msg.location or {}).get("url", "")
            self.errors.append(f"{text} [{url}]" if url and url not in text else text)


@pytest.fixture
def watch():
    return PageWatch


@pytest.fixture
def screenshot():
    OUTPUT.mkdir(exist_ok=True)

    def shot(page, name: str) -> str:
        path = OUTPUT / f"{name}.png"
        page.screenshot(path=str(path), full_page=False)
        return str(path)

    return shot
