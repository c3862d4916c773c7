"""End-to-end: the real server (``python app.py``) and real clients over the wire.

Every Socket.IO test runs for both transports (``transport`` fixture: websocket
only and long-polling only) and the module's ``server`` fixture runs every test
on each server (eventlet, gevent, eventlet on PostgreSQL). Where the transport
is not what a test is about, it runs over one (``ONE_TRANSPORT``): the HTTP
form tests (they only connect at the end, to see whether the session is logged
in; both transports' cookie and refusal paths have their own tests here), and
the bad-payload matrix (validation happens after decoding, the same for both
transports, and tests/security/test_fuzz.py drives every event in-process; its
only transport-sized case, a message over the size limit, runs over both).
Nothing is mocked: HTTP goes through the HTML forms with their CSRF tokens,
Socket.IO through python-socketio.

The server is shared by the tests of a module, so every test uses fresh
usernames, and tests that need exact seq numbers create a fresh room.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.clients import (
    HTTP_TIMEOUT,
    Client,
    cookie_header,
    csrf_token,
    login,
    logout,
)

MAX_MESSAGE_CHARS = 4000  # the default of the setting (PROTOCOL section 7)
_rooms = itertools.count(1)

# Overrides the ``transport`` fixture (tests/e2e/conftest.py) for tests whose
# subject is not the transport: see the module's docstring.
ONE_TRANSPORT = pytest.mark.parametrize("transport", ["websocket"])


# -- shape checks (PROTOCOL section 4) --------------------------------------

def is_int(value) -> bool:
    return type(value) is int  # bool is an int subclass; the contract means a JSON number


def assert_user(user, *, name: str | None = None, uid: int | None = None) -> None:
    assert isinstance(user, dict), user
    assert is_int(user.get("id")) and user["id"] >= 1, user
    assert isinstance(user.get("username"), str) and user["username"], user
    if name is not None:
        assert user["username"] == name, user
    if uid is not None:
        assert user["id"] == uid, user


def assert_room(room, *, name: str | None = None, kind: str | None = None) -> None:
    assert isinstance(room, dict), room
    assert is_int(room.get("id")) and room["id"] >= 1, room
    assert isinstance(room.get("name"), str) and room["name"], room
    assert room.get("kind") in ("public", "private", "dm"), room
    assert is_int(room.get("last_seq")) and room["last_seq"] >= 0, room
    assert is_int(room.get("unread")) and room["unread"] >= 0, room
    if room["kind"] != "public":
        assert isinstance(room.get("members"), list), room
        for member in room["members"]:
            assert_user(member)
    if name is not None:
        assert room["name"] == name, room
    if kind is not None:
        assert room["kind"] == kind, room


def parse_utc(ts) -> datetime:
    assert isinstance(ts, str), ts
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]00:00)", ts), \
        f"not ISO-8601 UTC: {ts!r}"
    value = datetime.fromisoformat(ts.replace("Z", "+00:00"))
    assert value.utcoffset() == timedelta(0), ts
    return value


def assert_message(msg, *, room: int | None = None, author: str | None = None,
                   text: str | None = None, client_id: str | None = None) -> None:
    """Every field of the Message shape, with its type (extra fields are allowed)."""
    assert isinstance(msg, dict), msg
    missing = {"id", "room", "seq", "rev", "author", "text", "ts", "client_id", "edited_ts",
               "deleted"} - set(msg)
    assert not missing, f"Message lacks {sorted(missing)}: {msg}"
    assert is_int(msg["id"]) and msg["id"] >= 1, msg
    assert is_int(msg["room"]) and msg["room"] >= 1, msg
    assert is_int(msg["seq"]) and msg["seq"] >= 1, msg
    assert is_int(msg["rev"]) and msg["rev"] >= msg["seq"], msg  # rev counts creates too
    assert_user(msg["author"], name=author)
    assert isinstance(msg["text"], str), msg
    sent_at = parse_utc(msg["ts"])
    assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=5), msg
    assert msg["client_id"] is None or isinstance(msg["client_id"], str), msg
    assert msg["edited_ts"] is None or parse_utc(msg["edited_ts"]), msg
    assert type(msg["deleted"]) is bool, msg
    if room is not None:
        assert msg["room"] == room, msg
    if text is not None:
        assert msg["text"] == text, msg
    if client_id is not None:
        assert msg["client_id"] == client_id, msg


def assert_ok(ack) -> dict:
    assert isinstance(ack, dict) and ack.get("ok") is True, f"expected an ok ack, got {ack!r}"
    return ack


def assert_error(ack, code: str, field: str | None = None) -> dict:
    assert isinstance(ack, dict), f"expected an error ack, got {ack!r}"
    assert ack.get("ok") is False, f"expected ok:false ({code}), got {ack!r}"
    error = ack.get("error")
    assert isinstance(error, dict), ack
    assert error.get("code") == code, f"expected {code!r}, got {ack!r}"
    assert isinstance(error.get("message"), str) and error["message"], ack
    if field is not None:
        assert field in error["message"], f"the message should name {field!r}: {ack!r}"
    return error


# -- helpers -------------------------------------------------------------------

def room_id(client: Client, name: str) -> int:
    rooms = assert_ok(client.call("rooms:list"))["rooms"]
    ids = [r["id"] for r in rooms if r["name"] == name]
    assert len(ids) == 1, f"room {name!r} in {rooms}"
    return ids[0]


def join(client: Client, room: int) -> dict:
    ack = assert_ok(client.call("room:join", {"room": room}))
    assert_room(ack.get("room"))
    assert ack["room"]["id"] == room, ack
    assert isinstance(ack.get("online"), list), ack
    for user in ack["online"]:
        assert_user(user)
    return ack


def new_room(client: Client, prefix: str = "room") -> int:
    """A fresh public room (its seq starts at 1); the creator is a member."""
    name = f"{prefix}-{next(_rooms)}-{uuid.uuid4().hex[:6]}"
    ack = assert_ok(client.call("room:create", {"name": name, "kind": "public"}))
    assert_room(ack.get("room"), name=name, kind="public")
    return ack["room"]["id"]


def cid() -> str:
    return uuid.uuid4().hex


def send(client: Client, room: int, text: str, client_id: str | None = None) -> dict:
    """message:send; returns the ack's message after checking the ack envelope."""
    client_id = client_id or cid()
    ack = assert_ok(client.call("message:send", {"room": room, "text": text,
                                                 "client_id": client_id}))
    assert_message(ack.get("message"), room=room, text=text, client_id=client_id)
    return ack["message"]


