"""End-to-end: how the server process treats connections as they end.

1. The WebSocket close handshake. RFC 6455 section 5.5.1: once an endpoint has both sent and received a Close
frame it MUST close the TCP connection, and section 7.1.1: the server should
close it first. A server that keeps the socket open after the close
handshake holds a connection slot (greenlet and file descriptor) for as long
as the client lets it, and clients that wait for the server to close (as
websocket-client does, up to 3 s) hang on every disconnect.

2. SIGTERM (what systemd and `kill` send) stops the process promptly even
with clients connected, so that shared state hears at once that this
process's connections are gone and a restart does not wait for SIGKILL.
"""
from __future__ import annotations

import signal
import subprocess
import time

import pytest
import websocket

from tests.support.clients import Client, disconnect_all, make_user
from tests.support.server import ServerProcess

CLOSE = 0x8


def _engineio_websocket(server) -> websocket.WebSocket:
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10, origin=server.url)
    opening = ws.recv()
    assert opening.startswith("0{") and '"sid"' in opening, opening
    return ws


def _next_close_frame(ws: websocket.WebSocket):
    for _ in range(20):  # bounded: a ping or a noop may come first
        frame = ws.recv_frame()
        if frame.opcode == CLOSE:
            return frame
    raise AssertionError("no close frame from the server")


@pytest.mark.parametrize("who_closes", ["client", "server"])
def test_server_closes_tcp_after_websocket_close_handshake(server, who_closes):
    ws = _engineio_websocket(server)
    try:
        if who_closes == "client":
            ws.send_close()  # close frame, status 1000
            _next_close_frame(ws)  # the server's answer completes the handshake
        else:
            ws.send("1")  # engine.io CLOSE packet: the server closes the WebSocket
            _next_close_frame(ws)
            ws.send_close()  # our answer completes the handshake
        raw = ws.sock
        raw.settimeout(5)
        try:
            rest = raw.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            rest = b""
        except TimeoutError:
            pytest.fail(f"[{server.async_mode}] the close handshake is complete but the server "
                        "still holds the TCP connection open 5 s later (RFC 6455 5.5.1: it "
                        "MUST close it)")
        assert rest == b"", f"data after the close handshake: {rest!r}"
    finally:
        ws.shutdown()


def _stops_cleanly(srv: ServerProcess, sig: signal.Signals, while_: str) -> None:
    """Send ``sig``; the server must exit with status 0 within 10 s."""
    srv.proc.send_signal(sig)
    try:
        code = srv.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"[{srv.async_mode}] still running 10 s after {sig.name} {while_}\n"
                    f"{srv.log()[-1500:]}")
    assert code == 0, f"exit status {code}\n{srv.log()[-1500:]}"


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_sigterm_stops_the_server_with_clients_connected(async_mode):
    srv = ServerProcess(async_mode=async_mode, name="sigterm").start()
    clients: list[Client] = []
    try:
        user = make_user(srv, "term")
        for transport in ("polling", "websocket"):
            client = Client(srv.url, transport, http=user.http).connect()
            assert client.call("rooms:list")["ok"] is True
            clients.append(client)
        _stops_cleanly(srv, signal.SIGTERM, "with a long-polling and a websocket client connected")
        for client in clients:
            assert client.wait_disconnected(10), f"{client.transport} client still connected"
    finally:
        disconnect_all(clients)
        if srv.proc.poll() is None:
            srv.kill()  # by its PID: SIGTERM did not work
        srv.stop()


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_an_idle_server_stops_at_once(async_mode, sig):
    """No connection, no page with a timer behind it: eventlet's hub may sleep
    60 s in epoll_wait, and a greenlet spawned by a plain signal handler
    waited that long (Ctrl-C on a fresh `make run` took up to a minute)."""
    srv = ServerProcess(async_mode=async_mode, name="idle-stop").start()
    try:
        time.sleep(1)  # the hub settles into its long wait
        _stops_cleanly(srv, sig, "while idle")
        assert "stopping: closing 0 connections" in srv.log()
    finally:
        if srv.proc.poll() is None:
            srv.kill()
        srv.stop()


def test_permessage_deflate_is_declined(server):
    """Browsers offer compression; the server declines it (docs/performance.md: CPU per delivery)."""
    url = server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, timeout=10, origin=server.url, header=[
        "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
    try:
        assert ws.getstatus() == 101
        accepted = {k.lower(): v for k, v in (ws.getheaders() or {}).items()}
        assert "sec-websocket-extensions" not in accepted, accepted
        assert ws.recv().startswith("0{")
    finally:
        ws.close()
