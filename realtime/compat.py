"""The one place that touches library internals (python-engineio, python-socketio, gevent).

Each hook below names the internal it relies on and the version it was written
against; tests/unit/test_compat.py checks every one of them (signature or
attribute) and fails by name after an upgrade, before anything else breaks.
Pinned: python-engineio 4.15.1, python-socketio 5.18.1, Flask-SocketIO 5.7.0,
eventlet 0.41.3, gevent 26.9.0, simple-websocket 1.1.0 (requirements.txt).

Why hooks at all (PROTOCOL.md section 17). Measured against those versions,
defaults, one anonymous WebSocket and no namespace:
- python-engineio counts nothing per connection, and its WebSocket loop reads
  frames without yielding while data is waiting: ``ws.send("2")`` in a loop
  (a ping, which an EIO4 client never sends; the loop ignores it) kept
  /healthz from answering for the whole flood on eventlet and gevent (on
  gevent simple-websocket buffered the frames unread: RSS ~495 MB, 20 s to
  drain); ``"4AAAA"`` (an undecodable Socket.IO packet) did the same, each
  one logging a traceback;
- python-socketio admits any client to the default namespace ``/`` and
  buffers a packet's declared binary attachments without limit (9,999,999,999
  declared: RSS 100 -> 400 MiB in 21 s);
- with ``async_handlers`` every event starts a greenlet of its own.
No public option bounds any of these. What is installed here:
- a packet budget per Engine.IO connection (RATE_LIMIT_PACKETS, every packet
  of either transport, pings included), spent before any handler; exceeding
  it closes the connection;
- the first packet a client may not send closes the connection: an Engine.IO
  type other than close/pong/message/upgrade, an undecodable frame, a
  binary frame or attachment (Switchboard sends none), an undecodable or
  unexpected Socket.IO packet, a connect to a namespace we do not serve
  (answered connect_error first; python-socketio's ``namespaces=`` option
  does the refusing);
- at most HANDLERS_PER_CONNECTION event handlers at once per connection; the
  next event waits for a free one, which stops reading that connection (TCP
  pushes back on the client), never the others;
- under gevent, WebSockets are simple-websocket's, whose reader greenlet
  reads and buffers every frame, without yielding while data keeps coming
  and without a bound: it waits now while MAX_BUFFERED_FRAMES are unread, so
  the budget above (which python-engineio's loop applies) gets to run, and a
  connection whose handlers are busy stops being read, as under eventlet;
- the life of sessions without a namespace: opened / admitted / closed, for
  middleware.guard.PendingSessions (CONNECT_TIMEOUT, MAX_PENDING_PER_IP).

The other hooks (end of file), each for the module named, where no public
API does the job:
- around_each_event: whether an event asked for an ack (realtime/namespace.py);
- close_session_now: close a session without waiting (realtime/closing.py);
- open_session_count, session_drained: Engine.IO sessions and their queues
  (app.py's session cap, blueprints/market/feed.py's quote pacing);
- hold_broadcasts_until_admitted: the manager's recipients (realtime/admission.py);
- admin_ui_instrumentation, take_plain_handler,
  list_class_namespaces_for_admin_ui: the Admin UI (blueprints/admin/socketio_ui.py);
- gevent_skip_unread_body: gevent's request body (serving.py).
Where a public way exists it is used instead: ``client_manager=None`` (app.py),
limits' ``Storage``/``MovingWindowSupport`` (realtime/ratelimit.py),
``flask_limiter.util.get_remote_address`` (extensions.py).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import engineio.socket
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from limits import parse_many

PINNED = {
    "python-engineio": "4.15.1",
    "python-socketio": "5.18.1",
    "Flask-SocketIO": "5.7.0",
    "eventlet": "0.41.3",
    "gevent": "26.9.0",
    "simple-websocket": "1.1.0",
}

# Engine.IO v4 packet types a client may send once connected: close, pong,
# message, upgrade (middleware/guard.py lets the same through in polling POSTs).
CLIENT_PACKET_TYPES = frozenset({eio_packet.CLOSE, eio_packet.PONG, eio_packet.MESSAGE,
                                 eio_packet.UPGRADE})
_CLIENT_TYPE_CHARS = frozenset("1345")
# Socket.IO packets that declare binary attachments: BINARY_EVENT, BINARY_ACK.
_BINARY_SIO_TYPES = frozenset("56")
_SIO_CONNECT = "0"
_SIO_DISCONNECT = "1"

# Handlers in flight per connection. A page has a few calls out at a time (its
# connect burst, chat/main.js: rooms:list, then one sync); more greenlets per
# connection would only queue on the same database pool, and without a bound
# 50 events/s of a slow handler grew the greenlets of one connection without end.
HANDLERS_PER_CONNECTION = 4

# How long a refused polling session stays open to deliver its connect_error
# (a waiting long-poll takes it at once).
LINGER_SECONDS = 1.0

_ATTR = "_switchboard_limits"  # on the engineio.Server: its TransportLimits
_REFUSED = "_switchboard_refused"  # on an engineio Socket: why we closed it
_BUDGET = "_switchboard_budget"
_LANES = "_switchboard_lanes"


class PacketBudget:
    """Token buckets, one per rate of RATE_LIMIT_PACKETS ("50/second" or "a;b").

    Not ``limits``' storage: this is per connection, spent for every frame on
    the hot path, and must die with the socket (no key to sweep). ``limits``
    parses the setting, so it means what every other rate setting means.
    Each bucket holds ``amount`` tokens and refills at amount/period per
    second: a burst of ``amount`` is allowed, a steady rate above it is not.
    """

    __slots__ = ("_buckets", "_stamp")

    def __init__(self, rates: list[tuple[int, float]]) -> None:
        self._buckets = [[float(amount), amount / period, float(amount)]
                         for amount, period in rates]  # [capacity, refill/s, tokens]
        self._stamp = time.monotonic()

    @staticmethod
    def rates(spec: str) -> list[tuple[int, float]]:
        return [(item.amount, float(item.get_expiry())) for item in parse_many(spec)]

    def spend(self) -> bool:
        now = time.monotonic()
        elapsed, self._stamp = now - self._stamp, now
        ok = True
        for bucket in self._buckets:
            bucket[2] = min(bucket[0], bucket[2] + elapsed * bucket[1])
            if bucket[2] < 1.0:
                ok = False
        if ok:
            for bucket in self._buckets:
                bucket[2] -= 1.0
        return ok


class TransportLimits:
    """This server's limits, and what to call when a session opens, is admitted or closes."""

    def __init__(self, sio_server, packet_rate: str, *, on_open: Callable[[str, dict], None],
                 on_admit: Callable[[str], None], on_close: Callable[[str], None],
                 on_refuse: Callable[[str, dict, str], None]) -> None:
        self.server = sio_server
        self.rates = PacketBudget.rates(packet_rate)
        self.on_open, self.on_admit, self.on_close = on_open, on_admit, on_close
        self.on_refuse = on_refuse

    def budget(self, sock) -> PacketBudget:
        budget = getattr(sock, _BUDGET, None)
        if budget is None:
            budget = PacketBudget(self.rates)
            setattr(sock, _BUDGET, budget)
        return budget

    def refuse(self, sock, reason: str, linger: bool = False) -> None:
        """Close this Engine.IO session (a close packet is sent first), once.

        From then on nothing more is read from it. ``linger``: over polling,
        close only after LINGER_SECONDS, so that the packet just queued (a
        connect_error) reaches the client: python-engineio 4.15.1 refuses any
        GET of a closed session (``_get_socket``), queued packets and all.
        Over a WebSocket the writer sends what is queued before it closes.
        """
        if getattr(sock, _REFUSED, None):
            return
        setattr(sock, _REFUSED, reason)
        self.on_refuse(sock.sid, self.server.environ.get(sock.sid) or {}, reason)
        if linger and not sock.upgraded:
            self.server.start_background_task(self._close_later, sock)
        else:
            self._close(sock)

    def _close_later(self, sock) -> None:
        self.server.sleep(LINGER_SECONDS)
        self._close(sock)

    @staticmethod
    def _close(sock) -> None:
        if not sock.closed and not sock.closing:
            sock.close(wait=False, abort=False, reason=sock.server.reason.SERVER_DISCONNECT)

    def refuse_sid(self, eio_sid: str, reason: str, linger: bool = False) -> None:
        sock = self.server.eio.sockets.get(eio_sid)
        if sock is not None:
            self.refuse(sock, reason, linger)

    def accepts(self, namespace: str) -> bool:
        """python-socketio 5.18.1 ``Server._handle_connect``'s own test."""
        s = self.server
        return (namespace in s.handlers or namespace in s.namespace_handlers
                or s.namespaces == "*" or namespace in s.namespaces)


