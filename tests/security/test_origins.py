"""Origins (cross-site WebSocket hijacking).

Defence: ``Settings.allowed_origins()`` (config.py) passed as
``cors_allowed_origins`` to Flask-SocketIO in ``app._init_socketio``: an
explicit list (the app's own origin by default, or CORS_ALLOWED_ORIGINS),
never derived from request headers. python-engineio checks it on every
request of both transports. The browser-level CSWSH test (a foreign page in
Chromium) is tests/browser/test_security_browser.py; here the same attack is
made with raw requests, cookie included.
"""
from __future__ import annotations

import pytest
import requests
import socketio
import websocket

from tests.security.helpers import EVIL, PollingSession, make_user
from tests.support.clients import Client, cookie_header
from tests.support.server import free_port

TRANSPORTS = ["websocket", "polling"]


@pytest.fixture(scope="module")
def server(module_servers):
    return module_servers(env={"LOG_FORMAT": "json"})


@pytest.fixture(scope="module")
def victim(server):
    return make_user(server, "victim")


def foreign_origins(server) -> list[str]:
    other = free_port()
    return [EVIL, f"http://127.0.0.1:{other}", f"http://localhost:{other}", "null",
            # same host and port, other scheme: a different origin
            server.url.replace("http://", "https://"),
            # the allowed origin as a prefix of a hostile one
            server.url + ".evil.example"]


def polling_handshake(base_url: str, headers: dict) -> requests.Response:
    return requests.get(base_url + "/socket.io/?EIO=4&transport=polling", headers=headers,
                        timeout=10)


def websocket_handshake_status(base_url: str, origin: str, header: list[str] | None = None):
    """The HTTP status of a WebSocket handshake with this Origin (101 = accepted)."""
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    try:
        ws = websocket.create_connection(url, timeout=10, origin=origin, header=header or [])
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101


def test_foreign_origins_are_refused_over_polling(server, victim):
    """Proves the allow-list is enforced on the polling transport: with
    cors_allowed_origins='*' (or no check) these handshakes would answer 200,
    and a page on evil.example could read the victim's events with their cookie."""
    cookie = cookie_header(victim.http)
    for origin in foreign_origins(server):
        r = polling_handshake(server.url, {"Origin": origin, "Cookie": cookie})
        assert r.status_code == 400, f"Origin {origin}: {r.status_code} {r.text[:100]}"
        assert "Access-Control-Allow-Origin" not in r.headers, (origin, dict(r.headers))
        assert not r.text.startswith("0{"), f"Origin {origin} got an Engine.IO session"


def test_foreign_origin_is_refused_on_an_existing_polling_session(server, victim):
    """Every request is checked, not only the handshake: a session opened from
    the app's origin cannot be driven (connect, read) from a foreign one."""
    session = PollingSession(server.url, origin=server.url)
    session.headers = {"Origin": EVIL, "Cookie": cookie_header(victim.http)}
    r = session.post(f'40/chat,{{"token": "{victim.token()}"}}')
    assert r.status_code == 400, f"POST from {EVIL}: {r.status_code} {r.text[:100]}"
    r = session.get(timeout=5)
    assert r.status_code == 400, f"GET from {EVIL}: {r.status_code} {r.text[:100]}"


