"""Serve the app on eventlet or gevent with a listening socket we build ourselves.

Why not ``socketio.run()``:
- eventlet's WSGI server defaults to ``debug=True`` and then writes Python
  tracebacks to clients; ``socketio.run()`` does not turn it off.
- Neither server sets TCP_NODELAY, so small acks wait ~40 ms for Nagle's
  algorithm. Set on the listening socket, Linux passes it to every accepted one.
- eventlet's greenlet pool defaults to 1,024 and silently caps connections;
  we size it from MAX_CONNECTIONS, with a listen backlog for reconnect storms.
- eventlet.listen() turns on SO_REUSEPORT by default, which would let a second
  process bind the same port unnoticed; we refuse that.
- Neither server bounds the time a request head may take: their socket
  timeout is per read, so a client sending one header byte every few seconds
  holds a connection and a greenlet forever (slowloris). Both get a total
  deadline for the head, and for the TLS handshake (HEADER_TIMEOUT, see
  header_timeout()).
"""
from __future__ import annotations

import gc
import logging
import os
import signal
import socket
from contextlib import closing
from typing import Any

from config import Settings
from middleware.guard import CLOSE_CONNECTION
from realtime import compat

log = logging.getLogger("switchboard.server")

BACKLOG = 2048


def _tune(sock) -> None:
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


# Generation-0 threshold for the cyclic garbage collector (CPython's default is
# 700). Every young collection promotes whatever is alive at that instant (the
# frames, greenlets and packets of messages in flight) towards the oldest
# generation, and the oldest generation is collected in full, with the whole
# event loop stopped, once promotions reach a quarter of its size. With 1,000
# connections that was ~320k objects: a 170-200 ms stop every ~7 s at 1,000
# messages/s, which alone made ack p99 177 ms (bench/, small rooms). Collecting
# the young generation 30x less often promotes 30x less, so the full
# collections all but stop (ack p99 12 ms); cycles still get collected.
GC_THRESHOLDS = (20_000, 20, 10)