# -- Engine.IO: class-level hooks, active only on servers that carry _ATTR -------

_installed = threading.Lock()
_class_hooks_done = False


def _install_class_hooks() -> None:
    """Wrap ``engineio.socket.Socket.receive`` and ``._websocket_handler`` (4.15.1).

    Class-level because python-engineio builds its Socket objects itself
    (``engineio.server.Server._handle_connect``); a server without our
    TransportLimits (a test client, another app) is left as it was. The Admin
    UI's instrumentation wraps the same two methods; either order chains.
    """
    global _class_hooks_done
    with _installed:
        if _class_hooks_done:
            return
        _class_hooks_done = True
    original_receive = engineio.socket.Socket.receive
    original_ws_handler = engineio.socket.Socket._websocket_handler

    def receive(self, pkt):
        # python-engineio 4.15.1: Socket.receive(pkt) is called for every
        # decoded packet of a polling POST (handle_post_request) and of the
        # WebSocket loop (_websocket_handler), before any handler runs. It
        # raises UnknownPacketError for a type it does not handle, which the
        # WebSocket loop ignores; SocketIsClosedError ends that loop, and any
        # EngineIOError makes handle_request answer the POST 400 and drop the
        # session.
        limits = getattr(self.server, _ATTR, None)
        if limits is None:
            return original_receive(self, pkt)
        if getattr(self, _REFUSED, None):
            if self.upgraded:
                raise eio_exceptions.SocketIsClosedError()
            return None  # the rest of a polling POST after a refusal: dropped
        if not limits.budget(self).spend():
            limits.refuse(self, "packet_rate")
            raise eio_exceptions.SocketIsClosedError()
        if pkt.packet_type not in CLIENT_PACKET_TYPES:
            limits.refuse(self, "bad_packet")
            raise eio_exceptions.SocketIsClosedError()
        original_receive(self, pkt)
        if getattr(self, _REFUSED, None) and self.upgraded:
            # A handler below refused it (see install's on_eio_message): end the
            # WebSocket loop. A polling POST is answered as usual instead, so
            # that the closed session hands its last packets (a connect_error,
            # the close) to the next GET before python-engineio drops it.
            raise eio_exceptions.SocketIsClosedError()

    def websocket_handler(self, ws):
        # python-engineio 4.15.1: Socket._websocket_handler(ws) reads frames
        # with ws.wait() and decodes each (packet.Packet(encoded_packet=...))
        # outside its error handling: an undecodable frame escapes to the WSGI
        # server and leaves the session to the ping timeout. A frame wait()
        # refuses ends the loop as if the client had closed (wait() -> None).
        limits = getattr(self.server, _ATTR, None)
        if limits is None:
            return original_ws_handler(self, ws)
        return original_ws_handler(self, _CheckedWebSocket(ws, self, limits))

    engineio.socket.Socket.receive = receive
    engineio.socket.Socket._websocket_handler = websocket_handler
    _install_simple_websocket_hook()