def with_cid(client_id: str):
    return lambda m: isinstance(m, dict) and m.get("client_id") == client_id


def assert_refused(client: Client, code: str = "unauthorized") -> None:
    packet = client.connect_refused()
    assert packet is not None, "the connection was accepted"
    assert not client.connected
    # python-socketio hands over the CONNECT_ERROR packet's payload,
    # {"message", "data"}; ``data`` is what socket.io-client exposes as err.data
    # and what the contract specifies: {"code", "message"}.
    assert isinstance(packet, dict) and isinstance(packet.get("data"), dict), \
        f"connect_error should carry data {{code, message}}: {packet!r}"
    data = packet["data"]
    assert data.get("code") == code, packet
    assert isinstance(data.get("message"), str) and data["message"], packet


def location(response: requests.Response, server) -> str:
    """The redirect target, as a same-site path (fails for another host)."""
    parts = urlsplit(response.headers["Location"])
    assert parts.scheme in ("", "http"), response.headers["Location"]
    assert parts.netloc in ("", f"127.0.0.1:{server.port}"), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- 1. HTTP: register, log in, next, CSRF --------------------------------------

def test_register_then_login_through_the_forms(server, make_user, unconnected, transport):
    user = make_user("reg")
    # The session the register form left behind is logged in.
    registered = unconnected(http=user.http).connect()
    assert registered.connected
    registered.disconnect(wait=False)

    r = login(server.url, user.name)
    assert r.status_code == 302, r.text[:300]
    assert location(r, server) == "/chat"
    client = unconnected(http=r.http).connect()
    g = room_id(client, "general")
    online = join(client, g)["online"]
    assert user.name in [u["username"] for u in online]
    # The session cookie must not be readable by page scripts.
    assert "httponly" in r.headers.get("Set-Cookie", "").lower(), r.headers.get("Set-Cookie")


