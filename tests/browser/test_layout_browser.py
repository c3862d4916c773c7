"""Phone and desktop layouts in Chromium: no sideways scrolling, the drawers and the nav menu.

Every page (/chat, /market, /admin, /login, /register) at 390x844 (a phone)
and 1280x800 (a laptop) must fit its width: ``document.documentElement.scrollWidth
<= innerWidth``, measured once the page's live data is in (a table filled
by the socket is what used to push /market to 520 px at 390). At 390 the
chat's rooms are in a drawer (a room picked there opens and the drawer
closes; Esc and the backdrop close it too) and the nav is behind a menu button.

The screenshots it takes are the README's (docs/screenshots/): documentation,
not compared, so they only need to be steady: a seeded market, no
animations (reduced motion), taken once the page is connected and filled.
"""
from __future__ import annotations

import contextlib
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    VIEWPORTS,
    browser_server,
    close_contexts,
    console_problems,
    login,
    open_chat,
    overflow,
    register,
    shot,
    stored,
    type_and_send,
    wait_connected,
)


@pytest.fixture(scope="module")
def layout_server():
    with browser_server("layout-browser") as srv:
        yield srv


CONVERSATION = [
    ("alice", "Morning all! The deploy for 2.4 is scheduled for 3pm today."),
    ("bob", "Thanks! I'll keep an eye on the error dashboards during the rollout."),
    ("alice", "The client starts on long-polling and upgrades to WebSocket when it can."),
    ("bob", "Tested it on my phone too: the rooms are in a drawer now."),
]


@pytest.fixture(scope="module")
def admin(browser, layout_server):
    """alice, the first account of a fresh install (so the admin), a second room
    "design", and a short conversation with bob in #general; bob stays online
    (for the screenshots) until the module is done."""
    contexts = []
    try:
        pages = {}
        for name in ("alice", "bob"):
            ctx = browser.new_context(base_url=layout_server.url, viewport=DESKTOP)
            ctx.set_default_timeout(TIMEOUT_MS)
            contexts.append(ctx)
            pages[name] = ctx.new_page()
            register(pages[name], name)
            open_chat(pages[name])
        for name, text in CONVERSATION:
            type_and_send(pages[name], text)
            expect(stored(pages[name], text)).to_have_count(1)
        alice = pages["alice"]
        alice.fill("#new-room-name", "design")
        alice.click("#new-room-create")
        alice.wait_for_selector("li.room.active[data-room-name='design']")
        yield "alice"
    finally:
        close_contexts(*contexts)


@contextlib.contextmanager
def one_page(browser, server, viewport, color_scheme="light"):
    """A page in a fresh context of this size and colour scheme (no motion), and
    its PageWatch; the context is closed after."""
    ctx = browser.new_context(base_url=server.url, viewport=viewport, reduced_motion="reduce",
                              color_scheme=color_scheme)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        yield page, PageWatch(page)
    finally:
        close_contexts(ctx)


def wait_chat(page) -> None:
    """helpers.open_chat, for a phone too (where the room list is in a closed drawer)."""
    wait_connected(page)
    page.wait_for_selector("li.room.active[data-room-name='general']", state="attached")
    page.wait_for_selector("#messages[data-state=ready]")


def wait_filled(page, path: str) -> None:
    """The page's live data is in: what it shows at its widest."""
    if path == "/chat":
        wait_chat(page)
    elif path == "/market":
        wait_connected(page)
        page.wait_for_selector("#quote-rows tr[data-symbol] .mk-price")
    elif path == "/admin":
        wait_connected(page)
        page.wait_for_selector("#connections-table tbody tr")


def visit_all(page, screenshots: dict[str, str]) -> dict[str, tuple[int, int]]:
    """Every logged-in page: its (scrollWidth, innerWidth), screenshots on the way."""
    seen = {}
    for path in ("/chat", "/market", "/admin"):
        page.goto(path)
        wait_filled(page, path)
        seen[path] = overflow(page)
        if path in screenshots:
            shot(page, screenshots[path])
    return seen


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_no_page_scrolls_sideways(browser, layout_server, admin, size):
    viewport = VIEWPORTS[size]
    with one_page(browser, layout_server, viewport) as (page, watch):
        seen = {}
        for path in ("/login", "/register"):
            page.goto(path)
            seen[path] = overflow(page)
        login(page, admin)
        names = ({"/chat": "chat-phone", "/market": "market-phone", "/admin": "admin-phone"}
                 if size == "phone" else {"/chat": "chat", "/market": "market", "/admin": "admin"})
        seen.update(visit_all(page, names))
        wide = {p: s for p, s in seen.items() if s[0] > s[1]}
        assert not wide, (f"at {viewport['width']}px these pages scroll sideways "
                          f"(scrollWidth, innerWidth): {wide}")
        assert console_problems(watch) == [] and watch.csp == []


