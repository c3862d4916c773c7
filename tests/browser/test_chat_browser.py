"""Chat in a real browser: two users chat both ways through the page, one of
them with WebSocket blocked, so over long-polling only.

Chromium (Debian's /usr/bin/chromium) against ``python app.py``; both users
register or log in through the HTML forms. The second context's WebSocket
handshakes are intercepted and closed, as a proxy that does not pass
upgrades would do: Engine.IO's upgrade probe fails and that page stays on
polling, which its badge must say.
"""
from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.browser.helpers import (
    SOCKET_IO,
    chat_both_ways,
    close_contexts,
    console_problems,
    login,
    logout,
    new_context,
    open_chat,
    pending,
    register,
    unique,
    wait_connected,
)


def test_two_users_chat_both_ways_one_over_polling_only(browser, live_server, watch, screenshot):
    ctx_ws = new_context(browser, live_server)
    ctx_poll = new_context(browser, live_server)
    refused_ws: list[str] = []

    def refuse_websocket(ws) -> None:
        # Never connect_to_server(): the page's WebSocket is closed at once.
        refused_ws.append(ws.url)
        ws.close(code=1011, reason="blocked by the test")

    ctx_poll.route_web_socket(SOCKET_IO, refuse_websocket)
    try:
        alice, bob = ctx_ws.new_page(), ctx_poll.new_page()
        watch_a, watch_b = watch(alice), watch(bob)
        a_name, b_name = unique("alice"), unique("bob")

        # Alice: the registration form. Bob: registration, logout, then the login form.
        register(alice, a_name)
        register(bob, b_name)
        logout(bob)
        login(bob, b_name)

        general_a = open_chat(alice)
        general_b = open_chat(bob)
        assert general_a == general_b
        wait_connected(alice, "websocket")  # polling first, then the upgrade
        # Bob's page tried the upgrade (and only the route stopped it).
        deadline = time.monotonic() + 10
        while not refused_ws and time.monotonic() < deadline:
            bob.wait_for_timeout(100)
        assert refused_ws, "Bob's page never tried a WebSocket: the block proved nothing"
        bob.wait_for_timeout(500)  # time for a (wrong) upgrade to be reported
        wait_connected(bob, "polling")
        assert bob.evaluate("window.switchboard.socket.io.engine.transport.name") == "polling"
        assert alice.evaluate("window.switchboard.socket.io.engine.transport.name") == "websocket"

        # Both ways, twice each, and the online list shows both users.
        chat_both_ways(alice, bob, "hello bob", "hi alice, over polling")
        expect(pending(alice)).to_have_count(0)
        expect(pending(bob)).to_have_count(0)
        for page, other in ((alice, b_name), (bob, a_name)):
            expect(page.locator(f"#online li[data-username='{other}']")).to_have_count(1)

        # Still polling after all that traffic.
        assert bob.get_attribute("#conn-badge", "data-transport") == "polling"
        assert alice.get_attribute("#conn-badge", "data-transport") == "websocket"
        expect(bob.locator("#conn-badge")).to_contain_text("polling")
        expect(alice.locator("#conn-badge")).to_contain_text("websocket")

        screenshot(alice, "chat-websocket")
        screenshot(bob, "chat-polling")

        for w in (watch_a, watch_b):
            assert console_problems(w) == [], w.errors
            assert w.csp == []
    finally:
        close_contexts(ctx_ws, ctx_poll)

