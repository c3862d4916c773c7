"""Security in a real browser: XSS payloads stay text, the CSP holds, and a page
from another origin cannot ride the victim's session cookie into /chat (CSWSH).
"""
from __future__ import annotations

import http.server
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    close_contexts,
    console_problems,
    expect_once,
    new_context,
    open_chat,
    register,
    type_and_send,
    unique,
    wait_connected,
)
from tests.support.server import ServerProcess, free_port

PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "<iframe src=javascript:alert(1)></iframe><b onmouseover=alert(1)>bold</b>",
]
ACTIVE = "#message-list img, #message-list script, #message-list svg, #message-list iframe, " \
         "#message-list b, #pending-list img, #pending-list script, #pending-list svg, " \
         "#room-list img, #room-list script, #room-list svg"


# -- XSS ----------------------------------------------------------------------------
def test_xss_payloads_render_as_inert_text(browser, live_server, watch):
    ctx_a, ctx_b = new_context(browser, live_server), new_context(browser, live_server)
    dialogs: list[str] = []
    try:
        mallory, victim = ctx_a.new_page(), ctx_b.new_page()
        for page in (mallory, victim):
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        watch_m, watch_v = watch(mallory), watch(victim)
        register(mallory, unique("mallory"))
        register(victim, unique("victim"))
        open_chat(mallory)
        open_chat(victim)

        tagged = [f"{p} {unique('x')}" for p in PAYLOADS]
        for text in tagged:
            type_and_send(mallory, text)
        for page in (victim, mallory):
            for text in tagged:
                expect_once(page, text)  # .message-text textContent is exactly the payload

        # A room named like a payload, created through the page's form: it
        # reaches the victim's sidebar live (room:added).
        room_name = "<img src=x onerror=alert(2)>" + unique("r")[:20]
        mallory.fill("#new-room-name", room_name)
        mallory.click("#new-room-create")
        victim_room = victim.locator("li.room").filter(has_text=room_name)
        expect(victim_room).to_have_count(1)
        assert victim_room.get_attribute("data-room-name") == room_name
        assert victim_room.locator(".room-name").text_content() == room_name

        victim.wait_for_timeout(500)  # an onerror would have fired by now
        for page in (victim, mallory):
            assert page.locator(ACTIVE).count() == 0
        # The same from history (a fresh load renders from `history`, not live events).
        victim.reload()
        open_chat(victim)
        for text in tagged:
            expect_once(victim, text)
        victim.wait_for_timeout(500)
        assert victim.locator(ACTIVE).count() == 0
        assert dialogs == []
        for w in (watch_m, watch_v):
            assert console_problems(w) == [] and w.csp == [], (w.errors, w.csp)
    finally:
        close_contexts(ctx_a, ctx_b)


# -- CSP ----------------------------------------------------------------------------
def test_pages_keep_working_under_the_csp(browser, live_server, watch):
    """/login, /register and /chat raise no CSP violation and no console error, and the
    policy is there to be violated (an inline script is refused: the watch sees it)."""
    ctx = new_context(browser, live_server)
    try:
        page = ctx.new_page()
        w = watch(page)
        policies = {}
        for path in ("/login", "/register"):
            response = page.goto(path)
            policies[path] = response.headers.get("content-security-policy", "")
            page.wait_for_load_state("load")
        register(page, unique("csp"))
        response = page.goto("/chat")
        policies["/chat"] = response.headers.get("content-security-policy", "")
        open_chat(page)
        type_and_send(page, "under the policy " + unique("m"))
        expect(page.locator("#pending-list .message")).to_have_count(0)
        for path, policy in policies.items():
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy, (path, policy)
            assert "connect-src 'self'" in policy, (path, policy)
        assert console_problems(w) == [], w.errors
        assert w.csp == [], w.csp

        # Control: an inline script on this page is blocked and reported.
        page.evaluate("""() => { const s = document.createElement('script');
                                 s.textContent = 'window.inlineRan = true';
                                 document.body.appendChild(s); }""")
        page.wait_for_timeout(200)
        assert page.evaluate("window.inlineRan === undefined")
        assert w.csp, "an inline script ran or was not reported: the CSP check proves nothing"
    finally:
        close_contexts(ctx)


