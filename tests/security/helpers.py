"""Helpers of the security suite: servers with settings, raw HTTP, raw WebSocket, audit log.

Everything here talks to 127.0.0.1 only, and every wait is bounded.
"""
from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import ssl
import struct
import sys
import time
import uuid
from pathlib import Path

import requests
import websocket

from tests.support.clients import make_user, unique  # noqa: F401  (re-exported: one definition)
from tests.support.server import ServerProcess
from tests.support.services import redis_db

SECRET_KEY = "e2e-secret-key"  # what ServerProcess sets
TOKEN_SALT = "switchboard.socket-token"  # blueprints/auth/service.py
EVIL = "http://evil.example"

# -- servers -------------------------------------------------------------------

MUTANT = os.environ.get("SB_SECURITY_MUTANT")  # see mutants.py


class SecServerProcess(ServerProcess):
    """ServerProcess that runs a mutant (one defence removed) when SB_SECURITY_MUTANT is set."""

    def command(self) -> list[str]:
        if MUTANT:
            return [sys.executable, str(Path(__file__).with_name("mutants.py"))]
        return super().command()

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds: the server waits for idle
        keep-alive connections (the tests' HTTP sessions) on a clean stop, and
        this suite does not need to wait for that."""
        super().stop(grace)


class TLSServerProcess(SecServerProcess):
    """``python app.py`` with TLS_CERT/TLS_KEY: answers HTTPS (self-signed)."""

    verify_tls = False

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"


@contextlib.contextmanager
def two_process_deployment(name: str, queue_db: int):
    """Two processes of one deployment (eventlet and gevent): one Redis message
    queue (database ``queue_db``) and one SQLite database."""
    with redis_db(queue_db) as queue:
        env = {"MESSAGE_QUEUE": queue, "DEPLOYMENT": unique(name)}
        one = SecServerProcess(async_mode="eventlet", env=env, name=f"{name}-one")
        two = SecServerProcess(async_mode="gevent", env=env, instance_path=one.instance_path,
                               name=f"{name}-two")
        try:
            one.start()
            two.start()  # after one: it finds the database migrated
            yield one, two
        finally:
            two.stop()
            one.stop()


# -- rooms over Socket.IO (tests.support.clients.Client) -----------------------

def create_private_room(owner, members) -> int:
    ack = owner.call("room:create", {"name": unique("priv"), "kind": "private",
                                     "members": [m.name for m in members]})
    assert ack["ok"], ack
    return ack["room"]["id"]


def join(client, room: int) -> None:
    ack = client.call("room:join", {"room": room})
    assert ack["ok"], ack


def send(client, room: int, text: str) -> dict:
    ack = client.call("message:send", {"room": room, "text": text, "client_id": uuid.uuid4().hex})
    assert ack["ok"], ack
    return ack["message"]


def in_room(room: int, prefix: str = ""):
    """A predicate: an event of ``room`` (a message whose text starts with ``prefix``)."""
    return lambda m: isinstance(m, dict) and m.get("room") == room \
        and str(m.get("text", "")).startswith(prefix)


def refusal_code(data) -> str | None:
    """The ``code`` of a connect_error (python-socketio gives {"message", "data": {...}})."""
    if not isinstance(data, dict):
        return None
    inner = data.get("data")
    if isinstance(inner, dict):
        return inner.get("code")
    return data.get("code")


# -- the audit log ------------------------------------------------------------

def log_text(server) -> str:
    return Path(server.log_path).read_text(errors="replace")


def json_lines(server) -> list[dict]:
    out = []
    for line in log_text(server).splitlines():
        line = line.strip()
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def audit_lines(server, action: str | None = None, **match) -> list[dict]:
    lines = [e for e in json_lines(server) if e.get("logger") == "switchboard.audit"]
    if action is not None:
        lines = [e for e in lines if e.get("action") == action]
    return [e for e in lines if all(e.get(k) == v for k, v in match.items())]


def wait_audit(server, action: str, timeout: float = 5.0, **match) -> list[dict]:
    """Audit lines of ``action`` matching ``match``; waits (bounded) for the first."""
    deadline = time.monotonic() + timeout
    while True:
        found = audit_lines(server, action, **match)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


# -- raw HTTP -----------------------------------------------------------------

def raw_exchange(port: int, data: bytes, timeout: float = 5.0, wait_close: bool = True,
                 tls: bool = False) -> tuple[bytes, bool, float]:
    """Send ``data`` on a fresh TCP connection; read until the server closes or ``timeout``.

    Returns (everything received, whether the server closed, seconds taken).
    """
    started = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    received = b""
    closed = False
    try:
        sock.sendall(data)
        deadline = started + timeout
        while not closed and (left := deadline - time.monotonic()) > 0:
            chunk, closed = recv_some(sock, left)
            if not chunk:
                break
            received += chunk
            if not wait_close and b"\r\n\r\n" in received:
                head, _, body = received.partition(b"\r\n\r\n")
                m = re.search(rb"content-length:\s*(\d+)", head, re.I)
                if m and len(body) >= int(m.group(1)):
                    break
    finally:
        sock.close()
    return received, closed, time.monotonic() - started


def recv_some(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """One ``recv`` waiting at most ``timeout``: (what came, whether the server
    closed the connection). ``b""`` and not closed: nothing came in time."""
    sock.settimeout(timeout)
    try:
        chunk = sock.recv(65536)
    except TimeoutError:
        return b"", False
    except OSError:  # reset, broken pipe, a TLS alert: closed
        return b"", True
    return chunk, not chunk


def http_request(method: str, path: str, port: int, body: bytes = b"",
                 headers: dict | None = None, content_length: int | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if content_length is not None:
        lines.append(f"Content-Length: {content_length}")
    elif method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def status_of(response: bytes) -> int | None:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", response)
    return int(m.group(1)) if m else None


def eio_handshake(base_url: str, origin: str | None = None, headers: dict | None = None,
                  query: str = "", verify: bool = True) -> dict:
    """Open an Engine.IO polling session; the decoded ``0{...}`` open packet."""
    h = dict(headers or {})
    if origin:
        h["Origin"] = origin
    r = requests.get(f"{base_url}/socket.io/?EIO=4&transport=polling{query}", headers=h,
                     timeout=10, verify=verify)
    assert r.status_code == 200, f"handshake: {r.status_code} {r.text[:200]}"
    assert r.text.startswith("0{"), r.text[:200]
    return json.loads(r.text[1:])


class PollingSession:
    """A hand-driven Engine.IO v4 long-polling session (requests, no socket.io client)."""

    def __init__(self, base_url: str, origin: str | None = None, query: str = "",
                 headers: dict | None = None) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.headers = dict(headers or {})
        if origin:
            self.headers["Origin"] = origin
        self.open = eio_handshake(base_url, headers=self.headers, query=query)
        self.sid = self.open["sid"]

    @property
    def url(self) -> str:
        return f"{self.base_url}/socket.io/?EIO=4&transport=polling&sid={self.sid}"

    def post(self, body: str | bytes) -> requests.Response:
        return self.http.post(self.url, data=body, headers=self.headers, timeout=10)

    def get(self, timeout: float = 10) -> requests.Response:
        return self.http.get(self.url, headers=self.headers, timeout=timeout)

    def packets(self, timeout: float = 10) -> list[str]:
        r = self.get(timeout)
        assert r.status_code == 200, f"poll: {r.status_code} {r.text[:200]}"
        return r.text.split("\x1e")

    def sio_connect(self, namespace: str = "/chat", auth: dict | None = None) -> str:
        """Send a Socket.IO CONNECT; return the server's answer packet (``40...`` or ``44...``)."""
        r = self.post(f"40{namespace}," + (json.dumps(auth) if auth is not None else ""))
        assert r.status_code == 200, f"connect POST: {r.status_code} {r.text[:200]}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for p in self.packets():
                if p.startswith((f"40{namespace},", f"44{namespace},")):
                    return p
        raise AssertionError("no answer to the Socket.IO CONNECT")


# -- raw WebSocket ------------------------------------------------------------

class RawEIO:
    """Engine.IO v4 over a WebSocket (websocket-client), driven packet by packet."""

    def __init__(self, base_url: str, origin: str | None = None, query: str = "",
                 header: list[str] | None = None, timeout: float = 10, sslopt=None) -> None:
        url = base_url.replace("http", "ws", 1) + f"/socket.io/?EIO=4&transport=websocket{query}"
        self.ws = websocket.create_connection(url, timeout=timeout, origin=origin or base_url,
                                              header=header or [], sslopt=sslopt)
        opening = self.ws.recv()
        assert opening.startswith("0{"), opening
        self.open = json.loads(opening[1:])

    def send(self, text: str) -> None:
        self.ws.send(text)

    def recv(self, timeout: float = 5) -> str | None:
        """The next packet other than a ping (pings are answered); None once closed."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no packet")
            self.ws.settimeout(left)
            try:
                data = self.ws.recv()
            except websocket.WebSocketConnectionClosedException:
                return None
            except websocket.WebSocketTimeoutException:
                raise TimeoutError("no packet") from None
            except (BrokenPipeError, ConnectionResetError):
                # websocket-client answers the server's close frame; when the
                # server has already closed the socket, that answer fails.
                return None
            if data == "2":
                self.ws.send("3")
                continue
            if data == "" and not self.ws.connected:
                return None
            return data

    def recv_for(self, seconds: float) -> tuple[list[str], bool]:
        """Every packet (pings answered) the server sends within ``seconds``, and
        whether it closed the connection by then. Any error of the connection
        counts as closing it (reset, broken pipe, a bad frame): its ``repr``
        ends the list, so a caller looking for leaks sees it too."""
        packets: list[str] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                p = self.recv(max(0.05, deadline - time.monotonic()))
            except TimeoutError:
                break
            except Exception as exc:  # the server closed it in some way
                packets.append(repr(exc))
                return packets, True
            if p is None:
                return packets, True
            packets.append(p if isinstance(p, str) else repr(p))
        return packets, False

    def recv_until(self, prefix: str, timeout: float = 5) -> str:
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            p = self.recv(max(0.05, deadline - time.monotonic()))
            if p is None:
                raise AssertionError(f"closed while waiting for {prefix!r}; saw {seen}")
            if isinstance(p, str) and p.startswith(prefix):
                return p
            seen.append(p)
        raise TimeoutError(f"no {prefix!r} within {timeout}s; saw {seen}")

    def sio_connect(self, namespace: str = "/chat", auth: dict | None = None) -> str:
        self.send(f"40{namespace}," + (json.dumps(auth) if auth is not None else ""))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            p = self.recv(10)
            if p is None:
                raise AssertionError("closed during Socket.IO CONNECT")
            if p.startswith((f"40{namespace},", f"44{namespace},")):
                return p
        raise AssertionError("no answer to the Socket.IO CONNECT")

    def call(self, namespace: str, ack_id: int, event: str, *args, timeout: float = 5):
        """Emit with an ack id; return the decoded ack arguments."""
        self.send(f"42{namespace},{ack_id}" + json.dumps([event, *args]))
        p = self.recv_until(f"43{namespace},{ack_id}[", timeout)
        return json.loads(p[len(f"43{namespace},{ack_id}"):])

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except Exception:  # clean-up only
            pass


def ws_frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, mask: bool = True,
             length: int | None = None) -> bytes:
    """One WebSocket frame, built by hand (so it can break the rules of RFC 6455)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload) if length is None else length
    if n < 126:
        head = struct.pack("!BB", first, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", first, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def raw_ws_upgrade(port: int, origin: str, path: str = "/socket.io/?EIO=4&transport=websocket",
                   timeout: float = 5) -> tuple[socket.socket, bytes]:
    """A plain TCP socket after a hand-built WebSocket handshake; returns it and what followed."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                  f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
    data = b""
    deadline = time.monotonic() + timeout
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head[:200]
    return sock, rest


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, bool]:
    """Everything the server sends within ``timeout``, and whether it closed the connection."""
    received = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        chunk, closed = recv_some(sock, left)
        received += chunk
        if closed or not chunk:
            return received, closed
    return received, False


# -- process facts -------------------------------------------------------------

def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


TRACEBACK_MARKERS = (b"Traceback", b'File "/', b"most recent call last")


def has_traceback(data: bytes | str) -> bool:
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return any(m in data for m in TRACEBACK_MARKERS)
