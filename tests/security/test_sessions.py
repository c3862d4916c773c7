"""Sessions and tokens (hijacked sessions).

Defences:
- tokens are read only from the Socket.IO ``auth`` packet
  (AppNamespace.on_connect); never from the URL or headers;
- tokens are itsdangerous-signed with SECRET_KEY and the salt
  ``switchboard.socket-token``, expire after TOKEN_TTL and carry the user's
  ``auth_epoch`` (blueprints/auth/service.user_from_token);
- logout, password change and disable bump the epoch (end_sessions), which
  ends every session cookie and token, and call realtime/closing.disconnect_user
  to close the user's live sockets;
- neither tokens nor passwords are logged (audit.py, logs.py).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time

import pytest
import requests
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.security.helpers import (
    SECRET_KEY,
    TOKEN_SALT,
    PollingSession,
    RawEIO,
    log_text,
    make_user,
    refusal_code,
    unique,
)
from tests.support.clients import HTTP_TIMEOUT, Client, cookie_header, csrf_token, login, logout
from tests.support.server import ROOT


@pytest.fixture(scope="module")
def server(module_servers):
    return module_servers(env={"LOG_FORMAT": "json", "LOG_LEVEL": "debug"})


@pytest.fixture(scope="module")
def short_ttl_server(module_servers):
    return module_servers(env={"TOKEN_TTL": "10"}, name="sessions-ttl")


def raw_connect(server, auth, transport="websocket", query="", headers=None) -> str:
    """The server's answer to a Socket.IO CONNECT with this auth: 40... or 44..."""
    if transport == "websocket":
        header = [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = RawEIO(server.url, query=query, header=header)
        try:
            return raw.sio_connect("/chat", auth)
        finally:
            raw.close()
    session = PollingSession(server.url, origin=server.url, query=query, headers=headers)
    return session.sio_connect("/chat", auth)


def refused_code(answer: str) -> str | None:
    if not answer.startswith("44/chat,"):
        return None
    return json.loads(answer[len("44/chat,"):]).get("data", {}).get("code")


# -- where a token may travel ------------------------------------------------------

@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_token_in_the_url_or_a_header_is_not_accepted(server, transport):
    """A token in the query string ends up in proxy and access logs and browser
    history; only the auth packet may carry it. A server that also read
    ``?token=`` (or an Authorization header) would connect these."""
    user = make_user(server, "urltok")
    tok = user.token()
    for query, headers in ((f"&token={tok}", None), (f"&auth={tok}", None),
                           ("", {"Authorization": f"Bearer {tok}"}),
                           ("", {"X-Token": tok})):
        answer = raw_connect(server, None, transport, query=query, headers=headers)
        assert refused_code(answer) == "unauthorized", f"{query or headers}: {answer}"
    # The same token in the auth packet is good (the control).
    assert raw_connect(server, {"token": tok}, transport).startswith("40/chat,")


def test_python_client_with_token_in_url_is_refused(server):
    user = make_user(server, "urltok2")
    client = Client(f"{server.url}?token={user.token()}", "websocket", origin=server.url)
    try:
        assert refusal_code(client.connect_refused()) == "unauthorized"
    finally:
        client.disconnect(wait=False)


# -- nothing secret in the logs -------------------------------------------------------

@pytest.mark.parametrize("log_format", ["text-info", "json-debug"])
def test_tokens_passwords_and_cookies_never_reach_the_log(server, servers, log_format):
    """Connect with a token over both transports, with a tampered one and with
    one in the URL, fail a login and a token request with a marked password,
    then grep the whole server log for every secret. A log line of the auth
    packet, the query string or the form would fail this."""
    # json-debug: the module's server (LOG_FORMAT=json, LOG_LEVEL=debug)
    srv = server if log_format == "json-debug" else servers(
        env={"LOG_FORMAT": "text", "LOG_LEVEL": "info"}, name="sessions-log-text")
    user = make_user(srv, "logtok")
    tok = user.token()
    secrets = {"token": tok, "token signature": tok.rsplit(".", 1)[-1],
               "token payload": tok.split(".", 1)[0]}
    for transport in ("websocket", "polling"):
        assert raw_connect(srv, {"token": tok}, transport).startswith("40/chat,")
    tampered = tok[:-3] + ("AAA" if not tok.endswith("AAA") else "BBB")
    secrets["tampered token"] = tampered
    assert refused_code(raw_connect(srv, {"token": tampered})) == "unauthorized"
    assert refused_code(raw_connect(srv, None, query=f"&token={tok}")) == "unauthorized"
    wrong = "Wr0ng-" + unique("pw")
    secrets["wrong password"] = wrong
    r = login(srv.url, user.name, wrong)
    assert r.status_code == 200
    r = requests.post(srv.url + "/api/token", json={"username": user.name, "password": wrong},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 401
    secrets["password"] = user.password
    ok = login(srv.url, user.name)
    assert ok.status_code == 302
    for c in ok.http.cookies:
        secrets[f"cookie {c.name}"] = c.value
    secrets["csrf token"] = csrf_token(ok.http.get(srv.url + "/register", timeout=5).text)
    time.sleep(0.3)
    text = log_text(srv)
    assert "connect" in text, "the log is empty: the test would prove nothing"
    leaked = [what for what, value in secrets.items() if value and value in text]
    assert not leaked, f"in the server log: {leaked}"


# -- expiry and tampering -------------------------------------------------------

def token_data(token: str) -> dict:
    return URLSafeTimedSerializer(SECRET_KEY, salt=TOKEN_SALT).loads(token)


def sign(data: dict, age: float, key: str = SECRET_KEY, salt: str = TOKEN_SALT) -> str:
    """A token for ``data`` signed ``age`` seconds ago."""

    class Aged(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age)

    return URLSafeTimedSerializer(key, salt=salt, signer=Aged).dumps(data)


def test_expired_tokens_are_unauthorized(server, short_ttl_server):
    """Tokens signed in the past by the server's own key: older than TOKEN_TTL
    -> unauthorized (saying it expired), younger -> accepted. Checked at the
    default TTL (300 s) and at TOKEN_TTL=10, so the setting is what decides.
    Without max_age in user_from_token an old token would be good forever."""
    for srv, ttl in ((server, 300), (short_ttl_server, 10)):
        user = make_user(srv, "ttl")
        data = token_data(user.token())
        assert raw_connect(srv, {"token": sign(data, age=ttl - 5)}).startswith("40/chat,")
        for age in (ttl + 5, ttl * 10, 86400 * 365):
            answer = raw_connect(srv, {"token": sign(data, age=age)})
            assert refused_code(answer) == "unauthorized", f"TTL {ttl}, age {age}: {answer}"
            assert "expired" in answer, answer


def test_tampered_and_foreign_tokens_are_unauthorized(server):
    """Each of these must be refused: a flipped signature byte, another user's
    id under this user's signature, the right payload signed with another key
    or another salt (e.g. the Flask session serializer's), the session cookie
    itself, non-strings, empty and huge values."""
    victim = make_user(server, "victim")
    attacker = make_user(server, "attacker")
    tok = attacker.token()
    data = token_data(tok)
    victim_data = token_data(victim.token())
    payload, rest = tok.split(".", 1)
    forged_payload = base64.urlsafe_b64encode(
        json.dumps({"uid": victim_data["uid"], "epoch": victim_data["epoch"]},
                   separators=(",", ":")).encode()).decode().rstrip("=")
    # Flip the signature's first character: the last one also carries base64's
    # unused low bits, and 'B' -> 'A' there decodes to the very same signature.
    signed, signature = tok.rsplit(".", 1)
    flipped = f"{signed}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    cookie = next(c.value for c in victim.http.cookies if c.name == "session")
    candidates = {
        "flipped signature": flipped,
        "other user's payload": f"{forged_payload}.{rest}",
        "signed with another key": sign(data, 0, key="not-the-key"),
        "signed with the session salt": sign(data, 0, salt="cookie-session"),
        "unsalted": URLSafeTimedSerializer(SECRET_KEY).dumps(data),
        "the session cookie": cookie,
        "no signature": payload,
        "empty": "",
        "huge": "A" * 10_000,
        "int": 1,
        "dict": {"uid": victim_data["uid"]},
        "list": [tok],
        "true": True,
    }
    for what, candidate in candidates.items():
        answer = raw_connect(server, {"token": candidate})
        assert refused_code(answer) == "unauthorized", f"{what}: {answer[:200]}"


# -- ending sessions ends sockets and tokens ----------------------------------------

def _open_sockets(server, user, second_http):
    """A token socket (websocket), a cookie socket (polling) and a socket of a
    second browser session of the same user."""
    return [Client(server.url, "websocket", token=user.token()).connect(),
            Client(server.url, "polling", http=user.http).connect(),
            Client(server.url, "websocket", http=second_http).connect()]


def _assert_all_ended(server, user, sockets, old_token, cookies, why):
    for s in sockets:
        assert s.wait_disconnected(5), f"{why}: a {s.transport} socket is still connected"
    assert refused_code(raw_connect(server, {"token": old_token})) == "unauthorized", \
        f"{why}: the old token still connects"
    for cookie in cookies:
        c = Client(server.url, "polling", cookie=cookie)
        try:
            assert refusal_code(c.connect_refused()) == "unauthorized", \
                f"{why}: an old session cookie still connects"
        finally:
            c.disconnect(wait=False)


def test_logout_disconnects_the_users_sockets_and_ends_tokens(server):
    user = make_user(server, "logout")
    bystander = make_user(server, "bystander")
    second = login(server.url, user.name).http
    old_token = user.token()
    sockets = _open_sockets(server, user, second)
    other = Client(server.url, "websocket", token=bystander.token()).connect()
    cookies = [cookie_header(user.http), cookie_header(second)]
    try:
        r = logout(server.url, user.http)
        assert r.status_code == 302
        _assert_all_ended(server, user, sockets, old_token, cookies, "logout")
        assert other.connected and other.call("rooms:list")["ok"], "another user was affected"
        assert login(server.url, user.name).status_code == 302, "logging in again works"
    finally:
        for s in [*sockets, other]:
            s.disconnect(wait=False)


def test_password_change_disconnects_the_users_sockets_and_ends_tokens(server):
    """GET/POST /account/password (CSRF-protected): every socket, token and
    other session of the user ends; this browser stays signed in; the old
    password no longer gets a token, the new one does."""
    user = make_user(server, "pwchange")
    page = user.http.get(server.url + "/account/password", timeout=HTTP_TIMEOUT)
    if page.status_code == 404:
        pytest.fail("GET /account/password is 404: the password change route does not exist")
    second = login(server.url, user.name).http
    old_token = user.token()
    sockets = _open_sockets(server, user, second)
    cookies = [cookie_header(second)]
    old_cookie = cookie_header(user.http)
    try:
        no_csrf = user.http.post(server.url + "/account/password", data={
            "current_password": user.password, "new_password": "brand-new-pass",
            "confirm": "brand-new-pass"}, allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert no_csrf.status_code in (200, 400), "a POST without CSRF token must not pass"
        assert all(s.connected for s in sockets), "a refused POST changed nothing"
        r = user.http.post(server.url + "/account/password", data={
            "csrf_token": csrf_token(page.text), "current_password": user.password,
            "new_password": "brand-new-pass", "confirm": "brand-new-pass"},
            allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert r.status_code == 302, f"password change: {r.status_code} {r.text[:200]}"
        _assert_all_ended(server, user, sockets, old_token, cookies + [old_cookie],
                          "password change")
        assert user.http.get(server.url + "/chat", allow_redirects=False,
                             timeout=HTTP_TIMEOUT).status_code == 200, "this browser stays in"
        assert requests.post(server.url + "/api/token", json={
            "username": user.name, "password": user.password},
            timeout=HTTP_TIMEOUT).status_code == 401
        fresh = requests.post(server.url + "/api/token", json={
            "username": user.name, "password": "brand-new-pass"}, timeout=HTTP_TIMEOUT)
        assert fresh.status_code == 200
        assert raw_connect(server, {"token": fresh.json()["token"]}).startswith("40/chat,")
    finally:
        for s in sockets:
            s.disconnect(wait=False)


def test_cli_disable_disconnects_a_running_servers_sockets(server):
    """``flask --app app users disable NAME`` ends the account's sessions and
    tokens (the epoch, in the shared database) and must close its live sockets.
    In the single-process default the CLI is another process with its own
    in-memory connection state and no message queue, so disconnect_user()
    there sees no connection at all: this test shows whether the running
    server's sockets are reached."""
    user = make_user(server, "disable")
    old_token = user.token()
    sock = Client(server.url, "websocket", token=old_token).connect()
    room = next(r["id"] for r in sock.call("rooms:list")["rooms"] if r["name"] == "general")
    assert sock.call("room:join", {"room": room})["ok"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SWITCHBOARD_"))}
    env.update(server.env())
    try:
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "users", "disable",
                               user.name], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr
        # The parts that go through the database work in any case:
        assert refused_code(raw_connect(server, {"token": old_token})) == "unauthorized"
        assert requests.post(server.url + "/api/token", json={
            "username": user.name, "password": user.password},
            timeout=HTTP_TIMEOUT).status_code == 401
        if not sock.wait_disconnected(5):
            still = sock.call("message:send", {"room": room, "text": "posted while disabled",
                                               "client_id": "after-disable"})
            pytest.fail("`flask users disable` did not close the disabled user's open socket "
                        "on the running server (single-process default: the CLI process "
                        "has its own MemoryState and no message queue); 5 s later that "
                        f"socket still posts: message:send -> ok={still.get('ok')}")
    finally:
        sock.disconnect(wait=False)


def test_a_client_sent_disconnect_event_does_not_let_a_socket_outlive_logout(server):
    """Real-server consequence of the reserved-name bug (test_validation.py):
    a client emits an EVENT named "disconnect"; AppNamespace.trigger_event runs
    on_disconnect, which forgets the connection while the socket stays open
    and in its rooms. Logout (and password change, disable, kick, the age
    limit, the caps) then no longer find it, and it keeps receiving the rooms'
    messages. After logout this socket must be closed."""
    spy = make_user(server, "eaves")
    poster = make_user(server, "poster")
    raw = RawEIO(server.url)
    p = Client(server.url, "websocket", token=poster.token()).connect()
    try:
        assert raw.sio_connect("/chat", {"token": spy.token()}).startswith("40/chat,")
        assert raw.call("/chat", 1, "room:join", {"room": 1})[0]["ok"]
        raw.send('42/chat,["disconnect"]')
        time.sleep(0.3)
        assert p.call("room:join", {"room": 1})["ok"]
        assert logout(server.url, spy.http).status_code == 302
        time.sleep(1)
        marker = unique("after-logout")
        p.call("message:send", {"room": 1, "text": marker, "client_id": marker})
        got, _ = raw.recv_for(3)
        leaked = [g for g in got if marker in g]
        assert not leaked, ("after the client sent a 'disconnect' EVENT and the user logged "
                            f"out, its socket still received room messages: {leaked[0][:150]}")
        assert not raw.ws.connected or not got, "the socket survived logout"
    finally:
        raw.close()
        p.disconnect(wait=False)
