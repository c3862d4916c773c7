"""axe-core in Chromium on every page: both widths, both themes.

Each page of PAGES is loaded (logged out, as a user or as the admin), filled
with its live data, and axe-core (node_modules/axe-core, a pinned dev
dependency: `npm ci`) runs on it at 1280x800 and 390x844, in the light and
the dark palette (the account's theme is "system", so the browser's
prefers-color-scheme picks it). No violation of impact serious or critical
may remain; a failure lists each rule with its impact and the selectors of
the elements it found.

A new page is one more line in PAGES.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from tests.browser.helpers import (
    TIMEOUT_MS,
    VIEWPORTS,
    browser_server,
    close_contexts,
    open_chat,
    register,
    stored,
    type_and_send,
    wait_connected,
)
from tests.conftest import require
from tests.support.server import ROOT

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Page:
    path: str
    who: str | None  # None: logged out; "user"; "admin" (the first account)
    ready: str  # a selector that is there once the page shows its live data
    status: int = 200
    keys: str | None = None  # pressed once `before` is there (a dialog open, say)
    click: str | None = None  # clicked once `before` is there (a drawer or menu open)
    before: str = "body"
    sizes: tuple[str, ...] = ("desktop", "phone")
    name: str = ""

    @property
    def id(self) -> str:
        base = self.path.strip("/").replace("/", "-") or "root"
        return self.name or base + (f"-{self.who}" if self.who else "")


CHAT_READY = "#messages[data-state=ready]"


def chat_after(name: str, ready: str, **action) -> Page:
    """The user's chat page after one key or click (a dialog, drawer or menu opened), taken
    once its messages are there so the action meets a page that can answer it."""
    return Page("/chat", "user", ready, before=CHAT_READY, name="chat-" + name, **action)


PAGES = [
    Page("/login", None, "#login-form"),
    Page("/register", None, "#register-form"),
    Page("/chat", "user", "#messages[data-state=ready] #message-list .message"),
    chat_after("switcher", "#switcher[open] .switcher-option", keys="Control+k"),
    chat_after("rooms-drawer", "#sidebar.is-open li.room", click="#open-rooms", sizes=("phone",)),
    chat_after("menu", "#topnav.is-open", click="#menu-button", sizes=("phone",)),
    # The rooms and people dialogs (static/js/chat/newroom.js, people.js, roomsettings.js).
    chat_after("room-settings", "#room-settings[open] .sb-section", click="#room-settings-button"),
    chat_after("people", "#people-dialog[open] .person", click="#open-people", sizes=("desktop",)),
    chat_after("new-room", "#new-room-dialog[open] #nr-name", click="#new-room-more",
               sizes=("desktop",)),
    Page("/market", "user", "#quote-rows tr[data-symbol] .mk-price"),
    Page("/admin", "admin", "#connections-table tbody tr"),
    Page("/account/password", "user", "form"),
    Page("/account", "user", "#tokens-empty:not([hidden]), #tokens-table tbody tr"),
    Page("/no-such-page", "user", "#error-back", status=404, name="404"),
    Page("/no-such-page", None, "#error-back", status=404, name="404-logged-out"),
    Page("/admin", "user", "#error-back", status=403, name="403"),
]

THEMES = ("light", "dark")


@pytest.fixture(scope="module")
def axe_source() -> str:
    require("axe-core (node_modules/axe-core)", AXE.exists(), "run `npm ci`")
    return str(AXE)


@pytest.fixture(scope="module")
def a11y_server():
    with browser_server("a11y-browser") as srv:
        yield srv


@pytest.fixture(scope="module")
def sessions(browser, a11y_server, tmp_path_factory):
    """The admin (first account) and a user, logged in once; their cookies as
    Playwright storage states. The chat has a conversation (an edited
    message, one from each) and the user has unread messages in #random."""
    states, contexts = {}, []
    try:
        pages = {}
        for who in ("admin", "user"):
            ctx = browser.new_context(base_url=a11y_server.url, viewport=VIEWPORTS["desktop"])
            ctx.set_default_timeout(TIMEOUT_MS)
            contexts.append(ctx)
            pages[who] = ctx.new_page()
            register(pages[who], f"a11y{who}")
            open_chat(pages[who])
        admin, user = pages["admin"], pages["user"]
        type_and_send(admin, "Welcome! The deploy is at 3pm.")
        type_and_send(user, "Thanks, I will watch the dashboards.")
        message = stored(user, "Thanks, I will watch the dashboards.")
        message.wait_for()
        message.hover()
        message.locator(".message-edit").click()
        user.fill(".message-editor textarea", "Thanks, I will watch the error dashboards.")
        user.keyboard.press("Enter")
        stored(user, "Thanks, I will watch the error dashboards.").wait_for()
        # The user joins #random, then reads #general while the admin writes in #random.
        user.click("li.room[data-room-name='random']")
        user.wait_for_selector("li.room.active[data-room-name='random']")
        user.wait_for_selector("#messages[data-state=ready]")
        user.click("li.room[data-room-name='general']")
        user.wait_for_selector("li.room.active[data-room-name='general']")
        admin.click("li.room[data-room-name='random']")
        admin.wait_for_selector("#messages[data-state=ready]")
        type_and_send(admin, "Lunch at noon?")
        stored(admin, "Lunch at noon?").wait_for()
        user.wait_for_selector("li.room[data-room-name='random'] .unread:not([hidden])")
        for who, page in pages.items():
            path = tmp_path_factory.mktemp("a11y") / f"{who}.json"
            page.context.storage_state(path=str(path))
            states[who] = str(path)
        yield states
    finally:
        close_contexts(*contexts)


