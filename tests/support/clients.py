"""Real clients for end-to-end tests: HTML-form login, tokens, Socket.IO."""
from __future__ import annotations

import queue
import re
import threading
import time
from collections import defaultdict

import requests
import socketio

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(html: str) -> str:
    m = CSRF_RE.search(html)
    assert m, "no csrf_token in the form"
    return next(g for g in m.groups() if g)


def register(base_url: str, username: str, password: str = "correct-horse") -> requests.Session:
    """Register through the HTML form (CSRF token and all); returns a logged-in session."""
    http = requests.Session()
    page = http.get(base_url + "/register")
    r = http.post(base_url + "/register", data={
        "csrf_token": csrf_token(page.text), "username": username,
        "password": password, "confirm": password,
    }, allow_redirects=False)
    assert r.status_code == 302, f"register {username}: {r.status_code} {r.text[:300]}"
    return http


def login(base_url: str, username: str, password: str = "correct-horse",
          next_path: str | None = None) -> requests.Response:
    http = requests.Session()
    page = http.get(base_url + "/login")
    url = base_url + "/login" + (f"?next={next_path}" if next_path else "")
    r = http.post(url, data={"csrf_token": csrf_token(page.text), "username": username,
                             "password": password}, allow_redirects=False)
    r.http = http  # type: ignore[attr-defined]
    return r


def token(base_url: str, username: str, password: str = "correct-horse") -> str:
    r = requests.post(base_url + "/api/token", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["token"]


def cookie_header(http: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in http.cookies)


class Client:
    """A python-socketio client on /chat that records every event it receives."""

    def __init__(self, base_url: str, transport: str, *, token: str | None = None,
                 http: requests.Session | None = None, namespace: str = "/chat",
                 reconnection: bool = False) -> None:
        self.base_url = base_url
        self.namespace = namespace
        self.transport = transport
        self.sio = socketio.Client(reconnection=reconnection, logger=False,
                                   engineio_logger=False)
        self.events: dict[str, list] = defaultdict(list)
        self._queue: "queue.Queue[tuple[str, object]]" = queue.Queue()
        self._lock = threading.Lock()
        self.token = token
        self.http = http
        self.sio.on("*", self._record, namespace=namespace)
        self.connect_error = None
        self.sio.on("connect_error", self._on_connect_error, namespace=namespace)

    def _record(self, event, *args):
        payload = args[0] if len(args) == 1 else list(args)
        with self._lock:
            self.events[event].append(payload)
        self._queue.put((event, payload))

    def _on_connect_error(self, data):
        self.connect_error = data

    def connect(self, wait_timeout: float = 10) -> "Client":
        headers = {"Origin": self.base_url}
        if self.http is not None:
            headers["Cookie"] = cookie_header(self.http)
        self.sio.connect(self.base_url, namespaces=[self.namespace],
                         transports=[self.transport], headers=headers,
                         auth={"token": self.token} if self.token else None,
                         wait_timeout=wait_timeout)
        return self

    def call(self, event: str, payload=None, timeout: float = 10):
        return self.sio.call(event, payload if payload is not None else {},
                             namespace=self.namespace, timeout=timeout)

    def emit(self, event: str, payload=None) -> None:
        self.sio.emit(event, payload, namespace=self.namespace)

    def wait_for(self, event: str, predicate=lambda p: True, timeout: float = 10):
        """The first recorded ``event`` matching ``predicate`` (waiting up to ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for payload in self.events[event]:
                    if predicate(payload):
                        return payload
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {event!r} matching within {timeout}s; got {dict(self.events)}")
            try:
                self._queue.get(timeout=min(left, 0.2))
            except queue.Empty:
                pass

    def disconnect(self) -> None:
        self.sio.disconnect()

    @property
    def connected(self) -> bool:
        return self.sio.connected
