"""WSGI guard in front of python-engineio: refuse what it would mishandle.

Measured against python-engineio 4.15.1 / eventlet 0.41.3 with defaults:
- a long-polling POST whose Content-Length exceeds the packet limit, or whose
  body holds a packet type a client may not send, is never answered, and
  its greenlet and file descriptor are never freed: ~1,000 of them stop the
  whole server. We answer such requests at once (413 / 400) and close the
  connection without reading the body (servers.py lets us ask for that).
- JSONP polling (``j=`` in the query) skips the origin check and no setting
  disables it: we refuse it.
- a refused Origin is answered by python-engineio before the app sees it, so
  it would never reach the audit log: we check the same explicit allow-list
  here first and log the refusal.
- a WebSocket handshake with a version other than 13 made gevent's stack
  answer 500: we answer 426 with the version we speak.
- MAX_CONNECTIONS counts Socket.IO connections, admitted at the namespace
  connect; an Engine.IO session that never connects a namespace holds a
  session and a greenlet for a ping timeout (45 s) uncounted. New sessions
  are refused (503) while the process holds MAX_CONNECTIONS + SESSION_HEADROOM
  of them (the headroom lets a refused namespace connect say why, with its
  connect_error code, instead of failing at the handshake). A closed session
  counts until python-engineio's sweep drops it, within PING_TIMEOUT.
- that cap alone let one address lock everyone out: 8 threads of anonymous
  polling handshakes filled it in ~17 s (0.8 s with MAX_CONNECTIONS=1000),
  and sessions that answer pings were held for ever without a namespace. So
  a session must connect a namespace within CONNECT_TIMEOUT (closed by
  realtime/housekeeping.py), and an address may hold at most
  MAX_PENDING_PER_IP such sessions: its next handshake is answered 503 with
  Retry-After, other addresses are unaffected (PendingSessions). The address
  is the one after TRUSTED_PROXIES (ProxyFix runs outside this guard).
- each refusal wrote an audit line (30k lines, 4.9 MB in 90 s): refusals a
  client can repeat at will are audited as a count per address per minute
  (RefusalLog).
permessage-deflate is declined (see docs/performance.md for the numbers).
Every response under /socket.io/ also gets ``X-Content-Type-Options: nosniff``
(polling bodies carry user text as text/plain from our origin).
This runs in the single-process default too, not only behind nginx.
"""
from __future__ import annotations

import io
import time
from collections import Counter
from urllib.parse import parse_qs

from audit import audit
from middleware.clientinfo import client_ip

# Engine.IO v4 packets a client may send in a polling POST: close, pong,
# message, upgrade, and "b" (a base64 binary message). python-engineio hangs
# on the others (open, ping, noop) just as on unknown ones. Packets are
# joined with \x1e.
_CLIENT_PACKET_TYPES = frozenset(b"1345b")
CLOSE_CONNECTION = "switchboard.close_connection"
# Below serving.py's pool slack (100), so plain HTTP (/healthz) still gets a greenlet.
SESSION_HEADROOM = 50


def _reply(environ, start_response, status: str, text: str, extra_headers=(), *,
           audited: bool = False):
    """Answer at once, audit the refusal (unless the caller did), close the connection
    without reading the body."""
    if not audited:
        audit("request_refused", status=int(status.split()[0]), reason=text,
              ip=client_ip(environ), method=environ.get("REQUEST_METHOD"),
              size=environ.get("CONTENT_LENGTH") or 0)
    close = environ.get(CLOSE_CONNECTION)
    if close is not None:
        close()
    body = text.encode()
    start_response(status, [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
        ("X-Content-Type-Options", "nosniff"),
        ("Connection", "close"),
        *extra_headers,
    ])
    return [body]


