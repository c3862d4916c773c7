"""The one home of the helpers every layer shares: fresh names and accounts
(``unique``, ``make_user``), real clients (HTML-form login, tokens, Socket.IO
over the wire), the ``clients`` fixture that closes them, and ``call`` for the
in-process Flask-SocketIO test client.

Test modules import these from here (tests/security/helpers.py and
tests/integration/conftest.py only re-export them); tests/conftest.py makes
``clients`` a fixture everywhere.
"""
from __future__ import annotations

import itertools
import os
import queue
import re
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import engineio.payload
import pytest
import requests
import socketio

# python-engineio refuses to decode a long-polling response that holds more
# than 16 packets (a server-side guard it shares with its client), while the
# server queues any number of packets for one poll and socket.io-client has no
# such limit. A burst (e.g. 15 messages sent without waiting: 15 broadcasts + 15
# acks) would make the python polling client drop its connection as
# "Unexpected packet from server". Test clients decode like the browser does.
engineio.payload.Payload.max_decode_packets = 10_000

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')

DEFAULT_PASSWORD = "correct-horse"
HTTP_TIMEOUT = 30  # generous: a loaded CI machine hashes passwords slowly


_names = itertools.count(1)


def unique(prefix: str = "user") -> str:
    """A name nobody else uses on this run's servers (usernames: 3-32 of [A-Za-z0-9_.-]).

    The process id keeps two pytest processes sharing a server (or a Redis
    database) apart; the counter keeps the tests of one process apart.
    """
    return f"{prefix}{os.getpid() % 10000}x{next(_names)}"


