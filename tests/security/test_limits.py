"""Limits (denial of service by messages, packets and connections).

Each test runs a server with small settings so that a limit is reached in a
few calls. Defences and where they live:
- RATE_LIMIT_MESSAGES / RATE_LIMIT_EVENTS: realtime/ratelimit.py (``limits``,
  moving window; memory or Redis storage), applied in AppNamespace.dispatch.
- RATE_LIMIT_LOGIN: Flask-Limiter on /login, /register, /api/token (per IP).
- MAX_MESSAGE_CHARS: blueprints/chat/service.clean_text -> too_large.
- MAX_PACKET_BYTES: middleware/guard.EngineIOGuard (polling POST, answered at
  once) and python-engineio's max_http_buffer_size (websocket frames).
- MAX_CONNECTIONS_PER_USER / MAX_CONNECTIONS: AppNamespace.on_connect.
- MAX_CONNECTION_AGE: realtime/housekeeping.close_old_connections.
"""
from __future__ import annotations

import json
import time

import pytest
import requests
import socketio

from config import ConfigError, Settings
from middleware.guard import SESSION_HEADROOM
from tests.security.helpers import (
    PollingSession,
    RawEIO,
    http_request,
    make_user,
    raw_exchange,
    raw_ws_upgrade,
    refusal_code,
    status_of,
    unique,
    wait_audit,
)
from tests.support.clients import HTTP_TIMEOUT, csrf_token, register

PACKET = 1024  # MAX_PACKET_BYTES in these servers (the minimum config.py allows)


@pytest.fixture(scope="module")
def server(module_servers):
    return module_servers(env={
        "RATE_LIMIT_MESSAGES": "5/minute",
        "RATE_LIMIT_EVENTS": "6/minute",
        "MAX_MESSAGE_CHARS": "50",
        "MAX_PACKET_BYTES": str(PACKET),
        "LOG_FORMAT": "json",
    })


def general_id(client) -> int:
    rooms = client.call("rooms:list")["rooms"]
    return next(r["id"] for r in rooms if r["name"] == "general")


def my_texts(client, room: int, marker: str) -> list[str]:
    reply = client.call("history", {"room": room, "limit": 100})
    assert reply["ok"], reply
    return [m["text"] for m in reply["messages"] if marker in m["text"]]


# -- per-user message rate --------------------------------------------------------

def test_message_rate_is_per_user_across_connections_and_nothing_is_stored_past_it(
        server, clients):
    """RATE_LIMIT_MESSAGES=5/minute: ten sends alternating over two connections
    (websocket + token, polling + cookie) of one user store exactly five. A
    per-connection counter would let ten through (five each); no limit, ten."""
    user = make_user(server, "rate")
    a = clients(server, user, "websocket", via="token")
    b = clients(server, user, "polling", via="cookie")
    room = general_id(a)
    assert a.call("room:join", {"room": room})["ok"]
    marker = unique("flood")
    replies = []
    for i in range(10):
        conn = a if i % 2 == 0 else b
        replies.append(conn.call("message:send", {"room": room, "text": f"{marker} {i}",
                                                  "client_id": f"{marker}-{i}"}))
    ok = [r for r in replies if r["ok"]]
    limited = [r for r in replies if not r["ok"]]
    assert len(ok) == 5, replies
    assert all(r["error"]["code"] == "rate_limited" for r in limited), limited
    assert all(isinstance(r["error"].get("retry_after"), int) and r["error"]["retry_after"] >= 1
               for r in limited), limited
    reader = clients(server, user, "websocket")
    assert len(my_texts(reader, room, marker)) == 5

    other = make_user(server, "rateother")
    c = clients(server, other, "websocket")
    assert c.call("room:join", {"room": room})["ok"]
    reply = c.call("message:send", {"room": room, "text": "other user", "client_id": "o-1"})
    assert reply["ok"], f"the limit must be per user, not global: {reply}"


# -- per-connection event rate ----------------------------------------------------

def test_event_rate_is_per_connection(server, clients):
    """RATE_LIMIT_EVENTS=6/minute: the 7th event on one connection is
    rate_limited (with retry_after); another connection of the same user is
    not (the limit is per connection). Without the limit all eight succeed."""
    user = make_user(server, "events")
    a = clients(server, user, "websocket")
    replies = [a.call("rooms:list") for _ in range(8)]
    assert [r["ok"] for r in replies] == [True] * 6 + [False] * 2, replies
    assert replies[-1]["error"]["code"] == "rate_limited"
    assert replies[-1]["error"]["retry_after"] >= 1
    b = clients(server, user, "polling")
    assert b.call("rooms:list")["ok"], "another connection of the same user is not limited"
    assert a.connected, "a rate-limited connection stays up"