def test_phone_rooms_drawer_and_nav_menu(browser, layout_server, admin):
    with one_page(browser, layout_server, PHONE) as (page, watch):
        login(page, admin)
        wait_chat(page)
        sidebar, opener = page.locator("#sidebar"), page.locator("#open-rooms")
        expect(sidebar).to_be_hidden()  # off-canvas and visibility: hidden
        expect(page.locator("#composer")).to_be_in_viewport()
        # The on-screen keyboard, as interactive-widget=resizes-content makes
        # it: a shorter layout viewport. Headless Chromium has no keyboard, so
        # the resize stands in for it; the 100dvh page keeps the composer in view.
        viewport_meta = page.get_attribute("meta[name=viewport]", "content")
        assert "interactive-widget=resizes-content" in viewport_meta
        page.set_viewport_size({"width": PHONE["width"], "height": 420})
        page.focus("#composer")
        expect(page.locator("#composer")).to_be_in_viewport(ratio=1)
        expect(page.locator("#send")).to_be_in_viewport(ratio=1)
        page.set_viewport_size(PHONE)

        # Open, then close with Esc: focus goes back to the button.
        opener.click()
        expect(opener).to_have_attribute("aria-expanded", "true")
        expect(sidebar).to_be_visible()
        page.keyboard.press("Escape")
        expect(sidebar).to_be_hidden()
        expect(opener).to_have_attribute("aria-expanded", "false")
        expect(opener).to_be_focused()

        # The backdrop closes it.
        opener.click()
        expect(page.locator("#drawer-backdrop")).to_be_visible()
        page.mouse.click(380, 400)  # right of the drawer: on the backdrop
        expect(sidebar).to_be_hidden()

        # A room picked in the drawer opens, and the drawer closes.
        opener.click()
        expect(sidebar).to_be_visible()
        shot(page, "chat-phone-drawer")
        page.click("li.room[data-room-name='design']")
        page.wait_for_selector("li.room.active[data-room-name='design']", state="attached")
        expect(page.locator("#room-title")).to_contain_text("design")
        expect(sidebar).to_be_hidden()
        expect(page.locator("#drawer-backdrop")).to_be_hidden()

        # The online list is a drawer too.
        page.click("#open-online")
        expect(page.locator("#online-pane")).to_be_visible()
        expect(page.locator("#online .online-user")).not_to_have_count(0)
        page.keyboard.press("Escape")
        expect(page.locator("#online-pane")).to_be_hidden()

        # The nav is behind the menu button; it opens, Esc closes it, it reaches Market.
        menu, market = page.locator("#menu-button"), page.locator("#market-link")
        expect(market).to_be_hidden()
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(market).to_be_visible()
        page.keyboard.press("Escape")
        expect(market).to_be_hidden()
        expect(menu).to_be_focused()
        menu.click()
        market.click()
        page.wait_for_url(re.compile(r"/market$"))
        wait_connected(page)
        assert overflow(page)[0] <= PHONE["width"]
        assert console_problems(watch) == [] and watch.csp == []


def test_desktop_shows_the_nav_and_both_panes_without_buttons(browser, layout_server, admin):
    with one_page(browser, layout_server, DESKTOP) as (page, _):
        login(page, admin)
        open_chat(page)
        for visible in ("#sidebar", ".online-pane", "#market-link", "#logout"):
            expect(page.locator(visible)).to_be_visible()
        for hidden in ("#menu-button", "#open-rooms", "#open-online"):
            expect(page.locator(hidden)).to_be_hidden()



DARK_BG, LIGHT_BG = "rgb(15, 17, 23)", "rgb(245, 246, 248)"  # app.css --bg, dark and light
BACKGROUND = "() => [document.documentElement.dataset.theme, getComputedStyle(document.body).backgroundColor]"


def test_dark_follows_the_system_and_a_choice_overrides_it(browser, layout_server, admin):
    """Runs last in this file: it leaves alice on "system" as it found her."""
    with one_page(browser, layout_server, PHONE, color_scheme="dark") as (page, watch):
        for path in ("/login", "/register"):  # logged out: the browser's preference
            page.goto(path)
            assert page.evaluate(BACKGROUND) == ["system", DARK_BG]
            assert overflow(page)[0] <= PHONE["width"], path
        login(page, admin)
        wait_chat(page)
        assert page.evaluate(BACKGROUND) == ["system", DARK_BG]

        # No page scrolls sideways in dark either, at either width.
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            names = {"/chat": "chat-dark", "/market": "market-dark"} if size == "desktop" else \
                {"/chat": "chat-dark-phone"}
            seen = visit_all(page, names)
            wide = {p: s for p, s in seen.items() if s[0] > s[1]}
            assert not wide, f"dark, {size}: {wide}"
            assert page.evaluate(BACKGROUND)[1] == DARK_BG

        # "Light" from the header menu overrides the system, and survives a reload.
        page.set_viewport_size(PHONE)
        page.goto("/market")
        wait_connected(page)
        page.click("#menu-button")
        expect(page.locator("#theme-system")).to_have_attribute("aria-pressed", "true")
        page.click("#theme-light")
        page.wait_for_url(re.compile(r"/market$"))
        assert page.evaluate(BACKGROUND) == ["light", LIGHT_BG]
        page.reload()
        wait_connected(page)
        assert page.evaluate(BACKGROUND) == ["light", LIGHT_BG]
        page.click("#menu-button")
        expect(page.locator("#theme-light")).to_have_attribute("aria-pressed", "true")

        # And "Dark" holds in a light browser too; then back to "Auto".
        page.emulate_media(color_scheme="light")
        page.click("#theme-dark")
        page.wait_for_url(re.compile(r"/market$"))
        assert page.evaluate(BACKGROUND) == ["dark", DARK_BG]
        page.click("#menu-button")
        page.click("#theme-system")
        page.wait_for_url(re.compile(r"/market$"))
        assert page.evaluate(BACKGROUND) == ["system", LIGHT_BG]
        assert console_problems(watch) == [] and watch.csp == []