class PendingSessions:
    """Engine.IO sessions of this process that have not connected a namespace yet.

    Fed by realtime/compat.py (opened / admitted / closed); read here at every
    handshake (O(1)) and by housekeeping (``overdue``: the oldest first, so a
    round costs what it closes). Per process, like the session cap: with N
    processes an address may hold N x MAX_PENDING_PER_IP.
    """

    def __init__(self, per_ip: int, timeout: float) -> None:
        self.per_ip = per_ip
        self.timeout = timeout
        self._opened: dict[str, tuple[str, float]] = {}  # eio sid -> (address, when); in order
        self._count: Counter[str] = Counter()
        self._address: dict[str, str] = {}  # every open session's address, pending or not

    def opened(self, eio_sid: str, ip: str) -> None:
        self._opened[eio_sid] = (ip, time.monotonic())
        self._count[ip] += 1
        self._address[eio_sid] = ip

    def admitted(self, eio_sid: str) -> None:
        entry = self._opened.pop(eio_sid, None)
        if entry is not None:
            ip = entry[0]
            self._count[ip] -= 1
            if self._count[ip] <= 0:
                del self._count[ip]

    def idle(self, eio_sid: str) -> None:
        """The session left its last namespace: pending again, with a new deadline.

        Otherwise a client could connect a namespace once, disconnect it, and
        hold the session (and a slot of MAX_CONNECTIONS) for as long as it
        answers pings, outside every per-address and per-user count.
        """
        ip = self._address.get(eio_sid)
        if ip is not None and eio_sid not in self._opened:
            self.opened(eio_sid, ip)

    def closed(self, eio_sid: str) -> None:
        self.admitted(eio_sid)  # no longer pending
        self._address.pop(eio_sid, None)

    def full(self, ip: str) -> bool:
        return self._count.get(ip, 0) >= self.per_ip

    def count(self, ip: str) -> int:
        return self._count.get(ip, 0)

    def overdue(self) -> list[str]:
        cutoff = time.monotonic() - self.timeout
        late = []
        for eio_sid, (_ip, when) in self._opened.items():
            if when > cutoff:
                break
            late.append(eio_sid)
        return late


class RefusalLog:
    """Audit refusals a client can repeat at will as a count per address per minute.

    The first refusal of an (action, address, reason) in a minute is written
    at once, so the attack shows as it starts; the rest of that minute becomes
    one line with ``count``, written by ``flush`` (housekeeping, every round)
    once the minute is over. Two lines per address and reason per minute,
    instead of one per request.
    """

    WINDOW = 60.0

    def __init__(self) -> None:
        self._windows: dict[tuple, list] = {}  # key -> [start, repeats, fields]

    def note(self, action: str, ip: str, reason: str, **fields) -> None:
        key = (action, ip, reason)
        now = time.monotonic()
        window = self._windows.get(key)
        if window is not None and now - window[0] < self.WINDOW:
            window[1] += 1
            return
        if window is not None:
            self._write(key, window)
        self._windows[key] = [now, 0, fields]
        audit(action, ip=ip, reason=reason, count=1, **fields)

    def flush(self, everything: bool = False) -> None:
        now = time.monotonic()
        for key, window in list(self._windows.items()):
            if everything or now - window[0] >= self.WINDOW:
                del self._windows[key]
                self._write(key, window)

    @staticmethod
    def _write(key: tuple, window: list) -> None:
        action, ip, reason = key
        if window[1]:
            audit(action, ip=ip, reason=reason, count=window[1], seconds=int(RefusalLog.WINDOW),
                  **window[2])