def test_foreign_origins_are_refused_over_websocket(server, victim):
    """Proves the allow-list is enforced on the websocket transport too (the
    handshake is refused before the upgrade): without it a foreign page's
    WebSocket would be upgraded (101) and carry the victim's cookie."""
    cookie = cookie_header(victim.http)
    for origin in foreign_origins(server):
        status = websocket_handshake_status(server.url, origin, [f"Cookie: {cookie}"])
        assert status == 400, f"Origin {origin}: WebSocket handshake answered {status}"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_socketio_client_from_a_foreign_origin_with_the_victims_cookie_is_refused(
        server, victim, transport):
    """CSWSH end to end with a real Socket.IO client: the victim's cookie, a
    foreign Origin. Without the origin check it connects as the victim."""
    client = Client(server.url, transport, http=victim.http, origin=EVIL)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(wait_timeout=5)
    assert not client.connected


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_apps_own_origin_is_accepted(server, victim, transport, host):
    """The positive control: without it the refusals above could come from a
    server that refuses everything."""
    origin = f"http://{host}:{server.port}"
    client = Client(server.url, transport, http=victim.http, origin=origin)
    try:
        client.connect()
        assert client.call("rooms:list")["ok"] is True
    finally:
        client.disconnect(wait=False)
    if transport == "polling":
        r = polling_handshake(server.url, {"Origin": origin})
        assert r.status_code == 200
        assert r.headers.get("Access-Control-Allow-Origin") == origin


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_x_forwarded_host_and_host_do_not_widen_the_allow_list(server, transport):
    """python-engineio's default allow-list is built from Host and
    X-Forwarded-Host: a client sending ``X-Forwarded-Host: evil.example`` with
    ``Origin: http://evil.example`` would pass. The explicit list must not."""
    variants = [
        {"X-Forwarded-Host": "evil.example"},
        {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
        {"X-Forwarded-Host": "evil.example:80", "X-Forwarded-Port": "80"},
        {"Host": "evil.example"},
    ]
    for extra in variants:
        if transport == "polling":
            r = polling_handshake(server.url, {"Origin": EVIL, **extra})
            status = r.status_code
        else:
            header = [f"{k}: {v}" for k, v in extra.items() if k != "Host"]
            if "Host" in extra:
                status = _ws_status_with_host(server, extra["Host"])
            else:
                status = websocket_handshake_status(server.url, EVIL, header)
        assert status == 400, f"{transport} with {extra} and Origin {EVIL}: {status}"


def _ws_status_with_host(server, host: str) -> int:
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    try:
        ws = websocket.create_connection(url, timeout=10, origin=EVIL, host=host)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code
    ws.close()
    return 101



# -- CORS_ALLOWED_ORIGINS set to a list ----------------------------------------

LISTED = ["http://app.example:8443", "https://chat.example"]


@pytest.fixture(scope="module")
def listed_server(module_servers):
    return module_servers(env={"CORS_ALLOWED_ORIGINS": ",".join(LISTED)}, name="origins-listed")


@pytest.fixture(scope="module")
def listed_user(listed_server):
    return make_user(listed_server, "listed")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cors_allowed_origins_admits_exactly_the_listed_origins(listed_server, listed_user,
                                                                transport):
    """With the setting, the listed origins connect and nothing else does - not
    even near misses (other scheme, other port, suffix) nor the server's own
    address, which the operator did not list."""
    for origin in LISTED:
        client = Client(listed_server.url, transport, token=listed_user.token(), origin=origin)
        try:
            client.connect()
            assert client.call("rooms:list")["ok"] is True, origin
        finally:
            client.disconnect(wait=False)
    refused = [EVIL, listed_server.url, "https://app.example:8443", "http://app.example:8444",
               "http://chat.example", "https://chat.example.evil.example",
               "https://evil.example/https://chat.example"]
    for origin in refused:
        if transport == "polling":
            status = polling_handshake(listed_server.url, {"Origin": origin}).status_code
        else:
            status = websocket_handshake_status(listed_server.url, origin)
        assert status == 400, f"{transport}: Origin {origin} answered {status}"


def test_trusted_proxies_do_not_make_x_forwarded_host_widen_the_list(proxied_server):
    """Even when proxy headers are trusted (TRUSTED_PROXIES=1, ProxyFix), the
    allow-list stays explicit: ProxyFix is given x_for and x_proto only."""
    srv = proxied_server
    headers = {"Origin": EVIL, "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http",
               "X-Forwarded-For": "203.0.113.5"}
    assert polling_handshake(srv.url, headers).status_code == 400
    assert websocket_handshake_status(
        srv.url, EVIL, [f"{k}: {v}" for k, v in headers.items() if k != "Origin"]) == 400