# -- text length ------------------------------------------------------------------

def test_text_longer_than_max_message_chars_is_too_large_and_not_stored(server, clients):
    """MAX_MESSAGE_CHARS=50: 51 characters -> too_large and nothing stored;
    exactly 50 (plus surrounding blanks, trimmed) is accepted."""
    user = make_user(server, "long")
    a = clients(server, user, "websocket")
    room = general_id(a)
    assert a.call("room:join", {"room": room})["ok"]
    marker = unique("L")
    too_long = (marker + "x" * 60)[:51]
    reply = a.call("message:send", {"room": room, "text": too_long, "client_id": "long-1"})
    assert reply["ok"] is False and reply["error"]["code"] == "too_large", reply
    exact = (marker + "y" * 60)[:50]
    reply = a.call("message:send", {"room": room, "text": f"  {exact}\n ", "client_id": "long-2"})
    assert reply["ok"], reply
    assert my_texts(a, room, marker) == [exact]


# -- Engine.IO packet size ----------------------------------------------------------

def test_polling_post_over_max_packet_bytes_is_answered_413_at_once(server):
    """The guard answers 413 from Content-Length alone, without waiting for the
    body (python-engineio alone never answers such a POST and holds its
    greenlet and descriptor). Proven both with the whole body sent and with only
    the headers and 100 bytes of a 10 MB declared body."""
    session = PollingSession(server.url, origin=server.url)
    body = "4" + "x" * (PACKET + 10)
    r = session.post(body)
    assert r.status_code == 413, (r.status_code, r.text[:100])

    session = PollingSession(server.url, origin=server.url)
    path = f"/socket.io/?EIO=4&transport=polling&sid={session.sid}"
    request = http_request("POST", path, server.port, body=b"4" + b"x" * 99,
                           headers={"Content-Type": "text/plain;charset=UTF-8"},
                           content_length=10_000_000)
    response, closed, took = raw_exchange(server.port, request, timeout=4)
    assert status_of(response) == 413, response[:200]
    assert closed, ("413 says 'Connection: close' but the server kept the connection open "
                    "(4 s): it waits for the 10 MB body, holding a greenlet and a descriptor")
    assert took < 3, f"answered after {took:.1f}s, not at once"
    # The exact limit is allowed through (one message packet of PACKET bytes).
    ok = PollingSession(server.url, origin=server.url)
    assert ok.post("4" + "x" * (PACKET - 1)).status_code == 200


def test_websocket_frame_over_max_packet_bytes_closes_that_connection_only(server, clients):
    """A frame bigger than MAX_PACKET_BYTES closes its connection (RFC 6455 close
    1009, or TCP close); a bystander's connection is unaffected, and a frame
    just under the limit is handled normally (too_large, connection kept)."""
    user = make_user(server, "frame")
    bystander = clients(server, user, "websocket")
    raw = RawEIO(server.url)
    try:
        assert raw.sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
        near = "z" * (PACKET - 120)
        reply = raw.call("/chat", 1, "message:send", {"room": 1, "text": near, "client_id": "n"})
        assert reply[0]["ok"] is False, reply  # not a member / too_large, but answered
        big = "42/chat,2" + json.dumps(["message:send", {"room": 1, "text": "w" * (2 * PACKET),
                                                          "client_id": "big"}])
        raw.send(big)
        packets, closed = raw.recv_for(10)
        for p in packets:
            assert not p.startswith("43/chat,2"), f"an oversize frame was handled: {p[:100]}"
        assert closed, "the server kept a connection that sent an oversize frame"
    finally:
        raw.close()
    assert bystander.connected
    assert bystander.call("rooms:list")["ok"]


# -- per-IP login / register / token rate -------------------------------------------

@pytest.fixture(scope="module")
def login_server(module_servers):
    return module_servers(env={"RATE_LIMIT_LOGIN": "3/minute"}, name="limits-login")