# Frames simple-websocket may hold unread per connection (<= 1 MiB at the
# 65,536-byte MAX_PACKET_BYTES); one read of 4 KiB can add ~580 tiny ones.
MAX_BUFFERED_FRAMES = 16


def _install_simple_websocket_hook() -> None:
    """Wrap ``simple_websocket.ws.Base._handle_events`` (simple-websocket 1.1.0).

    Its reader (``Base._thread``) loops ``sock.recv(4096)`` -> wsproto ->
    ``_handle_events``, which appends each message to ``input_buffer`` for
    ``receive()``. Measured under gevent: a flood of "2" frames kept that loop
    running (a green recv does not yield while data is waiting), /healthz
    timed out and RSS reached ~495 MB (2 GB with 60 KB binary frames).
    After each batch we yield once, and wait while the buffer is full.
    ``time.sleep`` is gevent's once patched (the only server that uses
    simple-websocket here); it applies to every simple-websocket server in
    the process, which is only ever ours.
    """
    from simple_websocket.ws import Base

    original = Base._handle_events

    def _handle_events(self):
        keep_going = original(self)
        if self.input_buffer:
            time.sleep(0)  # let the reader of input_buffer (and everyone else) run
            while keep_going and self.connected and len(self.input_buffer) >= MAX_BUFFERED_FRAMES:
                time.sleep(0.005)
            # _thread assigns our result to self.connected: a close() made while
            # we waited must stay made.
            keep_going = keep_going and self.connected
        return keep_going

    Base._handle_events = _handle_events


