"""Shared steps of the browser tests: the real forms, the chat page's DOM contract.

The page's contract (static/js/chat/): ``#conn-badge[data-state][data-transport]``,
``li.room[data-room-id][data-room-name]``, ``#message-list .message[data-id][data-seq]``
with ``.message-text`` (exactly the text), ``#pending-list .message.pending[data-client-id]``,
``textarea#composer``, ``window.switchboard`` (a read-only debug hook).
"""
from __future__ import annotations

import contextlib
import json
import re

from playwright.sync_api import BrowserContext, Page, Route, expect

from tests.conftest import require_binary
from tests.support.clients import unique
from tests.support.server import ROOT, ServerProcess

PASSWORD = "correct-horse-battery"
SOCKET_IO = re.compile(r"/socket\.io/")
TIMEOUT_MS = 15_000
# The two widths every page must fit: a phone and a laptop; the README's screenshots are
# taken at them into SHOTS (documentation, not compared).
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
SHOTS = ROOT / "docs" / "screenshots"
# [scrollWidth, innerWidth]: the page scrolls sideways when the first is the larger.
OVERFLOW = "() => [document.documentElement.scrollWidth, window.innerWidth]"


@contextlib.contextmanager
def browser_server(name: str, interval: str = "0.5", seed: str = "5"):
    """A server for a browser test (Chromium required): eventlet, the simulated
    market with a fixed seed, a tick every ``interval`` seconds."""
    require_binary("chromium")
    env = {"MARKET_INTERVAL": interval, "MARKET_SEED": seed, "MARKET_SOURCE": "simulator"}
    with ServerProcess(async_mode="eventlet", env=env, name=name) as srv:
        yield srv


def new_context(browser, server) -> BrowserContext:
    ctx = browser.new_context(base_url=server.url, viewport=DESKTOP)
    ctx.set_default_timeout(TIMEOUT_MS)
    return ctx


def overflow(page: Page) -> tuple[int, int]:
    """(scrollWidth, innerWidth): the page scrolls sideways when the first is the larger."""
    scroll_width, inner_width = page.evaluate(OVERFLOW)
    return scroll_width, inner_width