def _normalised(html: str, username: str) -> str:
    """The page without what differs legitimately: field values (the CSRF token,
    the username typed in) and any echo of the username."""
    html = re.sub(r'\svalue="[^"]*"', "", html)
    return html.replace(username, "<USERNAME>")


@ONE_TRANSPORT
def test_wrong_password_answers_200_without_saying_which_field(server, make_user, username,
                                                             unconnected, transport):
    user = make_user("wrongpw")
    nobody = username("nosuch")
    bad_password = login(server.url, user.name, "not-the-password")
    unknown_user = login(server.url, nobody, user.password)
    for r in (bad_password, unknown_user):
        assert r.status_code == 200, (r.status_code, r.headers.get("Location"))
        assert 'name="password"' in r.text and csrf_token(r.text), "the form is shown again"
    # Same page for "wrong password" and "no such user": it cannot say which was wrong.
    a = _normalised(bad_password.text, user.name)
    b = _normalised(unknown_user.text, nobody)
    assert a == b, "wrong password and unknown user must get the same answer"
    # ...and that answer shows an error (it is not just the empty form).
    fresh = requests.get(server.url + "/login", timeout=HTTP_TIMEOUT)
    assert _normalised(fresh.text, user.name) != a, "no error shown for a failed login"
    lowered = a.lower()
    for telltale in ("no such user", "unknown user", "user not found", "incorrect password",
                     "wrong password", "password is wrong", "password is incorrect"):
        assert telltale not in lowered, telltale
    # The failed login did not log that session in.
    assert_refused(unconnected(http=bad_password.http))


@ONE_TRANSPORT
@pytest.mark.parametrize("next_path", ["/chat", "/market?tab=orders"])
def test_login_honours_same_site_next(server, make_user, unconnected, transport, next_path):
    user = make_user("next")
    r = login(server.url, user.name, next_path=next_path)
    assert r.status_code == 302, r.text[:300]
    assert location(r, server) == next_path
    assert unconnected(http=r.http).connect().connected


@ONE_TRANSPORT
@pytest.mark.parametrize("next_path", ["//evil.example", "https://evil.example/",
                                       "/\\evil.example", "///evil.example",
                                       "http:evil.example"])
def test_login_ignores_offsite_next(server, make_user, unconnected, transport, next_path):
    user = make_user("evil")
    r = login(server.url, user.name, next_path=next_path)
    assert r.status_code == 302, r.text[:300]
    assert "evil" not in r.headers["Location"], r.headers["Location"]
    assert location(r, server) == "/chat"
    assert unconnected(http=r.http).connect().connected


@ONE_TRANSPORT
@pytest.mark.parametrize("case", ["login-missing", "login-forged", "register-missing",
                                  "logout-missing"])
