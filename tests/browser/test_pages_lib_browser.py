"""What every page gets from static/js/lib/ (the shared connection and storage), in Chromium.

The market and admin pages used to carry their own copies of the connection
layer; these tests pin what lib/connection.js and lib/storage.js give them:
- logout hangs up first: the namespace's disconnect packet leaves before the
  logout POST (otherwise the server cuts a socket that is still polling);
- localStorage is keyed per user (``switchboard.<name>.<userId>``) and a
  browser that refuses storage still gets a working page.
"""
from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PageWatch
from tests.browser.helpers import browser_server, new_context, register, unique

BLOCK_STORAGE = """
Object.defineProperty(window, 'localStorage', {
  configurable: true,
  get() { throw new DOMException('storage is blocked', 'SecurityError'); },
});
"""


@pytest.fixture(scope="module")
def pages_server():
    with browser_server("pages-lib-browser", interval="0.3") as srv:
        yield srv


@pytest.fixture(scope="module")
def admin_name(browser, pages_server):
    """The first account of the fresh server: the admin."""
    ctx = new_context(browser, pages_server)
    try:
        name = unique("libadmin")
        register(ctx.new_page(), name)
        return name
    finally:
        ctx.close()


def _login(page, username):
    page.goto("/login")
    page.fill("#login-form #username", username)
    page.fill("#login-form #password", "correct-horse-battery")
    page.click("#login-form button[type=submit]")
    page.wait_for_url(re.compile(r"/chat$"))


@pytest.mark.parametrize("path,namespace", [("/market", "/market"), ("/admin", "/admin"), ("/chat", "/chat")])
def test_logout_hangs_up_before_the_logout_post(browser, pages_server, admin_name, path, namespace):
    ctx = new_context(browser, pages_server)
    page = ctx.new_page()
    order: list[str] = []

    def on_request(request):
        if request.method != "POST":
            return
        if "/socket.io/" in request.url and f"41{namespace}" in (request.post_data or ""):
            order.append("disconnect packet")
        elif request.url.endswith("/logout"):
            order.append("logout")

    try:
        _login(page, admin_name)
        page.goto(path + "?transport=polling")
        page.wait_for_selector("#conn-badge[data-state=connected][data-transport=polling]")
        page.on("request", on_request)
        page.click("#logout")
        page.wait_for_url(re.compile(r"/login"))
        assert order and order[0] == "disconnect packet", order
        assert "logout" in order, order
    finally:
        ctx.close()


def test_market_storage_is_per_user_and_optional(browser, pages_server):
    ctx = new_context(browser, pages_server)
    try:
        page = ctx.new_page()
        register(page, unique("libtrader"))
        user_id = page.evaluate("() => fetch('/market').then(r => r.text())"
                                ".then(t => /data-user-id=\"(\\d+)\"/.exec(t)[1])")
        page.goto("/market")
        page.wait_for_selector("#conn-badge[data-state=connected]")
        page.wait_for_selector("#quote-rows tr[data-symbol]:nth-child(2)")
        second = page.get_attribute("#quote-rows tr[data-symbol]:nth-child(2)", "data-symbol")
        page.click(f"#quote-rows tr[data-symbol='{second}']")
        keys = page.evaluate("() => Object.keys(localStorage).filter(k => k.includes('marketSymbol'))")
        assert keys == [f"switchboard.marketSymbol.{user_id}"], keys
        page.reload()
        page.wait_for_selector(f"#quote-rows tr.selected[data-symbol='{second}']")

        # Storage refused (privacy settings, a sandbox): the page still streams and trades.
        blocked = ctx.new_page()
        blocked.add_init_script(BLOCK_STORAGE)
        watch = PageWatch(blocked)
        blocked.goto("/market")
        blocked.wait_for_selector("#conn-badge[data-state=connected]")
        blocked.wait_for_function("() => /^[0-9,]+\\.[0-9]{2}$/.test("
                                  "document.querySelector('#quote-rows td.mk-price').textContent)")
        blocked.fill("#trade-quantity", "1")
        blocked.click("#trade-submit")
        blocked.wait_for_selector("#trade-result:not([hidden])")
        assert watch.errors == [], watch.errors
    finally:
        ctx.close()