def shot(page: Page, name: str) -> None:
    """docs/screenshots/<name>.png, for the README (documentation, not compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


# -- accounts, through the real HTML forms ------------------------------------
def register(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/register")
    page.fill("#register-form #username", username)
    page.fill("#register-form #password", password)
    page.fill("#register-form #confirm", password)
    page.click("#register-form button[type=submit]")
    page.wait_for_url(re.compile(r"/chat$"))


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#login-form #username", username)
    page.fill("#login-form #password", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/chat$"))


def logout(page: Page) -> None:
    page.click("#logout")
    page.wait_for_url(re.compile(r"/login"))


# -- the chat page ---------------------------------------------------------------
def wait_connected(page: Page, transport: str | None = None, timeout: float = 30_000) -> None:
    """Connected (after going back online the client's backoff can reach 5 s,
    and a loaded CI machine adds to it)."""
    selector = "#conn-badge[data-state=connected]"
    if transport:
        selector += f"[data-transport={transport}]"
    page.wait_for_selector(selector, timeout=timeout)


def wait_room_ready(page: Page, name: str = "general") -> int:
    """The room is shown, its history loaded; returns its id."""
    page.wait_for_selector(f"li.room.active[data-room-name='{name}']")
    page.wait_for_selector("#messages[data-state=ready]")
    return int(page.get_attribute(f"li.room[data-room-name='{name}']", "data-room-id"))


def open_chat(page: Page) -> int:
    wait_connected(page)
    return wait_room_ready(page)


def type_and_send(page: Page, text: str) -> None:
    page.fill("#composer", text)
    page.press("#composer", "Enter")


def chat_both_ways(alice: Page, bob: Page, from_alice: str, from_bob: str, rounds: int = 2) -> None:
    """Each page sends ``rounds`` messages in turn (texts made unique); every one
    shows exactly once on both pages before the next is sent."""
    for round_ in range(rounds):
        for sender, other, text in ((alice, bob, from_alice), (bob, alice, from_bob)):
            sent = f"{text}, round {round_} {unique('t')}"
            type_and_send(sender, sent)
            expect_once(other, sent)
            expect_once(sender, sent)


def stored(page: Page, text: str):
    """Stored (acknowledged) messages of the shown room whose text is exactly ``text``."""
    return page.locator("#message-list .message").filter(
        has=page.locator(".message-text", has_text=re.compile("^" + re.escape(text) + "$")))


def pending(page: Page, text: str | None = None):
    loc = page.locator("#pending-list .message.pending")
    if text is not None:
        loc = loc.filter(has=page.locator(".message-text", has_text=re.compile("^" + re.escape(text) + "$")))
    return loc


def count_exact(page: Page, text: str) -> int:
    """How many ``.message`` elements anywhere (stored or pending) show exactly ``text``."""
    return page.evaluate(
        """(text) => Array.from(document.querySelectorAll('.message .message-text'))
                          .filter((n) => n.textContent === text).length""", text)


def expect_once(page: Page, text: str) -> None:
    expect(stored(page, text)).to_have_count(1)
    assert count_exact(page, text) == 1, f"{text!r} shown {count_exact(page, text)} times"


def server_history(page: Page, room_id: int) -> list[dict]:
    """The room's history as the server holds it, asked over the page's own socket."""
    ack = page.evaluate(
        """(room) => new Promise((resolve) => window.switchboard.socket.timeout(10000)
               .emit('history', {room: room, limit: 100}, (err, ack) => resolve(err ? {ok: false} : ack)))""",
        room_id)
    assert ack.get("ok"), ack
    return ack["messages"]


def outbox(page: Page) -> list[dict]:
    """What the page keeps in localStorage for the logged-in user."""
    raw = page.evaluate(
        "() => localStorage.getItem('switchboard.outbox.' + document.getElementById('app').dataset.userId)")
    return json.loads(raw) if raw else []


def close_contexts(*contexts: BrowserContext) -> None:
    """Hang up every page's Socket.IO connections, then close the contexts.

    A closed page does not end its Engine.IO long-poll on the server; the
    server then takes 10 s to stop (SIGTERM waits for that request and
    ServerProcess.stop() ends with SIGKILL). A clean disconnect answers it.
    """
    for ctx in contexts:
        for page in ctx.pages:
            try:
                page.evaluate("""() => {
                    for (const s of [window.sock, window.switchboard && window.switchboard.socket]) {
                        if (s && typeof s.disconnect === "function") s.disconnect();
                    }
                }""")
            except Exception:  # noqa: BLE001 - a page that is gone has nothing to hang up
                pass
        ctx.close()


def console_problems(watch, ignore: tuple[str, ...] = ()) -> list[str]:
    return [e for e in watch.errors if not any(i in e for i in ignore)]


# -- an offline reload --------------------------------------------------------------
class AppShellCache:
    """What a service worker's cache would give an offline reload, and nothing more.

    ``context.set_offline(True)`` makes every request of the page fail,
    the document included, so ``page.reload()`` while offline shows
    Chromium's error page: a browser without a cached copy of the page has
    nothing to reload. Switchboard has no service worker (it would be one
    more moving part for a chat used on a network), so the closest honest
    stand-in is this: while online, every GET of the page and its static
    files goes through to the server and its answer is kept; while
    "offline", those requests are answered only from what was kept, and
    everything else, Socket.IO above all, is left to the offline network
    and fails. So the reload while offline loads the page the browser saw
    before, and the page itself has no connection: what it shows comes from
    its own localStorage.
    """

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.offline = False
        self.kept: dict[str, tuple[int, dict, bytes]] = {}
        self.served_from_cache: list[str] = []
        self.base = base_url
        context.route(lambda url: url.startswith(base_url) and not SOCKET_IO.search(url), self._handle)

    def _handle(self, route: Route) -> None:
        request = route.request
        if request.method != "GET":
            route.fallback()
            return
        url = request.url
        if self.offline:
            if url in self.kept:
                status, headers, body = self.kept[url]
                self.served_from_cache.append(url)
                route.fulfill(status=status, headers=headers, body=body)
            else:
                route.abort("internetdisconnected")
            return
        # Online: keep a copy (fetched beside the page's own request), and let
        # the page's request go to the server itself. Answering it with
        # route.fulfill() would make Chromium's Local Network Access checks
        # treat the page as a public one and refuse its WebSocket to 127.0.0.1.
        try:
            copy = route.fetch()
            if copy.status == 200:
                # A replayed Set-Cookie could roll the session back: content only.
                headers = {k: v for k, v in copy.headers.items() if k.lower() != "set-cookie"}
                self.kept[url] = (copy.status, headers, copy.body())
        except Exception:  # noqa: BLE001 - the copy is best effort; the page's request is not
            pass
        route.continue_()
