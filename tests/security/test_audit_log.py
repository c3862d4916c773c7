"""The audit log (LOG_FORMAT=json), and proxy headers.

Defence: audit.audit() called from AppNamespace.on_connect /
on_disconnect / dispatch, the auth routes and the admin namespace; logs.py's
JsonFormatter writes one JSON object per line. Each security-relevant event
gets exactly one line with who (user), from where (ip, sid, namespace,
transport), when (time) and why (reason); never message text, tokens or
passwords. The client IP is REMOTE_ADDR, rewritten from X-Forwarded-For by
werkzeug's ProxyFix only when TRUSTED_PROXIES says how many proxies are in
front (app._init_http_extras).
"""
from __future__ import annotations

import json
import time

import pytest
import requests

from tests.security.helpers import (
    PollingSession,
    RawEIO,
    audit_lines,
    log_text,
    make_user,
    unique,
    wait_audit,
)
from tests.support.clients import HTTP_TIMEOUT, Client, login

COMMON = {"time", "ip"}
REQUIRED = {
    "connect": COMMON | {"user", "sid", "namespace", "transport"},
    "disconnect": COMMON | {"user", "sid", "namespace", "transport", "reason"},
    "connect_refused": COMMON | {"sid", "namespace", "transport", "reason"},
    "auth_failed": COMMON | {"reason"},
    "rate_limited": COMMON | {"user", "sid", "namespace", "transport", "reason"},
    "kick": COMMON | {"user", "sid"},
}


def missing_fields(line: dict) -> set[str]:
    return {f for f in REQUIRED[line["action"]] if line.get(f) in (None, "")}


@pytest.fixture(scope="module")
def server(module_servers):
    # Short pings: a disconnect the client's goodbye did not deliver (seen once
    # under load, over polling) still reaches the log within a few seconds.
    srv = module_servers(env={"LOG_FORMAT": "json", "RATE_LIMIT_EVENTS": "3/minute",
                              "PING_INTERVAL": "2", "PING_TIMEOUT": "2"})
    # The first account of a fresh server is the admin: made before any test's
    # own accounts, whichever tests run and in whatever order.
    srv.admin = make_user(srv, "admin")
    return srv


@pytest.fixture(scope="module")
def admin(server):
    return server.admin


def test_every_log_line_is_one_json_object(server, admin):
    """LOG_FORMAT=json: a collector must be able to parse every line; a stray
    print, a library's plain-text line or a multi-line traceback breaks that."""
    c = Client(server.url, "websocket", token=admin.token()).connect()
    c.disconnect()
    bad = []
    for line in log_text(server).splitlines():
        if not line.strip():
            continue
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            bad.append(line[:150])
    assert not bad, f"{len(bad)} non-JSON lines, e.g. {bad[:3]}"


@pytest.mark.parametrize("transport,via", [("websocket", "token"), ("polling", "cookie")])
def test_one_line_per_connect_and_per_disconnect_with_who_where_and_why(server, transport, via):
    user = make_user(server, "aud")
    kwargs = {"token": user.token()} if via == "token" else {"http": user.http}
    c = Client(server.url, transport, **kwargs).connect()
    sid = c.sio.get_sid("/chat")
    c.disconnect()
    connects = wait_audit(server, "connect", sid=sid)
    disconnects = wait_audit(server, "disconnect", sid=sid, timeout=10)
    assert len(connects) == 1 and len(disconnects) == 1, (connects, disconnects)
    for line in connects + disconnects:
        assert not missing_fields(line), f"{line['action']} lacks {missing_fields(line)}: {line}"
        assert line["user"] == user.name and line["ip"] == "127.0.0.1"
        assert line["namespace"] == "/chat" and line["transport"] == transport