# -- Cross-site WebSocket hijacking -------------------------------------------------------
ATTACK_JS = """
window.result = null;
(function (base, transport) {
  var s = io(base + "/chat", {withCredentials: true, transports: [transport],
                              reconnection: false, forceNew: true, timeout: 8000});
  window.sock = s;
  s.on("connect", function () {
    s.emit("rooms:list", {}, function (ack) {
      window.stolen = ack;
      window.result = "connect";
    });
  });
  s.on("connect_error", function (err) {
    window.result = "connect_error: " + (err && err.message);
  });
})(%(base)r, %(transport)r);
"""

ATTACKER_PAGE = """<!doctype html>
<html><head><title>free prizes</title>
<script src="%(base)s/static/vendor/socket.io.min.js"></script>
</head><body><h1>Free prizes</h1>
<script>%(script)s</script>
</body></html>
"""


class _AttackerHandler(http.server.BaseHTTPRequestHandler):
    """GET /?app=<port>&transport=<name>: a page that connects to the app with the visitor's cookie."""

    def do_GET(self):  # noqa: N802 - http.server's naming
        query = parse_qs(urlsplit(self.path).query)
        try:
            port = int(query["app"][0])
            transport = query["transport"][0]
        except (KeyError, ValueError):
            self.send_error(404)
            return
        if transport not in ("websocket", "polling"):
            self.send_error(404)
            return
        base = f"http://127.0.0.1:{port}"
        body = (ATTACKER_PAGE % {"base": base,
                                 "script": ATTACK_JS % {"base": base, "transport": transport}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def attacker():
    """An http.server on another free port of 127.0.0.1: another origin, the same site."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _AttackerHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _attack(page, attacker_url: str, app_port: int, transport: str) -> str:
    page.goto(f"{attacker_url}/?app={app_port}&transport={transport}")
    page.wait_for_function("() => window.result !== null", timeout=15_000)
    return page.evaluate("window.result")


def _same_code_on_the_app_origin(page, transport: str) -> str:
    """The attacker's script, run in a page of the app itself (where io is loaded)."""
    page.goto("/chat")
    wait_connected(page)
    base = page.evaluate("location.origin")
    # The page's own modules import socket.io-client's ESM build: no global io.
    # The same file, imported here (allowed by script-src 'self'), gives the script its io.
    page.evaluate("async () => { window.io = (await import('/static/vendor/socket.io.esm.min.js')).io; }")
    # Through DevTools, not eval(): the app's CSP (rightly) has no 'unsafe-eval'.
    page.evaluate("() => {" + ATTACK_JS % {"base": base, "transport": transport} + "}")
    page.wait_for_function("() => window.result !== null", timeout=15_000)
    return page.evaluate("window.result")


def _victim(browser, server):
    ctx = new_context(browser, server)
    page = ctx.new_page()
    register(page, unique("victim"))
    open_chat(page)
    return ctx, page


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_page_from_another_origin_cannot_connect_with_the_victims_cookie(
        browser, live_server, attacker, transport):
    ctx, page = _victim(browser, live_server)
    try:
        # Control: the same code on the app's own origin connects (cookie auth works).
        assert _same_code_on_the_app_origin(page, transport) == "connect"
        assert page.evaluate("window.stolen.ok") is True

        # The victim's cookie is sent to the app from the attacker's page
        # (127.0.0.1 on another port: another origin, the same site, so
        # SameSite=Lax lets it through); only the Origin check stands in the way.
        evil = ctx.new_page()
        result = _attack(evil, attacker, live_server.port, transport)
        assert result.startswith("connect_error"), result
        assert evil.evaluate("window.stolen === undefined")
    finally:
        close_contexts(ctx)


def test_the_attack_page_does_connect_when_its_origin_is_allowed(browser, attacker):
    """The harness can see a hijack: with the attacker's origin on the allow-list
    (a misconfiguration), the same page connects as the victim over both
    transports. So the refusals above come from the origin check."""
    port = free_port()
    env = {"CORS_ALLOWED_ORIGINS": f"http://127.0.0.1:{port},{attacker}"}
    with ServerProcess(async_mode="eventlet", env=env, port=port, name="browser-cors-open") as srv:
        ctx, _page = _victim(browser, srv)
        try:
            for transport in ("websocket", "polling"):
                evil = ctx.new_page()
                assert _attack(evil, attacker, srv.port, transport) == "connect"
                rooms = evil.evaluate("window.stolen.rooms.map((r) => r.name)")
                assert "general" in rooms
                # Hang up properly: a long-poll left open holds the server's
                # SIGTERM for 10 s (see the report on ServerProcess.stop).
                evil.evaluate("() => window.sock.disconnect()")
                evil.close()
        finally:
            close_contexts(ctx)