def target(node: dict) -> str:
    """The node's selector, and for a contrast failure the colours and ratio axe measured."""
    selector = " ".join(t if isinstance(t, str) else " >> ".join(t) for t in node["target"])
    for check in node.get("any", []):
        data = check.get("data") or {}
        if isinstance(data, dict) and "contrastRatio" in data:
            selector += f" ({data.get('fgColor')} on {data.get('bgColor')}: {data.get('contrastRatio')}:1," \
                        f" needs {data.get('expectedContrastRatio')})"
    return selector


def describe(violations: list[dict]) -> str:
    """One line per rule: id, impact, what it checks, the elements it failed on."""
    lines = []
    for v in violations:
        targets = "; ".join(target(n) for n in v["nodes"][:8])
        more = f" (+{len(v['nodes']) - 8} more)" if len(v["nodes"]) > 8 else ""
        lines.append(f"  {v['id']} [{v['impact']}] {v['help']}: {targets}{more}")
    return "\n".join(lines)


CASES = [pytest.param(spec, size, theme, id=f"{spec.id}-{size}-{theme}")
         for spec in PAGES for size in spec.sizes for theme in THEMES]


@pytest.mark.parametrize(("spec", "size", "theme"), CASES)
def test_no_serious_axe_violations(browser, a11y_server, sessions, axe_source, spec, size, theme):
    # bypass_csp: add_script_tag inserts axe inline, which the pages' CSP
    # (script-src 'self') refuses; the pages' own scripts do not need it.
    ctx = browser.new_context(
        base_url=a11y_server.url, viewport=VIEWPORTS[size], color_scheme=theme, reduced_motion="reduce",
        bypass_csp=True,
        storage_state=sessions[spec.who] if spec.who else None)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        response = page.goto(spec.path)
        status = response.status if response else None
        assert status == spec.status, (spec.path, status)
        assert spec.who is None or not re.search(r"/login", page.url), f"{spec.path}: logged out ({page.url})"
        if spec.path in ("/chat", "/market", "/admin") and spec.status == 200:
            wait_connected(page)
        page.wait_for_selector(spec.before, state="attached")
        if spec.keys:
            page.keyboard.press(spec.keys)
        if spec.click:
            page.click(spec.click)
        page.wait_for_selector(spec.ready, state="attached")
        # The theme really is the one asked for (the account's theme is "system").
        dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (theme == "dark")
        page.add_script_tag(path=axe_source)
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        blocking = [v for v in result["violations"] if v["impact"] in BLOCKING]
        assert not blocking, f"axe on {spec.path} ({spec.id}, {size}, {theme}):\n" + describe(blocking)
    finally:
        close_contexts(ctx)