def test_refused_connects_and_auth_failures_are_logged(server):
    """A bad token, no credentials, a wrong password at /login and at
    /api/token: each leaves one audit line saying from where and why."""
    user = make_user(server, "refused")
    raw = RawEIO(server.url)
    try:
        answer = raw.sio_connect("/chat", {"token": "not-a-token"})
        assert answer.startswith("44/chat,")
    finally:
        raw.close()
    nocred = Client(server.url, "polling")
    nocred.connect_refused()
    nocred.disconnect(wait=False)
    assert login(server.url, user.name, "wrong-password").status_code == 200
    assert requests.post(server.url + "/api/token", json={"username": user.name,
                                                         "password": "wrong-password"},
                         timeout=HTTP_TIMEOUT).status_code == 401
    deadline = time.monotonic() + 10  # the lines of all four, however slow the machine
    while True:
        refused = audit_lines(server, "connect_refused")
        failed = audit_lines(server, "auth_failed")
        if (len(refused) >= 2 and len(failed) >= 2) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    problems = [f"{line['action']} lacks {sorted(missing_fields(line))}: {line}"
                for line in refused + failed if missing_fields(line)]
    assert len(refused) >= 2, f"no connect_refused line for a bad token / no credentials: {refused}"
    assert len(failed) >= 2, f"no auth_failed line for a bad login / bad token request: {failed}"
    assert not problems, "\n".join(problems)


def test_refused_origins_are_in_the_audit_log(server):
    """A cross-origin connect attempt is the refused connect that matters most
    (CSWSH); the audit log must have a line for it (connect_refused, with the
    ip, the transport and a reason naming the origin)."""
    origin = "http://audit-origin.evil.example"
    requests.get(server.url + "/socket.io/?EIO=4&transport=polling",
                 headers={"Origin": origin}, timeout=HTTP_TIMEOUT)
    try:
        RawEIO(server.url, origin=origin).close()
    except Exception:  # refused, as it should be
        pass
    lines = [e for e in wait_audit(server, "connect_refused", timeout=3)
             if "origin" in json.dumps(e).lower()]
    assert len(lines) >= 2, (
        "no audit line for a connect refused because of its Origin: python-engineio refuses "
        "it before the app sees it and logs it once at ERROR, then at INFO, which "
        "logs.configure() silences")
    for line in lines:
        assert line.get("ip") == "127.0.0.1" and line.get("transport"), line


def test_rate_limit_hits_are_logged(server):
    user = make_user(server, "ratelog")
    c = Client(server.url, "websocket", token=user.token()).connect()
    try:
        replies = [c.call("rooms:list") for _ in range(4)]
        assert replies[-1]["error"]["code"] == "rate_limited"
        sid = c.sio.get_sid("/chat")
    finally:
        c.disconnect(wait=False)
    lines = wait_audit(server, "rate_limited", sid=sid)
    assert len(lines) == 1, lines
    assert not missing_fields(lines[0]), f"rate_limited lacks {missing_fields(lines[0])}: {lines[0]}"
    assert lines[0].get("user") == user.name


def test_http_rate_limit_hits_are_logged(servers):
    """A 429 from the per-IP login limit (password guessing) is a rate-limit hit
    too: one audit line with the ip and what was limited."""
    srv = servers(env={"LOG_FORMAT": "json", "RATE_LIMIT_LOGIN": "2/minute"}, name="audit-429")
    codes = [requests.post(srv.url + "/api/token", json={"username": "nobody", "password": "x"},
                           timeout=HTTP_TIMEOUT).status_code for _ in range(3)]
    assert codes == [401, 401, 429], codes
    lines = [e for e in wait_audit(srv, "rate_limited", timeout=3)]
    assert lines, "no audit line for an HTTP 429 (per-IP login/token limit)"
    assert lines[0].get("ip") == "127.0.0.1" and lines[0].get("reason"), lines[0]