class EngineIOGuard:
    def __init__(self, app, max_packet_bytes: int, allowed_origins, path: str = "/socket.io/",
                 max_sessions: int | None = None, session_count=None,
                 pending: PendingSessions | None = None,
                 refusals: RefusalLog | None = None, refuse_session=None) -> None:
        self.app = app
        self.max_bytes = max_packet_bytes
        self.max_sessions = max_sessions
        self.session_count = session_count  # () -> Engine.IO sessions this process holds
        self.pending = pending
        self.refusals = refusals or RefusalLog()
        # (eio sid) -> None: closes that session (a packet a client may not send
        # ends its connection, PROTOCOL.md section 17, on polling as on websocket)
        self.refuse_session = refuse_session
        # A list, "*" (any), or None (python-engineio decides): as given to it.
        self.origins = set(allowed_origins) if isinstance(allowed_origins, list) else allowed_origins
        self.path = path

    def __call__(self, environ, start_response):
        if not environ.get("PATH_INFO", "").startswith(self.path):
            return self.app(environ, start_response)
        refusal = self._refusal(environ)
        if refusal is not None:
            return refusal(start_response)
        # Decline permessage-deflate (browsers offer it; eventlet and
        # simple-websocket accept it): measured in bench/, it added 65-110%
        # server CPU per delivery and raised ack p99, for small JSON frames.
        environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
        if environ.get("REQUEST_METHOD") == "POST":
            return self._check_post(environ, start_response)
        return self.app(environ, self._nosniff(start_response))

    def _refusal(self, environ):
        query = parse_qs(environ.get("QUERY_STRING", ""))
        if "j" in query:
            return lambda sr: _reply(environ, sr, "400 Bad Request",
                                     "JSONP polling is not supported.")
        origin = environ.get("HTTP_ORIGIN")
        if origin and isinstance(self.origins, set) and origin.rstrip("/") not in self.origins:
            audit("connect_refused", reason="origin", origin=origin[:200],
                  ip=client_ip(environ), transport=query.get("transport", ["?"])[0])
            return lambda sr: _reply(environ, sr, "400 Bad Request", "Not an accepted origin.",
                                     audited=True)
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket" and \
                environ.get("HTTP_SEC_WEBSOCKET_VERSION", "13") != "13":
            return lambda sr: _reply(environ, sr, "426 Upgrade Required",
                                     "WebSocket version 13 only.",
                                     [("Sec-WebSocket-Version", "13")])
        if "sid" not in query:  # a handshake: a new Engine.IO session
            ip = client_ip(environ)
            if self.pending is not None and self.pending.full(ip):
                self.refusals.note("request_refused", ip, "pending", status=503)
                return lambda sr: _reply(
                    environ, sr, "503 Service Unavailable",
                    "Too many connections from your address have not connected a namespace.",
                    [("Retry-After", str(max(1, round(self.pending.timeout))))], audited=True)
            if self.max_sessions is not None and self.session_count() >= self.max_sessions:
                self.refusals.note("request_refused", ip, "capacity", status=503)
                return lambda sr: _reply(environ, sr, "503 Service Unavailable",
                                         "The server is at its connection limit.",
                                         [("Retry-After", "5")], audited=True)
        return None

    @staticmethod
    def _nosniff(start_response):
        """nosniff, and no-store: polling bodies carry users' messages and
        python-engineio's answers bypass Flask's after_request headers."""
        def start(status, headers, exc_info=None):
            names = {name.lower() for name, _ in headers}
            if "x-content-type-options" not in names:
                headers = [*headers, ("X-Content-Type-Options", "nosniff")]
            if "cache-control" not in names:
                headers = [*headers, ("Cache-Control", "no-store")]
            return start_response(status, headers, exc_info)

        return start

    def _check_post(self, environ, start_response):
        raw_length = environ.get("CONTENT_LENGTH") or ""
        try:
            length = int(raw_length)
        except ValueError:
            return _reply(environ, start_response, "411 Length Required",
                          "Content-Length is required.")
        if length < 0:
            return _reply(environ, start_response, "400 Bad Request", "Bad Content-Length.")
        if length > self.max_bytes:
            return _reply(environ, start_response, "413 Payload Too Large",
                          f"At most {self.max_bytes} bytes per request.")
        try:
            body = environ["wsgi.input"].read(length) if length else b""
        except OSError:  # the socket timeout: the client stopped sending
            return _reply(environ, start_response, "408 Request Timeout",
                          "The body did not arrive.")
        if len(body) != length:
            return _reply(environ, start_response, "400 Bad Request", "The body ended early.")
        if not body or any(
            not packet or packet[0] not in _CLIENT_PACKET_TYPES for packet in body.split(b"\x1e")
        ):
            if self.refuse_session is not None:
                sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
                if sid:
                    self.refuse_session(sid)
            return _reply(environ, start_response, "400 Bad Request", "Not an Engine.IO payload.")
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, self._nosniff(start_response))