class _CheckedWebSocket:
    """The ws python-engineio reads from, refusing frames it could not decode.

    After the upgrade only text frames of a type a client may send pass; during
    an upgrade from polling (``2probe`` then ``5``), any decodable text frame
    (python-engineio checks those two itself).
    """

    def __init__(self, ws, sock, limits: TransportLimits) -> None:
        self._ws, self._sock, self._limits = ws, sock, limits

    def wait(self):
        data = self._ws.wait()
        if data is None or getattr(self._sock, _REFUSED, None):
            return None
        reason: str | None
        if not isinstance(data, str) or not data:
            reason = "binary_frame" if data else "bad_packet"
        elif self._sock.upgrading:
            reason = None if data[0] in "0123456" else "bad_packet"
        else:
            reason = None if data[0] in _CLIENT_TYPE_CHARS else "bad_packet"
        if reason is None:
            return data
        self._limits.refuse(self._sock, reason)
        return None

    def __getattr__(self, name):  # send, close, _sock, socket, ...
        return getattr(self._ws, name)


# -- python-socketio: per-server hooks ---------------------------------------------

def install(sio_server, packet_rate: str, *, on_open, on_admit, on_close, on_refuse,
            on_idle=None,
            handlers_per_connection: int = HANDLERS_PER_CONNECTION) -> TransportLimits:
    """Install the limits on this python-socketio server (after the Admin UI, if any).

    ``on_open(eio_sid, environ)``, ``on_admit(eio_sid)`` (its first namespace
    connect succeeded), ``on_idle(eio_sid)`` (the client disconnected its
    last namespace, the session stays open) and ``on_close(eio_sid)`` follow
    each Engine.IO session;
    ``on_refuse(eio_sid, environ, reason)`` is told why one was closed.
    """
    _install_class_hooks()
    limits = TransportLimits(sio_server, packet_rate, on_open=on_open, on_admit=on_admit,
                             on_close=on_close, on_refuse=on_refuse)
    eio = sio_server.eio
    setattr(eio, _ATTR, limits)

    # python-socketio 5.18.1 registers _handle_eio_connect/_message/_disconnect
    # as the engineio server's 'connect'/'message'/'disconnect' handlers
    # (BaseServer.__init__); the Admin UI replaces connect and disconnect with
    # its own, which call on. We chain whatever is registered now.
    prev_connect = eio.handlers["connect"]
    prev_message = eio.handlers["message"]
    prev_disconnect = eio.handlers["disconnect"]

    def on_eio_connect(eio_sid, environ):
        result = prev_connect(eio_sid, environ)
        if result is None or result is True:
            on_open(eio_sid, environ)
        return result

    def on_eio_message(eio_sid, data):
        if not isinstance(data, str):  # a binary attachment (or a stray binary frame)
            limits.refuse_sid(eio_sid, "binary_attachment")
            return
        kind = data[:1]
        if kind in _BINARY_SIO_TYPES:
            limits.refuse_sid(eio_sid, "binary_attachment")
            return
        namespace = None
        if kind == _SIO_CONNECT:
            try:
                namespace = sio_server.packet_class(encoded_packet=data).namespace or "/"
            except Exception:
                limits.refuse_sid(eio_sid, "bad_packet")
                return
        if namespace is not None and not limits.accepts(namespace):
            # Our refusal shape ({code, message}, as every refused connect),
            # not python-socketio's bare "Unable to connect"; then close.
            refuse_namespace(sio_server, eio_sid, namespace)
            limits.refuse_sid(eio_sid, "namespace", linger=True)  # after its connect_error
            return
        try:
            prev_message(eio_sid, data)
        except Exception:
            # python-socketio 5.18.1 raises (ValueError, TypeError, ...) for a
            # packet it cannot decode or does not expect (CONNECT_ERROR, an
            # unknown type); python-engineio would log a traceback per packet
            # and go on reading.
            limits.refuse_sid(eio_sid, "bad_packet")
            return
        if kind == _SIO_DISCONNECT and on_idle is not None and not any(
                sio_server.manager.sid_from_eio_sid(eio_sid, ns) is not None
                for ns in list(sio_server.manager.get_namespaces())):
            on_idle(eio_sid)
        if namespace is not None and \
                sio_server.manager.sid_from_eio_sid(eio_sid, namespace) is not None:
            on_admit(eio_sid)

    def on_eio_disconnect(eio_sid, reason):
        try:
            return prev_disconnect(eio_sid, reason)
        finally:
            on_close(eio_sid)

    eio.on("connect", on_eio_connect)
    eio.on("message", on_eio_message)
    eio.on("disconnect", on_eio_disconnect)
    _bound_handlers(sio_server, handlers_per_connection)
    return limits