def test_post_without_csrf_token_is_refused(server, make_user, username, unconnected,
                                           transport, case):
    if case.startswith("login"):
        user = make_user("csrf")
        http = requests.Session()
        assert http.get(server.url + "/login", timeout=HTTP_TIMEOUT).status_code == 200
        data = {"username": user.name, "password": user.password}
        if case == "login-forged":
            data["csrf_token"] = "IjAwMDAi.forged.token"
        r = http.post(server.url + "/login", data=data, allow_redirects=False,
                      timeout=HTTP_TIMEOUT)
        assert r.status_code == 400, (r.status_code, r.text[:300])
        assert_refused(unconnected(http=http))  # not logged in
    elif case == "register-missing":
        name = username("csrfreg")
        http = requests.Session()
        assert http.get(server.url + "/register", timeout=HTTP_TIMEOUT).status_code == 200
        r = http.post(server.url + "/register", data={
            "username": name, "password": "correct-horse", "confirm": "correct-horse"},
            allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert r.status_code == 400, (r.status_code, r.text[:300])
        t = requests.post(server.url + "/api/token",
                          json={"username": name, "password": "correct-horse"},
                          timeout=HTTP_TIMEOUT)
        assert t.status_code == 401, "the account must not have been created"
    else:
        user = make_user("csrfout")
        r = user.http.post(server.url + "/logout", allow_redirects=False, timeout=HTTP_TIMEOUT)
        assert r.status_code == 400, (r.status_code, r.text[:300])
        assert unconnected(http=user.http).connect().connected, "still logged in"


# -- 2. Connecting ---------------------------------------------------------------

def test_connect_with_session_cookie(server, make_user, connect):
    user = make_user("cookie")
    client = connect(user, via="cookie")
    g = room_id(client, "general")
    assert user.name in [u["username"] for u in join(client, g)["online"]]
    assert send(client, g, "hello via cookie")["author"]["username"] == user.name


def test_connect_with_api_token(server, make_user, connect):
    user = make_user("tok")
    wrong = requests.post(server.url + "/api/token",
                          json={"username": user.name, "password": "not-the-password"},
                          timeout=HTTP_TIMEOUT)
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    client = connect(user, via="token")  # token from POST /api/token
    g = room_id(client, "general")
    assert user.name in [u["username"] for u in join(client, g)["online"]]
    assert send(client, g, "hello via token")["author"]["username"] == user.name


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _tamper_signature(token: str) -> str:
    body, sig = token.rsplit(".", 1)
    middle = len(sig) // 2  # a middle character: every one of its bits is significant
    return f"{body}.{sig[:middle]}{'A' if sig[middle] != 'A' else 'B'}{sig[middle + 1:]}"


def _forge_payload(token: str) -> str:
    """Someone else's user id (1: the first account, an admin) under a valid signature."""
    _payload, stamp, sig = token.split(".")
    return f"{_b64(json.dumps({'uid': 1, 'epoch': 0}, separators=(',', ':')).encode())}.{stamp}.{sig}"


@pytest.mark.parametrize("case", ["nothing", "empty-token", "number-token", "garbage-token",
                                  "tampered-signature", "forged-payload",
                                  "cookie-after-logout", "token-after-logout"])
def test_connect_refused_without_valid_credentials(server, make_user, unconnected, transport,
                                                   case):
    if case == "nothing":
        client = unconnected()
    elif case == "empty-token":
        client = unconnected(auth={"token": ""})
    elif case == "number-token":
        client = unconnected(auth={"token": 12345})
    elif case == "garbage-token":
        client = unconnected(token="not.a.token")
    elif case in ("tampered-signature", "forged-payload"):
        make_user("first")  # so that uid 1 exists whatever the test order
        user = make_user("tamper")
        good = user.token()
        bad = _tamper_signature(good) if case == "tampered-signature" else _forge_payload(good)
        assert bad != good
        # The genuine token works (so the refusal below is about the tampering).
        ok = unconnected(token=good).connect()
        assert ok.connected
        ok.disconnect(wait=False)
        client = unconnected(token=bad)
    else:
        user = make_user("gone")
        cookie, tok = cookie_header(user.http), user.token()
        r = logout(server.url, user.http)
        assert r.status_code == 302, r.status_code
        client = unconnected(cookie=cookie) if case == "cookie-after-logout" else \
            unconnected(token=tok)
    assert_refused(client, "unauthorized")


def test_logout_disconnects_the_sessions_sockets(server, make_user, connect):
    user = make_user("bye")
    client = connect(user, via="cookie")
    assert_ok(client.call("rooms:list"))
    r = logout(server.url, user.http)
    assert r.status_code == 302, r.status_code
    assert client.wait_disconnected(10), "logout must disconnect the session's sockets"


# -- 4. Messages -----------------------------------------------------------------

def test_two_clients_in_general_exchange_messages(server, make_user, connect):
    alice, bob = make_user("alice"), make_user("bob")
    ca = connect(alice, via="token")
    cb = connect(bob, via="cookie")
    g = room_id(ca, "general")

    ja = join(ca, g)
    assert_room(ja["room"], name="general", kind="public")
    alice_user = next(u for u in ja["online"] if u["username"] == alice.name)
    jb = join(cb, g)
    online = {u["username"]: u for u in jb["online"]}
    assert {alice.name, bob.name} <= set(online), jb["online"]
    assert online[alice.name] == alice_user

    sent = []
    # Plain text both ways: markup and non-ASCII come back exactly as sent.
    texts = ["hello 0", '<b>bold</b> & "quotes" <script>x()</script> ü 日本', "hello 2"]
    for text in texts:
        client_id = cid()
        ack = assert_ok(ca.call("message:send", {"room": g, "text": text,
                                                 "client_id": client_id}))
        assert set(ack) >= {"ok", "message"}
        assert not ack.get("duplicate"), ack
        msg = ack["message"]
        assert_message(msg, room=g, author=alice.name, text=text, client_id=client_id)
        assert msg["author"] == alice_user
        assert msg["edited_ts"] is None and msg["deleted"] is False
        assert msg["rev"] == msg["seq"], "no edits in general: rev == seq"
        sent.append(msg)
    assert [m["seq"] for m in sent] == list(range(sent[0]["seq"], sent[0]["seq"] + 3)), \
        "seq must be consecutive"
    assert len({m["id"] for m in sent}) == 3

    for msg in sent:
        got = cb.wait_for("message", with_cid(msg["client_id"]))
        assert got == msg, "the broadcast is the stored message the sender was acked with"
        # The sender is in the room too: it gets the same event.
        assert ca.wait_for("message", with_cid(msg["client_id"])) == msg
    mine = [m for m in cb.received("message") if m["client_id"] in {s["client_id"] for s in sent}]
    assert [m["seq"] for m in mine] == [m["seq"] for m in sent], "delivered in seq order"

    reply = send(cb, g, "hi alice")
    assert reply["seq"] == sent[-1]["seq"] + 1
    assert ca.wait_for("message", with_cid(reply["client_id"])) == reply


def test_history_pages_back_with_before_seq(server, make_user, connect):
    user = make_user("hist")
    client = connect(user)
    room = new_room(client, "hist")
    sent = [send(client, room, f"m{i}") for i in range(1, 8)]
    assert [m["seq"] for m in sent] == list(range(1, 8)), "a room's seq starts at 1, no gaps"

    pages, before = [], None
    for _ in range(10):  # bounded: 7 messages in pages of 3 need 3
        payload = {"room": room, "limit": 3}
        if before is not None:
            payload["before_seq"] = before
        ack = assert_ok(client.call("history", payload))
        assert type(ack.get("has_more")) is bool, ack
        seqs = [m["seq"] for m in ack["messages"]]
        assert seqs == sorted(seqs), f"a page is in ascending seq: {seqs}"
        pages.append((seqs, ack["has_more"]))
        for m in ack["messages"]:
            assert_message(m, room=room, author=user.name)
        if not ack["has_more"]:
            break
        before = seqs[0]
    assert pages == [([5, 6, 7], True), ([2, 3, 4], True), ([1], False)], pages

    whole = assert_ok(client.call("history", {"room": room}))  # default limit 50
    assert whole["messages"] == sent, "history returns the stored messages as acked"
    assert whole["has_more"] is False
    assert [m["text"] for m in whole["messages"]] == [f"m{i}" for i in range(1, 8)]
    before_first = assert_ok(client.call("history", {"room": room, "before_seq": 1}))
    assert before_first["messages"] == [] and before_first["has_more"] is False


def test_duplicate_client_id_is_stored_and_broadcast_once(server, make_user, connect):
    alice, bob = make_user("dupa"), make_user("dupb")
    ca, cb = connect(alice), connect(bob)
    room = new_room(ca, "dup")
    join(cb, room)

    client_id = cid()
    first = assert_ok(ca.call("message:send", {"room": room, "text": "once",
                                               "client_id": client_id}))
    assert not first.get("duplicate"), first
    original = first["message"]
    assert_message(original, room=room, text="once", client_id=client_id, author=alice.name)
    assert cb.wait_for("message", with_cid(client_id)) == original

    for text in ("once", "a retry with other text"):
        again = assert_ok(ca.call("message:send", {"room": room, "text": text,
                                                   "client_id": client_id}))
        assert again.get("duplicate") is True, again
        assert again["message"] == original, "the already stored message comes back"

    # Events on one connection arrive in order: once the next message is here,
    # a broadcast of the duplicate would have arrived before it.
    sentinel = send(ca, room, "after")
    assert cb.wait_for("message", with_cid(sentinel["client_id"])) == sentinel
    ca.wait_for("message", with_cid(sentinel["client_id"]))
    assert cb.count("message", with_cid(client_id)) == 1, cb.received("message")
    assert ca.count("message", with_cid(client_id)) == 1, ca.received("message")
    assert sentinel["seq"] == original["seq"] + 1, "a duplicate takes no seq"

    history = assert_ok(cb.call("history", {"room": room}))["messages"]
    assert history == [original, sentinel]


# -- 3. Bad input -----------------------------------------------------------------

def _send(room_id, **fields):
    payload = {"room": room_id, "text": "hello", "client_id": cid()}
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not _MISSING}