def test_login_register_and_token_are_rate_limited_per_ip(login_server):
    """RATE_LIMIT_LOGIN=3/minute, one budget for /login, /register and
    /api/token together (test_login_budget.py has the full account): after
    1 register + 2 logins from one IP, the next POST to any of the three is
    429 (with Retry-After), even with the right password; the token endpoint
    answers JSON rate_limited. A changing X-Forwarded-For does not reset it
    (proxy headers are not trusted by default). Without Flask-Limiter here,
    password guessing is unbounded."""
    base = login_server.url
    name = unique("brute")
    register(base, name)  # 1 of 3

    def login_post(i, password="wrong-password"):
        page = requests.get(base + "/login", timeout=HTTP_TIMEOUT)
        return requests.post(base + "/login", cookies=page.cookies,
                             headers={"X-Forwarded-For": f"198.51.100.{i}"},
                             data={"csrf_token": csrf_token(page.text), "username": name,
                                   "password": password},
                             allow_redirects=False, timeout=HTTP_TIMEOUT)

    statuses = [login_post(i).status_code for i in range(2)]
    assert statuses == [200, 200], statuses  # wrong password: the form again
    right = login_post(99, "correct-horse")
    assert right.status_code == 429, f"4th POST (a login): {right.status_code}"
    assert right.headers.get("Retry-After"), dict(right.headers)

    token = requests.post(base + "/api/token", json={"username": name, "password": "nope"},
                          headers={"X-Forwarded-For": "198.51.100.7"}, timeout=HTTP_TIMEOUT)
    assert token.status_code == 429, token.text
    body = token.json()
    assert body["error"]["code"] == "rate_limited" and body["error"]["message"], body

    page = requests.get(base + "/register", timeout=HTTP_TIMEOUT)
    reg = requests.post(base + "/register", cookies=page.cookies, data={
        "csrf_token": csrf_token(page.text), "username": unique("reg"),
        "password": "correct-horse", "confirm": "correct-horse"},
        headers={"X-Forwarded-For": "198.51.100.8"}, allow_redirects=False,
        timeout=HTTP_TIMEOUT)
    assert reg.status_code == 429, reg.status_code
    assert requests.get(base + "/healthz", timeout=HTTP_TIMEOUT).status_code == 200


# -- connection caps ----------------------------------------------------------------

def test_connections_are_capped_per_user_and_per_process(servers, clients):
    """MAX_CONNECTIONS_PER_USER=2 and MAX_CONNECTIONS=4. A third connection of
    a user, whatever the transport or namespace, gets connect_error data code
    too_many_connections (the per-user message); another user is unaffected
    until the process holds four, then everyone's next one is refused (the
    process message); closing one frees a slot. Without the checks in
    AppNamespace.on_connect every connection is admitted."""
    srv = servers(env={"MAX_CONNECTIONS_PER_USER": "2", "MAX_CONNECTIONS": "4"},
                  name="limits-caps")
    a, b, c = (make_user(srv, "cap") for _ in range(3))
    first = clients(srv, a, "websocket")
    clients(srv, a, "polling", via="cookie")
    for transport, namespace in (("websocket", "/chat"), ("polling", "/chat"),
                                 ("websocket", "/market")):
        third = clients.make(srv, a, transport, namespace=namespace)
        data = third.connect_refused()
        assert refusal_code(data) == "too_many_connections", f"{transport} {namespace}: {data!r}"
        assert "per user" in data["message"], data
        assert not third.connected
    assert clients(srv, b, "websocket").call("rooms:list")["ok"], "per user, not global"
    clients(srv, b, "polling")
    data = clients.make(srv, c, "websocket").connect_refused()
    assert refusal_code(data) == "too_many_connections", data
    assert "per user" not in data["message"], f"refused by the process cap: {data}"
    first.disconnect()
    deadline = time.monotonic() + 5
    while True:
        again = clients.make(srv, c, "websocket")
        data = again.connect_refused()
        if data is None:
            break
        assert time.monotonic() < deadline, f"a closed connection did not free its slot: {data}"
        time.sleep(0.3)