def csrf_token(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no csrf_token in the form"
    return next(g for g in m.groups() if g)


def register(base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> requests.Session:
    """Register through the HTML form (CSRF token and all); returns a logged-in session."""
    http = requests.Session()
    page = http.get(base_url + "/register", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, f"GET /register: {page.status_code}"
    r = http.post(base_url + "/register", data={
        "csrf_token": csrf_token(page.text), "username": username,
        "password": password, "confirm": password,
    }, allow_redirects=False, timeout=HTTP_TIMEOUT)
    assert r.status_code == 302, f"register {username}: {r.status_code} {r.text[:300]}"
    return http


def login(base_url: str, username: str, password: str = DEFAULT_PASSWORD,
          next_path: str | None = None, remember: bool = False) -> requests.Response:
    """POST the login form from a fresh session; the response carries that session as ``.http``."""
    http = requests.Session()
    page = http.get(base_url + "/login", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, f"GET /login: {page.status_code}"
    data = {"csrf_token": csrf_token(page.text), "username": username, "password": password}
    if remember:
        data["remember"] = "y"
    # ``params`` URL-encodes ``next`` (it may hold "//", ":" or "\").
    r = http.post(base_url + "/login", params={"next": next_path} if next_path else None,
                  data=data, allow_redirects=False, timeout=HTTP_TIMEOUT)
    r.http = http  # type: ignore[attr-defined]
    return r


def logout(base_url: str, http: requests.Session) -> requests.Response:
    """POST /logout with a CSRF token of this session (taken from the register form,
    which renders for logged-in users too)."""
    page = http.get(base_url + "/register", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200, f"GET /register: {page.status_code}"
    return http.post(base_url + "/logout", data={"csrf_token": csrf_token(page.text)},
                     allow_redirects=False, timeout=HTTP_TIMEOUT)


def token(base_url: str, username: str, password: str = DEFAULT_PASSWORD) -> str:
    r = requests.post(base_url + "/api/token", json={"username": username, "password": password},
                      timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    body = r.json()
    assert isinstance(body.get("token"), str) and body["token"], body
    assert isinstance(body.get("expires_in"), int) and body["expires_in"] > 0, body
    return body["token"]


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


@dataclass
class User:
    """An account registered through the HTML form, with its logged-in session."""

    base_url: str
    name: str
    http: requests.Session
    password: str = DEFAULT_PASSWORD
    _token: str | None = field(default=None, repr=False)

    def token(self, fresh: bool = False) -> str:
        if self._token is None or fresh:
            self._token = token(self.base_url, self.name, self.password)
        return self._token


def make_user(server, prefix: str = "user") -> User:
    """A fresh account on ``server`` (or a base URL), registered through the
    HTML form (CSRF token and all); the ``User`` holds its logged-in session."""
    base = getattr(server, "url", server)
    name = unique(prefix)
    return User(base, name, register(base, name))


class Client:
    """A python-socketio client on /chat that records every event it receives."""

    def __init__(self, base_url: str, transport: str, *, token: str | None = None,
                 http: requests.Session | None = None, namespace: str = "/chat",
                 reconnection: bool = False, auth: dict | None = None,
                 cookie: str | None = None, origin: str | None = None) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.transport = transport
        self.origin = origin or base_url
        # websocket-client always sends an Origin header of its own (made from
        # the URL); an ``Origin`` in ``headers`` would be sent a second time and
        # the server would see "a,b". So the websocket transport gets it here.
        self.sio = socketio.Client(reconnection=reconnection, logger=False,
                                   engineio_logger=False,
                                   websocket_extra_options={"origin": self.origin})
        self.events: dict[str, list] = defaultdict(list)
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue()
        self._lock = threading.Lock()
        self.token = token
        self.auth = auth
        self.http = http
        self.cookie = cookie
        self.sio.on("*", self._record, namespace=namespace)
        self.connect_error = None
        self.disconnected = threading.Event()
        self.sio.on("connect_error", self._on_connect_error, namespace=namespace)
        self.sio.on("disconnect", self._on_disconnect, namespace=namespace)
        self.sio.on("connect", self._on_connect, namespace=namespace)

    def _record(self, event, *args):
        payload = args[0] if len(args) == 1 else list(args)
        with self._lock:
            self.events[event].append(payload)
        self._queue.put((event, payload))

    def _on_connect_error(self, data):
        self.connect_error = data
        self._queue.put(("connect_error", data))

    def _on_connect(self):
        self._queue.put(("connect", None))

    def _on_disconnect(self, *reason):
        self.disconnected.set()
        self._queue.put(("disconnect", reason))

    def connect(self, wait_timeout: float = 10) -> Client:
        headers = {"Origin": self.origin} if self.transport == "polling" else {}
        if self.cookie is not None:
            headers["Cookie"] = self.cookie
        elif self.http is not None:
            headers["Cookie"] = cookie_header(self.http)
        auth = self.auth if self.auth is not None else (
            {"token": self.token} if self.token else None)
        self.sio.connect(self.base_url, namespaces=[self.namespace],
                         transports=[self.transport], headers=headers,
                         auth=auth, wait_timeout=wait_timeout)
        return self

    def connect_refused(self, timeout: float = 10):
        """Try to connect, expecting a refusal; return the ``connect_error`` payload.

        The refusal is what the test is about. Connecting runs in a thread so
        that the client's own clean-up of the refused connection (which
        python-socketio does inside ``connect()``) does not hold the test up.
        Returns None when the connection was accepted instead.
        """
        outcome: dict = {}

        def attempt():
            try:
                self.connect(wait_timeout=timeout)
                outcome["connected"] = True
            except Exception as exc:  # the expected outcome
                outcome["error"] = exc

        threading.Thread(target=attempt, daemon=True, name="connect-refused").start()
        deadline = time.monotonic() + timeout
        while self.connect_error is None and "connected" not in outcome:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"neither connected nor refused within {timeout}s: {outcome}")
            if "error" in outcome and self.connect_error is None:
                raise AssertionError(f"connect failed without connect_error: {outcome['error']!r}")
            try:
                self._queue.get(timeout=min(left, 0.2))
            except queue.Empty:
                pass
        return self.connect_error

    def call(self, event: str, payload=None, timeout: float = 10):
        return self.sio.call(event, payload if payload is not None else {},
                             namespace=self.namespace, timeout=timeout)

    def call_raw(self, event: str, *args, timeout: float = 10):
        """``call`` with exactly these positional arguments (none, a list, a string...)."""
        data = tuple(args) if len(args) != 1 else args[0]
        if not args:
            data = None
        return self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    def emit(self, event: str, payload=None) -> None:
        self.sio.emit(event, payload, namespace=self.namespace)

    def received(self, event: str, predicate=lambda p: True) -> list:
        with self._lock:
            return [p for p in self.events[event] if predicate(p)]

    def count(self, event: str, predicate=lambda p: True) -> int:
        return len(self.received(event, predicate))

    def wait_for(self, event: str, predicate=lambda p: True, timeout: float = 10):
        """The first recorded ``event`` matching ``predicate`` (waiting up to ``timeout``)."""
        return self.wait_for_count(event, 1, predicate, timeout)[0]

    def wait_for_count(self, event: str, n: int, predicate=lambda p: True,
                       timeout: float = 10) -> list:
        """Wait until at least ``n`` recorded ``event``s match; return all that match."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.received(event, predicate)
            if len(found) >= n:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                with self._lock:
                    got = {k: list(v) for k, v in self.events.items()}
                raise TimeoutError(f"{self.transport} client: wanted {n} {event!r} matching "
                                   f"within {timeout}s, have {len(found)}; got {got}")
            try:
                self._queue.get(timeout=min(left, 0.2))
            except queue.Empty:
                pass

    def assert_no_event(self, event: str, predicate=lambda p: True, within: float = 1.0) -> None:
        """Absence can only be checked by waiting: fail if a match arrives ``within`` seconds."""
        try:
            got = self.wait_for(event, predicate, timeout=within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {event!r}: {got!r}")

    def wait_disconnected(self, timeout: float = 10) -> bool:
        return self.disconnected.wait(timeout)

    def disconnect(self, wait: bool = True, timeout: float = 10) -> None:
        """Disconnect. ``wait=False`` returns once the client has said goodbye
        (socket.io DISCONNECT and engine.io CLOSE queued, ``disconnect`` fired)
        and lets a thread finish the transport's close handshake."""
        if wait:
            self.sio.disconnect()
            return
        if not self.sio.connected:
            return
        threading.Thread(target=self._quiet_disconnect, daemon=True, name="disconnect").start()
        assert self.disconnected.wait(timeout), f"client did not disconnect within {timeout}s"

    def _quiet_disconnect(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # clean-up only; the test has what it needs
            pass

    @property
    def connected(self) -> bool:
        return self.sio.connected


def disconnect_all(clients: list[Client]) -> None:
    """Teardown: disconnect every client, never hiding the test's own failure."""
    for client in clients:
        try:
            client.disconnect(wait=False, timeout=5)
        except Exception:
            pass


class Clients:
    """What the ``clients`` fixture gives a test; every client is closed when it ends.

    ``clients(server, user, transport, via="token"|"cookie", **kw)`` connects a
    recording ``Client`` (a user's token or session cookie unless ``token``,
    ``http``, ``auth`` or ``cookie`` is given); ``clients.make(...)`` returns one
    not yet connected; ``clients.append(client)`` adopts one made elsewhere.
    """

    def __init__(self) -> None:
        self.made: list[Client] = []

    def make(self, server, user: User | None = None, transport: str = "websocket",
             via: str = "token", **kwargs) -> Client:
        base = getattr(server, "url", server)
        if user is not None and not {"token", "http", "auth", "cookie"} & set(kwargs):
            if via == "token":
                kwargs["token"] = user.token()
            else:
                kwargs["http"] = user.http
        return self.append(Client(base, transport, **kwargs))

    def __call__(self, server, user: User | None = None, transport: str = "websocket",
                 via: str = "token", **kwargs) -> Client:
        return self.make(server, user, transport, via, **kwargs).connect()

    def append(self, client: Client) -> Client:
        self.made.append(client)
        return client

    def close(self) -> None:
        disconnect_all(self.made)


@pytest.fixture
def clients():
    """``Clients``: connect (or make) real Socket.IO clients, all closed at the end."""
    made = Clients()
    yield made
    made.close()


# -- the in-process test client (Flask-SocketIO's socketio.test_client) ----------

def call(client, event: str, *args, namespace: str = "/chat", ack: bool = True):
    """Emit ``event`` with exactly ``args`` as a client would (none is read as
    ``{}`` by realtime/namespace.py); return the ack envelope. With
    ``ack=False`` (events that take no ack) return the ``error`` event it
    caused as ``{"ok": False, "error": ...}``, or None when nothing came back."""
    if ack:
        return client.emit(event, *args, namespace=namespace, callback=True)
    client.get_received(namespace)
    client.emit(event, *args, namespace=namespace)
    errors = [m["args"][0] for m in client.get_received(namespace) if m["name"] == "error"]
    if errors:
        err = dict(errors[-1])
        err.pop("event", None)
        return {"ok": False, "error": err}
    return None