def refuse_namespace(sio_server, eio_sid: str, namespace: str) -> None:
    """Send CONNECT_ERROR for ``namespace`` in the shape our refusals have.

    python-socketio 5.18.1: ``Server._send_packet(eio_sid, pkt)`` is the one
    way to send a packet to a session with no namespace connected (``emit``
    needs a connected sid). The payload is what ``ConnectionRefusedError(msg,
    data)`` produces: socket.io-client shows ``err.message`` and ``err.data``.
    """
    from socketio import packet as sio_packet

    message = f"There is no namespace {namespace[:100]!r} here."
    sio_server._send_packet(eio_sid, sio_server.packet_class(
        sio_packet.CONNECT_ERROR, namespace=namespace,
        data={"message": message, "data": {"code": "not_found", "message": message}}))


def _bound_handlers(sio_server, lanes_per_connection: int) -> None:
    """At most ``lanes_per_connection`` event handlers at once per Engine.IO session.

    python-socketio 5.18.1: ``Server._handle_event(eio_sid, namespace, id,
    data)`` is called (as ``self._handle_event``) from ``_handle_eio_message``
    for each EVENT, in the connection's reader; with ``async_handlers=False``
    (set in app.py, a public option) it runs the handler inline. We run it
    in a greenlet of its own, as async_handlers would, but only once one of
    the connection's lanes is free: until then the reader waits, so a flood
    of events queues in that client's TCP window, not in greenlets.
    """
    if sio_server.async_handlers:
        raise RuntimeError("realtime.compat bounds handlers itself: create the server "
                           "with async_handlers=False")
    original = sio_server._handle_event

    def handle_event(eio_sid, namespace, id, data):
        sock = sio_server.eio.sockets.get(eio_sid)
        if sock is None:  # Flask-SocketIO's test client: no transport, nothing to bound
            return original(eio_sid, namespace, id, data)
        if sock.closed:
            return None
        lanes = getattr(sock, _LANES, None)
        if lanes is None:
            lanes = threading.BoundedSemaphore(lanes_per_connection)  # green once patched
            setattr(sock, _LANES, lanes)
        lanes.acquire()

        def run():
            try:
                original(eio_sid, namespace, id, data)
            finally:
                lanes.release()

        sio_server.start_background_task(run)

    sio_server._handle_event = handle_event