_MISSING = object()

# (id, event, args(room) -> tuple of positional args, expected code, field named in message)
BAD_PAYLOADS = [
    ("room-as-string", "message:send", lambda r: (_send(r, room=str(r)),), "bad_request", "room"),
    ("room-as-bool", "message:send", lambda r: (_send(r, room=True),), "bad_request", "room"),
    ("room-zero", "message:send", lambda r: (_send(r, room=0),), "bad_request", "room"),
    ("text-as-number", "message:send", lambda r: (_send(r, text=5),), "bad_request", "text"),
    ("text-as-list", "message:send", lambda r: (_send(r, text=["hi"]),), "bad_request", "text"),
    ("client_id-as-number", "message:send", lambda r: (_send(r, client_id=7),), "bad_request",
     "client_id"),
    ("client_id-too-long", "message:send", lambda r: (_send(r, client_id="c" * 65),),
     "bad_request", "client_id"),
    ("missing-room", "message:send", lambda r: (_send(r, room=_MISSING),), "bad_request", "room"),
    ("missing-text", "message:send", lambda r: (_send(r, text=_MISSING),), "bad_request", "text"),
    ("missing-client_id", "message:send", lambda r: (_send(r, client_id=_MISSING),),
     "bad_request", "client_id"),
    ("empty-object", "message:send", lambda r: ({},), "bad_request", None),
    ("no-payload", "message:send", lambda r: (), "bad_request", None),
    ("two-payloads", "message:send", lambda r: (_send(r), _send(r)), "bad_request", None),
    ("unknown-room", "message:send", lambda r: (_send(r, room=987654321),), "not_found", None),
    ("text-too-long", "message:send",
     lambda r: (_send(r, text="x" * (MAX_MESSAGE_CHARS + 1)),), "too_large", None),
    ("text-empty", "message:send", lambda r: (_send(r, text=""),), "bad_request", "text"),
    ("text-whitespace", "message:send", lambda r: (_send(r, text=" \n\t  "),), "bad_request",
     "text"),
    ("payload-list", "message:send", lambda r: ([r, "hello", "c1"],), "bad_request", None),
    ("payload-string", "message:send", lambda r: ("hello",), "bad_request", None),
    ("payload-number", "message:send", lambda r: (42,), "bad_request", None),
    ("unknown-event", "no:such:event", lambda r: ({"room": r},), "bad_request", None),
    ("join-room-as-string", "room:join", lambda r: ({"room": str(r)},), "bad_request", "room"),
    ("join-unknown-room", "room:join", lambda r: ({"room": 987654321},), "not_found", None),
    ("history-limit-zero", "history", lambda r: ({"room": r, "limit": 0},), "bad_request",
     "limit"),
    ("history-limit-101", "history", lambda r: ({"room": r, "limit": 101},), "bad_request",
     "limit"),
    ("history-before-as-string", "history", lambda r: ({"room": r, "before_seq": "3"},),
     "bad_request", "before_seq"),
    ("unknown-field", "message:send", lambda r: (_send(r, extra="x"),), "bad_request", None),
]