def test_kicks_are_logged(server, admin):
    """/admin kick: one audit line naming the admin and the user. /admin exists
    on every build: a refusal of the admin is a failure (it used to skip, which
    hid a regression as a skip even in CI)."""
    victim = make_user(server, "kicked")
    adm = Client(server.url, "websocket", token=admin.token(), namespace="/admin")
    data = adm.connect_refused()
    assert data is None, f"/admin refused the first account (the admin): {data}"
    v = Client(server.url, "websocket", token=victim.token()).connect()
    try:
        reply = adm.call("kick", {"username": victim.name})
        assert reply["ok"], reply
        assert v.wait_disconnected(5), "kick did not disconnect the user"
        lines = wait_audit(server, "kick", user=victim.name)
        assert len(lines) == 1, lines
        assert not missing_fields(lines[0]), lines[0]
        assert admin.name in json.dumps(lines[0])
    finally:
        adm.disconnect(wait=False)
        v.disconnect(wait=False)


def test_no_message_text_tokens_or_passwords_in_the_log(server):
    """Send and edit a message with unique markers, open a DM, create a room;
    the whole log (audit and every other line) must hold none of the text nor
    the token nor the password. (test_sessions.py checks tokens and passwords
    under text and json formats as well.)"""
    user = make_user(server, "secret")
    other = make_user(server, "secretpeer")
    tok = user.token(fresh=True)
    c = Client(server.url, "polling", token=tok).connect()
    try:
        text = unique("SECRET-TEXT-")
        edited = unique("EDITED-TEXT-")
        assert c.call("room:join", {"room": 1})["ok"]
        sent = c.call("message:send", {"room": 1, "text": text, "client_id": "s1"})
        assert sent["ok"], sent
        reply = c.call("message:edit", {"id": sent["message"]["id"], "text": edited})
        assert reply["ok"] or reply["error"]["code"] == "rate_limited", reply
    finally:
        c.disconnect()
    # The server's last line about this client: everything before it is in the log.
    assert wait_audit(server, "disconnect", timeout=10, user=user.name), \
        "no disconnect line: the log is not complete yet"
    log = log_text(server)
    for what, secret in (("message text", text), ("edited text", edited), ("token", tok),
                         ("token signature", tok.rsplit(".", 1)[-1]),
                         ("password", user.password)):
        assert secret not in log, f"the {what} is in the server log"
    assert other.name  # a second account exists, so a DM/room could name it


# -- proxy headers --------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_x_forwarded_for_is_ignored_without_trusted_proxies(server, transport):
    """Default TRUSTED_PROXIES=0: a client cannot choose the IP that rate limits
    and the audit log see. (With ProxyFix always on, the audit ip would be the
    forged one.)"""
    user = make_user(server, "xff")
    forged = "203.0.113.66"
    sid = connect_with_headers(server, transport, user.token(), {"X-Forwarded-For": forged})
    lines = wait_audit(server, "connect", sid=sid)
    assert lines and lines[0]["ip"] == "127.0.0.1", lines


def connect_with_headers(server, transport: str, token: str, headers: dict) -> str:
    """Connect /chat by hand with extra HTTP headers; the Socket.IO sid."""
    if transport == "websocket":
        raw = RawEIO(server.url, header=[f"{k}: {v}" for k, v in headers.items()])
        try:
            answer = raw.sio_connect("/chat", {"token": token})
        finally:
            raw.close()
    else:
        answer = PollingSession(server.url, origin=server.url, headers=headers).sio_connect(
            "/chat", {"token": token})
    assert answer.startswith("40/chat,"), answer
    return json.loads(answer[len("40/chat,"):])["sid"]


def test_x_forwarded_for_is_used_with_trusted_proxies(proxied_server):
    """TRUSTED_PROXIES=1: the address the one proxy in front saw (the last hop
    of X-Forwarded-For) is the client IP; earlier, client-supplied hops are not."""
    srv = proxied_server
    user = make_user(srv, "proxied")
    for transport in ("websocket", "polling"):
        sid = connect_with_headers(srv, transport, user.token(),
                                   {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
        lines = wait_audit(srv, "connect", sid=sid)
        assert lines and lines[0]["ip"] == "203.0.113.9", (transport, lines)