def tune_gc() -> None:
    """Call once the app is built, before serving.

    ``gc.freeze()`` moves everything created so far (modules, the app, its
    caches) out of the collector's sight for good, so no collection ever walks
    it again; CPython's docs recommend it for long-lived servers.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def socket_timeout(settings: Settings) -> int:
    """Drop a client silent for longer than a ping round plus slack.

    A connected client answers every ping, so only stalled requests (a POST
    body that never arrives, a half-open socket) ever reach this.
    """
    return settings.PING_INTERVAL + settings.PING_TIMEOUT + 10


def header_timeout(settings: Settings) -> int | None:
    """Seconds a request head (request line and headers) may take, in total.

    The clock starts at the request's first byte, not at accept: a keep-alive
    connection waiting for its next request is idle, which only the socket
    timeout bounds (a browser keeps one open between polls). Once a byte of a
    request line has come, the whole head must follow within this time, or
    the connection gets a 408 and is closed. The body and the application
    (a held long-poll, a WebSocket) are not covered: the deadline ends when
    the last header line is in. With TLS the handshake gets the same time,
    from accept (gevent ran it with no timeout at all).

    Measured before (both servers, defaults): a client sending one header
    byte every 0.5 s still held its connection after 60 s, since every byte
    restarts the per-read socket timeout (55 s). With the deadline: cut at
    HEADER_TIMEOUT (10 s). None turns the deadline off.
    """
    return settings.HEADER_TIMEOUT


# Sent to a client whose request head missed the deadline (RFC 9110 15.5.9:
# a 408 says the server closes the connection rather than keep waiting).
REQUEST_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 16\r\n\r\n"
    b"Request Timeout\n"
)


def _audit_slow_head(peer, seconds, what: str = "request head") -> None:
    from audit import audit

    ip = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    audit("request_head_timeout", ip=ip,
          reason=f"{what} not complete within HEADER_TIMEOUT={seconds}s")


def graceful_stop(app, socketio) -> None:
    """Close this process's sockets, tell the shared state, and exit.

    Waiting for the WSGI server to drain would take up to PING_INTERVAL
    (eventlet waits for every held long-poll). Closing the sockets answers
    those long-polls at once; clients reconnect (to another process, or to
    this one once restarted) and catch up with sync. Everything acknowledged
    is already committed, so nothing is lost by not draining.
    """
    try:
        state = app.extensions["switchboard.state"]
        conns = list(state.local_connections())
        log.info("stopping: closing %d connections", len(conns))
        for conn in conns:
            try:
                socketio.server.disconnect(conn.sid, namespace=conn.namespace)
            except Exception:  # already gone
                pass
        if conns:
            socketio.sleep(0.5)  # let the close packets reach the clients
        refusals = app.extensions.get("switchboard.refusals")
        if refusals is not None:
            refusals.flush(everything=True)  # this minute's refusal counts, not lost at exit
        state.shutdown()
    except Exception:
        # A stop that cannot tidy up (Redis gone, say) must still stop: the
        # other processes reap this one's share after PRESENCE_EXPIRY. Before,
        # the exception ended this greenlet and the process ran on until a
        # supervisor's SIGKILL.
        log.exception("stopping: clean-up failed; exiting anyway")
    finally:
        logging.shutdown()
        os._exit(0)


def install_stop_signals(app, settings: Settings) -> None:
    """SIGTERM and SIGINT run graceful_stop in a greenlet of its own.

    Raising SystemExit from the handler would land in whichever greenlet
    happens to run (a database query in a disconnect handler, say).
    """
    from extensions import socketio

    if settings.ASYNC_MODE == "gevent":
        import gevent

        def gevent_stop(*_):
            socketio.start_background_task(graceful_stop, app, socketio)

        for sig in (signal.SIGTERM, signal.SIGINT):
            gevent.signal_handler(sig, gevent_stop)  # a libev watcher: wakes the loop itself
        return

    # eventlet: Python runs a signal handler when epoll_wait is interrupted,
    # then waits again with what is left of its timeout, up to 60 s on an
    # idle server, so a greenlet spawned by the handler would wait that long
    # (Ctrl-C on an idle `make run` took up to a minute). The handler writes
    # to a pipe the hub watches instead, which ends the wait at once.
    from eventlet.hubs import trampoline
    from eventlet.patcher import original

    real_write = original("os").write  # the green one would wait in the hub: not in a handler
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def wait_for_signal():
        trampoline(read_fd, read=True)
        graceful_stop(app, socketio)

    def stop(*_):
        try:
            real_write(write_fd, b"x")
        except BlockingIOError:  # a stop is already on its way
            pass

    socketio.start_background_task(wait_for_signal)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)


def serve(app, settings: Settings) -> None:
    host, port = settings.HOST, settings.PORT
    url = f"{settings.scheme}://{host}:{port}"
    if settings.ASYNC_MODE == "eventlet":
        import eventlet
        import eventlet.wsgi

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = eventlet.listen((host, port), family=family, backlog=BACKLOG, reuse_port=False)
        _tune(sock)
        if settings.TLS_CERT:
            sock = eventlet.wrap_ssl(sock, certfile=settings.TLS_CERT, keyfile=settings.TLS_KEY,
                                     server_side=True)
        head_timeout = header_timeout(settings)

        class Protocol(eventlet.wsgi.HttpProtocol):
            """Lets the guard close a connection without draining its body, and
            bounds the time a request head may take in total.

            eventlet ignores an application's ``Connection: close`` and reads
            the rest of an unread body to keep the connection: for a refused
            oversize POST that body may never come.

            The head deadline (see header_timeout): eventlet reads the request
            line and then the headers (``parse_request``, the standard
            library's) inside ``handle_one_request``, each read bounded only by
            the socket timeout. We wait for the first byte ourselves (idle
            keep-alive: socket timeout only), then run eventlet's
            ``handle_one_request`` under an ``eventlet.Timeout`` that
            ``parse_request`` cancels once the last header line is in, so the
            body and the application are never under it. With TLS, the
            handshake comes first, under the same deadline (_tls_handshake).
            """

            _head_deadline = None
            _handshaken = False

            def get_environ(self):
                environ = super().get_environ()
                environ[CLOSE_CONNECTION] = lambda: setattr(self, "close_connection", 1)
                return environ

            def _tls_handshake(self) -> bool:
                """eventlet accepts TLS connections with the handshake deferred to
                the first read, where only the per-read socket timeout bounds it
                (a ClientHello sent a byte at a time held the connection for as
                long as the client liked). Do it here, under HEADER_TIMEOUT
                from accept; False when it failed or ran out of time."""
                self._handshaken = True
                with eventlet.Timeout(head_timeout, False):
                    try:
                        self.connection.do_handshake()
                        return True
                    except OSError:  # not TLS, a reset, a bad certificate
                        return False
                _audit_slow_head(self.client_address, head_timeout, "TLS handshake")
                return False

            def handle_one_request(self):
                if not self._handshaken and hasattr(self.connection, "do_handshake"):
                    if not self._tls_handshake():
                        self.close_connection = 1
                        return
                if not self.rfile.closed:
                    try:
                        # Buffered, so eventlet's readline reads these bytes again.
                        first = self.rfile.peek(1)
                    except OSError:  # socket timeout on an idle connection, reset, TLS error
                        first = b""
                    if not first:
                        self.close_connection = 1
                        return
                deadline = self._head_deadline = eventlet.Timeout(head_timeout)
                try:
                    super().handle_one_request()
                except eventlet.Timeout as exc:
                    if exc is not deadline:
                        raise
                    self.close_connection = 1
                    _audit_slow_head(self.client_address, head_timeout)
                    with eventlet.Timeout(1, False):  # a client that reads nothing gets no wait
                        try:
                            self.wfile.write(REQUEST_TIMEOUT_RESPONSE)
                            self.wfile.flush()
                        except OSError:
                            pass
                finally:
                    deadline.cancel()

            def parse_request(self):
                try:
                    return super().parse_request()
                finally:  # the head is in: the body and the application are not timed
                    if self._head_deadline is not None:
                        self._head_deadline.cancel()

        log.info("Switchboard serving on %s (eventlet)", url)
        eventlet.wsgi.server(
            sock, app, debug=False, log_output=False, protocol=Protocol,
            max_size=settings.MAX_CONNECTIONS + 100,
            socket_timeout=socket_timeout(settings),
        )
    elif settings.ASYNC_MODE == "gevent":
        import gevent
        from gevent import socket as gsocket
        from gevent.pool import Pool
        from gevent.pywsgi import WSGIHandler, WSGIServer

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = gsocket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
        _tune(sock)
        ssl_args = (
            {"certfile": settings.TLS_CERT, "keyfile": settings.TLS_KEY}
            if settings.TLS_CERT else {}
        )
        timeout = socket_timeout(settings)
        head_timeout = header_timeout(settings)

        class Handler(WSGIHandler):
            """Close the TCP connection once a WebSocket ends (RFC 6455 5.5.1).

            Otherwise gevent treats it as HTTP keep-alive and reads the
            client's close frame as a new request, holding the slot. Also
            lets the guard close a connection without draining its body
            (gevent reads the rest of an unread body, which may never come).

            And bounds the time a request head may take in total (see
            header_timeout), with gevent's documented hooks: the request line
            (``read_requestline``) waits for its first byte under the socket
            timeout only (idle keep-alive), then starts a ``gevent.Timeout``
            that ``read_request`` (the headers) cancels once the head is in.
            """

            _head_deadline: Any = None  # a gevent.Timeout while a request head is read

            def read_requestline(self):
                if not self.rfile.peek(1):  # buffered: the readline below sees it again
                    return ""  # the client closed
                self._head_deadline = gevent.Timeout.start_new(head_timeout)
                return super().read_requestline()

            def read_request(self, raw_requestline):
                try:
                    return super().read_request(raw_requestline)
                finally:  # the head is in: the body and the application are not timed
                    self._head_deadline.cancel()

            def handle_one_request(self):
                self._head_deadline = None
                try:
                    return super().handle_one_request()
                except gevent.Timeout as exc:
                    if exc is not self._head_deadline:
                        raise
                    _audit_slow_head(self.client_address, head_timeout)
                    with gevent.Timeout(1, False):  # a client that reads nothing gets no wait
                        try:
                            self.socket.sendall(REQUEST_TIMEOUT_RESPONSE)
                        except OSError:
                            pass
                    return None  # gevent closes the connection
                finally:
                    if self._head_deadline is not None:
                        self._head_deadline.close()

            def get_environ(self):
                environ = super().get_environ()
                environ[CLOSE_CONNECTION] = self._close_without_draining
                return environ

            def _close_without_draining(self):
                compat.gevent_skip_unread_body(self)  # gevent's Input internals

            def run_application(self):
                try:
                    super().run_application()
                finally:
                    if self.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
                        self.close_connection = True

        class TimeoutWSGIServer(WSGIServer):
            """gevent's server has no socket timeout setting: set it per connection.

            With TLS, gevent makes the handshake in ``wrap_socket_and_handle``,
            before ``handle`` and so with no timeout at all: a connection that
            sent half a ClientHello (or nothing) held its greenlet for as long
            as the client liked. The handshake gets the socket timeout per
            read and HEADER_TIMEOUT in total, from accept.
            """

            handler_class = Handler

            def handle(self, sock, address):
                sock.settimeout(timeout)
                return super().handle(sock, address)

            def wrap_socket_and_handle(self, client_socket, address):
                client_socket.settimeout(timeout)
                # Wrapping detaches the descriptor from client_socket: handshake
                # separately, so that there is an SSL socket to close on timeout.
                ssl_socket = self.wrap_socket(client_socket, do_handshake_on_connect=False,
                                              **self.ssl_args)
                with closing(ssl_socket):
                    deadline = gevent.Timeout.start_new(head_timeout)
                    try:
                        ssl_socket.do_handshake()
                    except gevent.Timeout as exc:
                        if exc is not deadline:
                            raise
                        _audit_slow_head(address, head_timeout, "TLS handshake")
                        return None
                    except OSError:  # not TLS, a reset, a bad certificate: nothing to serve
                        return None
                    finally:
                        deadline.close()
                    return self.handle(ssl_socket, address)

        log.info("Switchboard serving on %s (gevent)", url)
        TimeoutWSGIServer(sock, app, spawn=Pool(settings.MAX_CONNECTIONS + 100), log=None,
                          error_log=logging.getLogger("switchboard.gevent"),
                          **ssl_args).serve_forever()
    else:  # threading: development and tests only
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False)