def _bad_payload_params():
    """Every case over websocket; the one whose size the transport carries
    (a message past MAX_MESSAGE_CHARS: a polling POST body, a websocket frame)
    over long-polling too."""
    for name, *case in BAD_PAYLOADS:
        yield pytest.param(*case, "websocket", id=name)
        if case[2] == "too_large":
            yield pytest.param(*case, "polling", id=f"{name}-polling")


@pytest.mark.parametrize("event,args,code,field,transport", list(_bad_payload_params()))
def test_bad_payload_gets_an_error_and_the_connection_stays_usable(server, make_user, connect,
                                                                  event, args, code, field,
                                                                  transport):
    user = make_user("bad")
    client = connect(user)
    room = new_room(client, "bad")
    ack = client.call_raw(event, *args(room))
    assert_error(ack, code, field)
    assert client.connected
    # Still usable, and nothing was stored: the first message of the room is seq 1.
    # After too_large, the limit itself is fine (characters, not bytes: "é" is 2 in UTF-8).
    text = "é" * MAX_MESSAGE_CHARS if code == "too_large" else "still here"
    msg = send(client, room, text)
    assert msg["seq"] == 1, f"the bad payload must store nothing: {msg['seq']}"
    assert assert_ok(client.call("history", {"room": room}))["messages"] == [msg]


