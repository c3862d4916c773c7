"""The Socket.IO Admin UI leaks nothing: no secret in its frames, no frame to a refused socket.

Reproduces the attack runs that found these leaks, against the real server:

- python-socketio's instrumentation reported every socket's handshake (all
  HTTP headers: the HttpOnly session cookie, ``Authorization``; the query
  string) and every received event's payload to the admins;
- a socket is registered in its namespace before its connect handler runs,
  so a client with no account looping connect attempts on the UI's namespace
  received other users' frames (with MESSAGE_QUEUE: 43 working cookies in 30 s).

Every wait is a poll with a deadline; every loop is bounded in count and time.
"""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from tests.security.helpers import RawEIO, make_user, unique
from tests.support.clients import Client, cookie_header, login
from tests.support.services import REDIS_DATABASES, redis_db, redis_url

NS = "/socketio-admin"
UI_FRAME = f"42{NS},"
# A looping connector may send far more packets than a browser: these tests
# are about what it receives, not about the packet limit (tested elsewhere).
UNLIMITED = {"RATE_LIMIT_PACKETS": "100000/second", "RATE_LIMIT_EVENTS": "100000/minute",
             "RATE_LIMIT_MESSAGES": "100000/minute", "MAX_PENDING_PER_IP": "100000"}