# -- Other internals, one hook each, for the modules that need them ----------------
# Each names the internal and the version it was written against; each has a
# canary in tests/unit/test_compat.py. The modules that call these say why.

def around_each_event(sio_server, around: Callable) -> None:
    """Run ``around(call, data, ack_id)`` for every client event; ``call(data)``
    dispatches it (to the namespace's handler) and returns its ack.

    python-socketio 5.18.1: ``Server._handle_event_internal(server, sid,
    eio_sid, data, namespace, id)`` is the one place that sees an event's
    packet id (whether the client asked for an ack) before dispatch; no
    handler is told. Wrapped on this server instance only.
    """
    original = sio_server._handle_event_internal

    def handle(srv, sid, eio_sid, data, namespace, id):
        return around(lambda d: original(srv, sid, eio_sid, d, namespace, id), data, id)

    sio_server._handle_event_internal = handle


def close_session_now(eio, eio_sid: str) -> None:
    """Close an Engine.IO session without waiting for the client, and forget it.

    python-engineio 4.15.1: the public ``Server.disconnect`` closes with
    ``wait=True`` (a long-poll client that never fetches the close packet
    blocks the caller for good); ``_get_socket(sid)`` (KeyError when gone) and
    ``Socket.close(wait=False, reason=...)`` do not wait, and the session is
    dropped from ``eio.sockets`` as ``disconnect`` would.
    """
    try:
        sock = eio._get_socket(eio_sid)
    except KeyError:  # already gone
        return
    sock.close(wait=False, reason=eio.reason.SERVER_DISCONNECT)
    eio.sockets.pop(eio_sid, None)


def open_session_count(sio_server) -> int:
    """Engine.IO sessions this process holds, in O(1).

    python-engineio 4.15.1 keeps them in ``Server.sockets`` (sid -> Socket);
    closed ones stay until its sweep drops them (within PING_TIMEOUT).
    """
    return len(sio_server.eio.sockets)


def session_drained(sio_server, eio_sid: str) -> bool:
    """Whether an Engine.IO session has taken everything queued for it.

    python-engineio 4.15.1: ``Server.sockets[sid].queue`` holds the packets not
    yet handed to the transport (a polling GET takes them; the WebSocket
    writer takes them to write); ``closed``/``closing`` say it is ending. A
    sid without a session (Flask-SocketIO's test client) counts as drained.
    """
    sock = sio_server.eio.sockets.get(eio_sid)
    if sock is None:
        return True
    if sock.closed or sock.closing:
        return False
    return sock.queue.qsize() == 0