@pytest.mark.parametrize("event,payload,code", [
    pytest.param("message:send", {"room": "1", "text": "hello", "client_id": "c"}, "bad_request",
                 id="wrong-type"),
    pytest.param("message:send", {"room": 987654321, "text": "hello", "client_id": "c"},
                 "not_found", id="unknown-room"),
    pytest.param("message:send", "not an object", "bad_request", id="not-an-object"),
    pytest.param("no:such:event", {}, "bad_request", id="unknown-event"),
    pytest.param("typing", {"room": "1", "typing": True}, "bad_request", id="typing-wrong-type"),
])
def test_failure_without_ack_arrives_as_error_event(server, make_user, connect, event, payload,
                                                    code):
    user = make_user("noack")
    client = connect(user)
    client.emit(event, payload)  # no callback
    error = client.wait_for("error")
    assert isinstance(error, dict), error
    assert error.get("code") == code, error
    assert isinstance(error.get("message"), str) and error["message"], error
    assert error.get("event") == event, error
    assert client.connected
    g = room_id(client, "general")
    join(client, g)
    send(client, g, "still here after an error event")
    assert client.count("error") == 1, client.received("error")


def test_message_rate_limit_refuses_with_retry_after_and_stores_nothing(server, make_user,
                                                                       connect):
    """RATE_LIMIT_MESSAGES defaults to 60/minute;10/second per user."""
    user = make_user("rate")
    client = connect(user)
    room = new_room(client, "rate")
    acks: list = []
    done = threading.Event()

    def on_ack(ack):
        acks.append(ack)
        if len(acks) == 15:
            done.set()

    # 15 at once (pipelined, not one round trip each): well within one second.
    for i in range(15):
        client.sio.emit("message:send", {"room": room, "text": f"r{i}", "client_id": cid()},
                        namespace=client.namespace, callback=on_ack)
    assert done.wait(15), f"only {len(acks)} of 15 acks"
    ok = [a for a in acks if a.get("ok") is True]
    refused = [a for a in acks if a.get("ok") is False]
    assert (len(ok), len(refused)) == (10, 5), (
        f"15 sends at once against 10/second: {len(ok)} were stored and {len(refused)} "
        f"refused; errors: {[a['error'] for a in refused]}")
    for ack in refused:
        error = assert_error(ack, "rate_limited")
        assert is_int(error.get("retry_after")) and 1 <= error["retry_after"] <= 60, ack
    stored = assert_ok(client.call("history", {"room": room}))["messages"]
    assert sorted(m["id"] for m in stored) == sorted(a["message"]["id"] for a in ok)
    assert [m["seq"] for m in stored] == list(range(1, 11)), "refused sends take no seq"
    assert client.connected