class FrameTap:
    """A raw WebSocket Socket.IO client on one namespace that records every frame it gets."""

    def __init__(self, base_url: str, namespace: str, header: list[str] | None = None,
                 auth: dict | None = None) -> None:
        self.raw = RawEIO(base_url, header=header)
        answer = self.raw.sio_connect(namespace, auth)
        assert answer.startswith(f"40{namespace},"), f"not admitted: {answer}"
        self.frames: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True, name="frame-tap")
        self._thread.start()

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                packet = self.raw.recv(0.5)
            except TimeoutError:
                continue
            except Exception:
                return
            if packet is None:
                return
            self.frames.append(packet)

    def events(self, name: str) -> list:
        out = []
        for frame in list(self.frames):
            if frame.startswith(UI_FRAME):
                body = json.loads(frame[len(UI_FRAME):])
                if body and body[0] == name:
                    out.append(body[1:])
        return out

    def wait(self, condition, timeout: float = 15.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; frames: {self.frames[-20:]}")
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self.raw.close()
        self._thread.join(2)


# -- 1. no secret in any frame --------------------------------------------------------

@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def dev_ui_server(request, module_servers):
    """The UI on in development reporting: it reports every socket and every event."""
    return module_servers(env={"SOCKETIO_ADMIN_UI": "read-only",
                               "SOCKETIO_ADMIN_UI_MODE": "development", **UNLIMITED},
                          mode=request.param, name=f"admin-ui-leaks-{request.param}")


def test_admin_ui_frames_carry_no_cookie_authorization_or_token(dev_ui_server, clients):
    server = dev_ui_server
    admin = make_user(server, "uiadm")  # the module's server is fresh: the first one is admin
    ui = FrameTap(server.url, NS, header=[f"Cookie: {cookie_header(admin.http)}"])
    try:
        secrets = {"admin's session cookie": admin.http.cookies.get("session")}
        users = [make_user(server, "uileak") for _ in range(4)]
        # Users with cookies (one with a remember-me cookie too) and tokens, both transports.
        remembered = login(server.url, users[1].name, remember=True).http
        secrets["remember-me cookie"] = remembered.cookies.get("remember_token")
        connected = [
            clients(server, users[0], "websocket", via="cookie"),
            clients(server, transport="polling", http=remembered),
            clients(server, users[2], "websocket", via="token"),
            clients(server, users[3], "polling", via="token"),
        ]
        secrets["session cookie (websocket)"] = users[0].http.cookies.get("session")
        secrets["session cookie (polling)"] = remembered.cookies.get("session")
        secrets["auth token (websocket)"] = users[2].token()
        secrets["auth token (polling)"] = users[3].token()
        # A client putting a token in an Authorization header and in the query string
        # (the server refuses both; the UI reports the attempt all the same).
        header_token, query_token = users[0].token(fresh=True), users[1].token(fresh=True)
        secrets["Authorization header"] = header_token
        secrets["token in the query string"] = query_token
        stray = RawEIO(server.url, query=f"&token={query_token}&access_token={query_token}",
                       header=[f"Authorization: Bearer {header_token}"])
        try:
            assert stray.sio_connect("/chat").startswith("44/chat,")
        finally:
            stray.close()
        # Payload fields named like secrets, in an event the UI reports.
        password, token_field = "pw-" + uuid.uuid4().hex, "tk-" + uuid.uuid4().hex
        secrets["password field"], secrets["token field"] = password, token_field
        connected[0].emit("rooms:list", {"password": password, "token": token_field,
                                         "auth": f"Bearer {token_field}x"})
        connected[2].call("message:send", {"room": 1, "text": f"my password={password}",
                                           "client_id": uuid.uuid4().hex})

        def reported_chat_sockets() -> int:
            return sum(1 for (sock, *_rest) in ui.events("socket_connected")
                       if sock["nsp"] == "/chat")

        ui.wait(lambda: reported_chat_sockets() >= 5 and len(ui.events("event_received")) >= 2,
                what="the UI's reports of the five /chat sockets and two events")
        time.sleep(0.5)  # frames still in flight (a ping's re-report) are examined too
        # Control: the UI does show the sockets, with harmless headers.
        shown = [sock["handshake"]["headers"] for (sock, *_r) in ui.events("socket_connected")]
        assert any("user_agent" in h or "host" in h for h in shown), shown
        blob = "\n".join(ui.frames)
        leaked = [what for what, value in secrets.items() if value and value in blob]
        assert not leaked, f"secrets in Admin UI frames: {leaked}"
        for headers in shown:
            assert not {"cookie", "authorization"} & set(headers), headers
    finally:
        ui.close()


# -- 2. a refused connect receives nothing ----------------------------------------------

def _activity(url: str, users, stop: threading.Event) -> None:
    """Users connect, send and disconnect over and over (frames for the UI), until stopped."""
    while not stop.is_set():
        for user in users:
            if stop.is_set():
                return
            try:
                client = Client(url, "websocket", http=user.http).connect()
                client.call("message:send", {"room": 1, "text": "busy",
                                             "client_id": uuid.uuid4().hex})
                client.disconnect()
            except Exception:  # a slow moment; keep the load going
                time.sleep(0.05)


def loop_refused_connects(url: str, namespace: str, seconds: float, max_attempts: int,
                          auth: dict | None = None, header: list[str] | None = None) -> dict:
    """Connect to ``namespace`` over and over on raw WebSockets; every attempt must be refused.

    Returns attempts made and every frame of that namespace received before a refusal.
    """
    got, attempts = [], 0
    deadline = time.monotonic() + seconds
    raw = None
    try:
        while time.monotonic() < deadline and attempts < max_attempts:
            if raw is None:
                raw = RawEIO(url, header=header)
            raw.send(f"40{namespace}," + (json.dumps(auth) if auth is not None else ""))
            attempts += 1
            while True:
                packet = raw.recv(10)
                if packet is None:  # the server may end a session that never gets in
                    raw = None
                    break
                if packet.startswith(f"44{namespace},"):
                    break
                assert not packet.startswith(f"40{namespace},"), "admitted: the test is wrong"
                if packet.startswith(f"42{namespace},"):
                    got.append(packet)
    finally:
        if raw is not None:
            raw.close()
    return {"attempts": attempts, "frames": got}


def test_refused_connects_on_the_ui_namespace_receive_no_frame(dev_ui_server):
    """Anonymous and non-admin clients loop connects while others are busy: zero frames."""
    server = dev_ui_server
    busy = [make_user(server, "busy") for _ in range(2)]
    member = make_user(server, "nonadm")
    stop = threading.Event()
    load = threading.Thread(target=_activity, args=(server.url, busy, stop), daemon=True)
    load.start()
    try:
        # The load is on before the loop starts (the UI reports its sockets).
        # Bounded by count, not by how many fit in a time window (a loaded
        # machine, or other xdist workers, made 2.5 s hold fewer than 50).
        anonymous = loop_refused_connects(server.url, NS, seconds=30, max_attempts=150)
        non_admin = loop_refused_connects(server.url, NS, seconds=30, max_attempts=150,
                                          auth={"token": member.token()})
    finally:
        stop.set()
        load.join(10)
    assert anonymous["attempts"] > 50 and non_admin["attempts"] > 50
    assert anonymous["frames"] == [], f"{len(anonymous['frames'])} frames, e.g. " \
                                      f"{anonymous['frames'][:3]}"
    assert non_admin["frames"] == [], f"{len(non_admin['frames'])} frames, e.g. " \
                                      f"{non_admin['frames'][:3]}"


def test_refused_connects_receive_no_frame_from_the_queue(servers):
    """Two processes on Redis: namespace-wide broadcasts from the other process (admin
    announcements, arriving through the queue while the connect handler waits on Redis)
    never reach a socket that is then refused (too_many_connections)."""
    with redis_db(REDIS_DATABASES["tests/security/test_admin_ui_leaks.py"]) as queue:
        env = {"MESSAGE_QUEUE": queue, "DEPLOYMENT": unique("adm"), "MAX_CONNECTIONS_PER_USER": "1",
               "SOCKETIO_ADMIN_UI": "read-only", **UNLIMITED}
        one = servers(env=env, name="admission-queue-1")
        instance = one.instance_path
        two = servers(env={**env, "INSTANCE_PATH": instance}, name="admission-queue-2")
        admin, member, other = (make_user(one, p) for p in ("qadm", "qmem", "qoth"))
        held = Client(one.url, "websocket", token=member.token()).connect()  # at the cap now
        announcer = Client(two.url, "websocket", token=admin.token(), namespace="/admin").connect()
        listener = None
        stop = threading.Event()

        def announce():
            while not stop.is_set():
                try:
                    announcer.call("announce", {"text": "to every /chat client"})
                except Exception:
                    time.sleep(0.05)

        thread = threading.Thread(target=announce, daemon=True)
        thread.start()
        try:
            # Control: the announcements do reach an admitted /chat socket on process one.
            listener = Client(one.url, "websocket", token=other.token()).connect()
            listener.wait_for("system", timeout=10)
            # Bounded by count (as above), with time to spare on a loaded machine.
            result = loop_refused_connects(one.url, "/chat", seconds=30, max_attempts=100,
                                           auth={"token": member.token()})
            ui = loop_refused_connects(one.url, NS, seconds=30, max_attempts=50,
                                       auth={"token": member.token()})
        finally:
            stop.set()
            thread.join(10)
            for client in (held, announcer, listener):
                if client is not None:
                    client.disconnect(wait=False)
        assert result["attempts"] > 20 and ui["attempts"] > 20
        assert result["frames"] == [], \
            f"{len(result['frames'])} frames, e.g. {result['frames'][:3]}"
        assert ui["frames"] == [], f"{len(ui['frames'])} frames, e.g. {ui['frames'][:3]}"


# -- 3. development reporting with a message queue is refused at start ---------------------

def test_development_reporting_with_a_message_queue_is_refused_at_start(servers):
    from tests.security.helpers import SecServerProcess

    srv = SecServerProcess(env={"SOCKETIO_ADMIN_UI": "read-only",
                                "SOCKETIO_ADMIN_UI_MODE": "development",
                                "MESSAGE_QUEUE": redis_url(REDIS_DATABASES[
                                    "tests/security/test_admin_ui_leaks.py"])},
                           name="admin-ui-dev-queue")
    try:
        with pytest.raises(RuntimeError) as exc:
            srv.start(timeout=20)
    finally:
        srv.stop()
    lines = [line for line in srv.log().splitlines() if "configuration error" in line]
    assert len(lines) == 1, srv.log()
    assert "SOCKETIO_ADMIN_UI_MODE" in lines[0] and "MESSAGE_QUEUE" in lines[0], lines
    assert "exited with 2" in str(exc.value)
