"""The Socket.IO Admin UI, opened from /admin in Chromium, connects and shows live figures."""
from __future__ import annotations

import json
import time

import pytest

from tests.browser.helpers import close_contexts, console_problems, new_context, register, unique
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def ui_server():
    with ServerProcess(async_mode="eventlet", env={"SOCKETIO_ADMIN_UI": "read-only"},
                       name="browser-socketio-ui") as srv:
        yield srv



def record_frames(page) -> list[str]:
    """Every Socket.IO frame the page receives over WebSocket, as text, from now on."""
    frames: list[str] = []

    def on_websocket(ws):
        if "/socket.io/" in ws.url:
            ws.on("framereceived", lambda payload: frames.append(
                payload if isinstance(payload, str) else payload.decode("utf-8", "replace")))

    page.on("websocket", on_websocket)
    return frames

def test_admin_opens_the_socketio_admin_ui_from_the_console(browser, ui_server, watch, screenshot):
    ctx = new_context(browser, ui_server)
    try:
        page = ctx.new_page()
        seen = watch(page)
        register(page, unique("uiadmin"))  # the server is fresh: the first account is the admin
        page.goto("/admin")
        frames = record_frames(page)
        page.click("#socketio-ui-link")
        page.wait_for_url("**/admin/socketio/")

        # The console pointed the UI at this site and namespace: it connects by itself,
        # with the admin's session cookie, and receives the read-only feature list and stats.
        try:
            page.wait_for_function(
                "() => /Status:\\s*connected/i.test(document.body.innerText)", timeout=20_000)
        except Exception:
            screenshot(page, "socketio-admin-ui-failed")
            raise AssertionError(f"the UI did not connect; console: {seen.errors} csp: {seen.csp} "
                                 f"frames: {frames[:10]}") from None
        page.get_by_text("Dashboard").first.wait_for(timeout=20_000)
        prefix = "42/socketio-admin,"
        deadline = time.monotonic() + 10  # server_stats are pushed every 2 s
        while not any(f.startswith(prefix + '["server_stats"') for f in frames) \
                and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        ui_frames = [f for f in frames if f.startswith(prefix)]
        events = dict(json.loads(f[len(prefix):])[:2] for f in ui_frames)
        assert events["config"]["supportedFeatures"] == ["AGGREGATED_EVENTS"], ui_frames
        assert events["server_stats"]["clientsCount"] >= 1
        # The Namespaces card lists ours (classes, not plain handlers: socketio_ui.install).
        page.get_by_text("/chat", exact=True).first.wait_for()
        page.get_by_text("/socketio-admin", exact=True).first.wait_for()
        screenshot(page, "socketio-admin-ui")
        assert not seen.csp, seen.csp
        assert not console_problems(seen), seen.errors
    finally:
        close_contexts(ctx)


@pytest.fixture(scope="module")
def dev_ui_server():
    """The UI in development reporting: it reports every socket's handshake."""
    with ServerProcess(async_mode="eventlet", env={"SOCKETIO_ADMIN_UI": "read-only",
                                                   "SOCKETIO_ADMIN_UI_MODE": "development"},
                       name="browser-socketio-ui-dev") as srv:
        yield srv


def test_the_ui_page_never_receives_a_users_httponly_cookie(browser, dev_ui_server, watch):
    """The UI's script could read what its frames carry: before, every user's HttpOnly
    session cookie (the handshake's Cookie header) reached the admin's page."""
    admin_ctx, user_ctx = new_context(browser, dev_ui_server), new_context(browser, dev_ui_server)
    try:
        page = admin_ctx.new_page()
        seen = watch(page)
        register(page, unique("uidevadmin"))  # fresh server: the first account is the admin
        frames = record_frames(page)
        page.goto("/admin")
        page.click("#socketio-ui-link")  # the console points the UI at this site and namespace
        page.wait_for_url("**/admin/socketio/")
        page.wait_for_function(
            "() => /Status:\\s*connected/i.test(document.body.innerText)", timeout=20_000)

        user_page = user_ctx.new_page()
        register(user_page, unique("uidevuser"))  # lands on /chat, which connects
        user_page.wait_for_selector("#conn-badge[data-state=connected]", timeout=20_000)
        cookies = [c["value"] for c in user_ctx.cookies() if c["httpOnly"]]
        assert cookies, user_ctx.cookies()

        prefix = "42/socketio-admin,"
        deadline = time.monotonic() + 15
        while not any(f.startswith(prefix + '["socket_connected"') and '"/chat"' in f
                      for f in frames) and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        reported = [f for f in frames if f.startswith(prefix + '["socket_connected"')
                    and '"/chat"' in f]
        assert reported, f"the UI was not told of the /chat socket: {frames[:10]}"
        for value in cookies:
            assert not any(value in f for f in frames), "a user's HttpOnly cookie reached the UI"
            assert value not in page.content()
        assert not console_problems(seen), seen.errors
    finally:
        close_contexts(admin_ctx, user_ctx)