def test_engineio_sessions_without_a_namespace_are_capped_too(servers):
    """MAX_CONNECTIONS=3 also caps Engine.IO sessions (middleware/guard.py): 3 +
    SESSION_HEADROOM handshakes that never connect a namespace fill the
    process, so the next is answered 503 with Retry-After, over polling and
    websocket alike, and audited; requests of the open sessions still get
    through, and closing one frees a slot once python-engineio's sweep drops
    it (within PING_TIMEOUT, 3 s here). Without the cap each such session
    holds a greenlet and its state for a ping timeout, uncounted."""
    # All from one address: MAX_PENDING_PER_IP (test_floods.py) is raised out of the way.
    srv = servers(env={"MAX_CONNECTIONS": "3", "LOG_FORMAT": "json", "PING_TIMEOUT": "3",
                       "MAX_PENDING_PER_IP": "1000"},
                  name="limits-sessions")
    held = [PollingSession(srv.url, origin=srv.url) for _ in range(3 + SESSION_HEADROOM)]
    refused = requests.get(srv.url + "/socket.io/?EIO=4&transport=polling",
                           headers={"Origin": srv.url}, timeout=HTTP_TIMEOUT)
    assert refused.status_code == 503, refused.text[:200]
    assert refused.headers.get("Retry-After") == "5"
    with pytest.raises(AssertionError, match="503"):
        raw_ws_upgrade(srv.port, srv.url)
    assert wait_audit(srv, "request_refused", status=503)
    assert requests.get(srv.url + "/healthz", timeout=HTTP_TIMEOUT).status_code == 200
    assert held[1].post("3").status_code == 200  # a pong on an open session is not refused
    assert held[0].post("1").status_code == 200  # Engine.IO close
    deadline = time.monotonic() + 10
    while True:
        again = requests.get(srv.url + "/socket.io/?EIO=4&transport=polling",
                             headers={"Origin": srv.url}, timeout=HTTP_TIMEOUT)
        if again.status_code == 200:
            assert again.text.startswith("0{")
            break
        assert time.monotonic() < deadline, f"a closed session did not free its slot: {again.status_code}"
        time.sleep(0.2)


# -- connection age -------------------------------------------------------------------

def test_max_connection_age_has_a_floor_of_ten_seconds():
    """config.py: MAX_CONNECTION_AGE must be at least 10 (a smaller value would
    churn every connection); the minimum itself is accepted."""
    with pytest.raises(ConfigError):
        Settings.from_env({"MAX_CONNECTION_AGE": "9"})
    assert Settings.from_env({"MAX_CONNECTION_AGE": "10"}).MAX_CONNECTION_AGE == 10


def test_connections_are_closed_past_max_connection_age_and_clients_come_back(servers, clients):
    """MAX_CONNECTION_AGE=10: the server disconnects each connection 10-20 s
    after it opened (audit connection_expired), as a deliberate server
    disconnect ("io server disconnect"); a client that then reconnects, as
    static/js/lib/connection.js does on that reason, comes back and
    authenticates again (a new connect line, a new sid). Without the
    housekeeping loop no connection is ever closed.

    Note: a namespace DISCONNECT is final for stock clients (python-socketio and
    socket.io-client do not reconnect by themselves after "io server
    disconnect"); the pages reconnect explicitly."""
    srv = servers(env={"MAX_CONNECTION_AGE": "10", "LOG_FORMAT": "json"}, name="limits-age")
    user = make_user(srv, "age")
    started = time.monotonic()
    ws = clients(srv, user, "websocket")
    poll = clients(srv, user, "polling", via="cookie")
    reasons = {c: record_disconnect_reason(c) for c in (ws, poll)}
    for c in (ws, poll):
        assert c.wait_disconnected(timeout=25), "not disconnected within 25 s"
        age = time.monotonic() - started
        assert 9 <= age <= 22, f"disconnected after {age:.1f}s (MAX_CONNECTION_AGE=10)"
        assert reasons[c] == [socketio.Client.reason.SERVER_DISCONNECT], reasons[c]
    expired = wait_audit(srv, "connection_expired", user=user.name)
    assert len(expired) >= 2, expired
    for c in (ws, poll):  # what the pages do on "io server disconnect"
        deadline = time.monotonic() + 5  # let the client finish closing its transport
        while c.sio.eio.state != "disconnected" and time.monotonic() < deadline:
            time.sleep(0.05)
        c.disconnected.clear()
        c.connect()
    connects = wait_audit(srv, "connect", user=user.name)
    assert len({e["sid"] for e in connects}) == 4, f"clients did not come back: {connects}"
    assert ws.call("rooms:list")["ok"] and poll.call("rooms:list")["ok"]


def record_disconnect_reason(client) -> list:
    """Chain a handler that records the reason python-socketio gives a disconnect."""
    reasons: list = []
    original = client._on_disconnect

    def on_disconnect(*reason):
        reasons.extend(reason)
        original(*reason)

    client.sio.on("disconnect", on_disconnect, namespace=client.namespace)
    return reasons