# -- presence and typing -------------------------------------------------------------

def test_presence_online_and_offline_across_tabs(server, make_user, connect):
    alice, bob = make_user("pra"), make_user("prb")
    ca = connect(alice)
    g = room_id(ca, "general")
    join(ca, g)

    def of_bob(status):
        return lambda p: p.get("user", {}).get("username") == bob.name and p.get("status") == status

    # Bob becomes a member of general, then leaves: his only connection closing
    # is his last one, so alice sees him go offline.
    b0 = connect(bob)
    join(b0, g)
    ca.wait_for("member:joined", lambda p: p.get("user", {}).get("username") == bob.name)
    b0.disconnect(wait=False)
    offline = ca.wait_for("presence", of_bob("offline"))
    assert_user(offline["user"], name=bob.name)
    bob_id = offline["user"]["id"]

    # First connection of bob: online.
    b1 = connect(bob)
    online = ca.wait_for("presence", of_bob("online"))
    assert_user(online["user"], name=bob.name, uid=bob_id)

    # A second tab: no second "online" (checked after a later event in order).
    b2 = connect(bob)
    marker = send(b2, g, "second tab")
    ca.wait_for("message", with_cid(marker["client_id"]))
    assert ca.count("presence", of_bob("online")) == 1, ca.received("presence")

    # Closing one of two tabs: no "offline".
    b1.disconnect(wait=False)
    with pytest.raises(TimeoutError):
        ca.wait_for_count("presence", 2, of_bob("offline"), timeout=1.0)
    marker = send(b2, g, "one tab left")
    ca.wait_for("message", with_cid(marker["client_id"]))
    assert ca.count("presence", of_bob("offline")) == 1, ca.received("presence")
    assert ca.count("presence", of_bob("online")) == 1, ca.received("presence")

    # Closing the last one: offline.
    b2.disconnect(wait=False)
    ca.wait_for_count("presence", 2, of_bob("offline"))
    assert ca.count("presence", of_bob("online")) == 1


def test_typing_reaches_the_others_in_the_room_but_not_the_sender(server, make_user, connect):
    alice, bob = make_user("tya"), make_user("tyb")
    ca, cb = connect(alice), connect(bob)
    room = new_room(ca, "typing")
    join(cb, room)

    ca.emit("typing", {"room": room, "typing": True})
    got = cb.wait_for("typing", lambda p: p.get("typing") is True)
    assert got["room"] == room, got
    assert_user(got["user"], name=alice.name)
    ca.emit("typing", {"room": room, "typing": False})
    got = cb.wait_for("typing", lambda p: p.get("typing") is False)
    assert got["room"] == room and got["user"]["username"] == alice.name, got

    # Bob's typing reaches alice (so alice's client does record typing events)...
    cb.emit("typing", {"room": room, "typing": True})
    got = ca.wait_for("typing")
    assert got["user"]["username"] == bob.name and got["room"] == room, got
    # ...and a round trip later, alice still has none of her own.
    assert_ok(ca.call("rooms:list"))
    assert [p for p in ca.received("typing") if p["user"]["username"] == alice.name] == []
    assert [p for p in cb.received("typing") if p["user"]["username"] == bob.name] == []
    assert "error" not in ca.events and "error" not in cb.events


def test_rooms_list_has_general_and_random(server, make_user, connect):
    user = make_user("rooms")
    client = connect(user)
    ack = assert_ok(client.call("rooms:list"))
    assert isinstance(ack.get("rooms"), list), ack
    for room in ack["rooms"]:
        assert_room(room)
    by_name = {r["name"]: r for r in ack["rooms"]}
    assert "general" in by_name and "random" in by_name, sorted(by_name)
    assert by_name["general"]["kind"] == "public" and by_name["random"]["kind"] == "public"
    assert by_name["general"]["id"] != by_name["random"]["id"]