def hold_broadcasts_until_admitted(sio_server) -> None:
    """Leave sockets pending their connect out of every broadcast (realtime/admission.py says why).

    python-socketio 5.18.1 ``BaseManager``: ``pre_connect(eio_sid, namespace)``
    puts a socket in its namespace's rooms and lists its sid in
    ``pending_connect[namespace]`` until ``connect`` (admitted) or
    ``disconnect`` (refused); ``get_participants(namespace, room)`` is where
    every emit (local, from the queue, the Admin UI's reporting) asks who
    receives a frame. Both are replaced on this server's manager instance.
    """
    manager = sio_server.manager
    original_participants = manager.get_participants
    original_pre_connect = manager.pre_connect
    # (namespace, eio sid) inside pre_connect: the socket is in the namespace's
    # rooms before it is listed as pending, and the Admin UI's development
    # reporting broadcasts each of those room entries at that very moment.
    entering: set[tuple[str, str]] = set()

    def pre_connect(eio_sid, namespace):
        entering.add((namespace, eio_sid))
        try:
            return original_pre_connect(eio_sid, namespace)
        finally:
            entering.discard((namespace, eio_sid))

    def get_participants(namespace, room):
        pending = manager.pending_connect.get(namespace)
        if not pending and not entering:  # the common case costs a dict lookup
            yield from original_participants(namespace, room)
            return
        pending = set(pending or ())
        if isinstance(room, str):
            addressed = {room}
        elif room is not None and hasattr(room, "__len__"):
            addressed = set(room)
        else:
            addressed = set()
        for sid, eio_sid in original_participants(namespace, room):
            if (sid in pending or (namespace, eio_sid) in entering) and sid not in addressed:
                continue
            yield sid, eio_sid

    manager.pre_connect = pre_connect
    manager.get_participants = get_participants


# python-socketio 5.18.1 socketio.admin.InstrumentedServer: imported lazily by
# the Admin UI only (blueprints/admin/socketio_ui.py).
def admin_ui_instrumentation():
    """A subclass of the library's Admin UI instrumentation with one hook,
    ``report_socket(data) -> data``, applied to each socket's report.

    ``InstrumentedServer.serialize_socket(sid, namespace, eio_sid=None)``
    builds the report of one socket (its handshake: headers, query...) for
    every frame that describes it; it is not a documented extension point.
    """
    from socketio.admin import InstrumentedServer

    class ReportingInstrumentedServer(InstrumentedServer):
        def serialize_socket(self, sid, namespace, eio_sid=None):
            return self.report_socket(super().serialize_socket(sid, namespace, eio_sid))

        def report_socket(self, data: dict) -> dict:
            return data

    return ReportingInstrumentedServer


def take_plain_handler(sio_server, namespace: str, event: str):
    """Remove and return the plain (decorator-style) handler of ``event`` in ``namespace``.

    python-socketio 5.18.1: ``Server.handlers[namespace][event]``; a plain
    handler runs instead of a namespace class's, so the instrumentation's
    ``connect`` must leave there to run behind our admission.
    """
    return sio_server.handlers[namespace].pop(event)


def list_class_namespaces_for_admin_ui(sio_server) -> None:
    """Make the Admin UI's server_stats see namespaces served by classes.

    python-socketio 5.18.1 ``InstrumentedServer._emit_server_stats`` lists
    ``sio.handlers.keys()`` (plain handlers only). An empty entry per
    ``namespace_handlers`` key lists them and changes no dispatch (an event
    with no plain handler goes on to the namespace class).
    """
    for namespace in sio_server.namespace_handlers:
        sio_server.handlers.setdefault(namespace, {})


def gevent_skip_unread_body(handler) -> None:
    """Make gevent close a connection without reading the rest of its request body.

    gevent 26.9.0 ``pywsgi.WSGIHandler``: after the application, its
    ``wsgi_input`` (``pywsgi.Input``) discards whatever of the body is unread
    while ``position < content_length``; for a refused oversize POST that body
    may never come. ``close_connection`` (documented) ends the keep-alive.
    """
    handler.close_connection = True
    if handler.wsgi_input is not None:
        handler.wsgi_input.position = handler.wsgi_input.content_length or 0
