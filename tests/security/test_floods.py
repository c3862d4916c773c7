"""Hardening items 1-3: floods of packets, the default namespace, anonymous lockout.

PROTOCOL.md section 17. Defences (realtime/compat.py, middleware/guard.py,
realtime/housekeeping.py):
- RATE_LIMIT_PACKETS: a budget per Engine.IO connection, every packet of
  either transport (pings included), spent before any handler; exceeding it
  closes the connection;
- the first packet a client may not send closes its connection: an Engine.IO
  ping (EIO4 clients never send one) or other type, an undecodable Socket.IO
  packet, a packet declaring binary attachments, a connect to a namespace
  Switchboard does not serve ("/" included: connect_error, then closed);
- CONNECT_TIMEOUT: a session without a namespace is closed;
- MAX_PENDING_PER_IP: sessions without a namespace per client address; more
  get 503 + Retry-After for that address only; refusals audited as a count
  per address per minute.

Floods run in child processes (tests/security/floods.py), from 127.0.0.1 only,
bounded in time, reconnecting when closed as an attacker would.
"""
from __future__ import annotations

import http.client
import json
import time

import pytest
import requests

from tests.security.floods import Flood, Prober, rss_mib
from tests.security.helpers import (
    PollingSession,
    RawEIO,
    audit_lines,
    make_user,
    wait_audit,
)
from tests.support.clients import Client

FLOOD_SECONDS = 10


def _server_env(**extra) -> dict:
    # Many short connections of one user below; the per-user cap has its own test.
    return {"MAX_CONNECTIONS_PER_USER": "10000", "LOG_FORMAT": "json", **extra}


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, module_servers):
    return module_servers(mode=request.param, env=_server_env(), name="floods")


def healthz_ok(url: str) -> float:
    started = time.monotonic()
    r = requests.get(url + "/healthz", timeout=1)
    assert r.status_code == 200, r.status_code
    return time.monotonic() - started


def closed_by_server(raw: RawEIO, timeout: float = 5) -> bool:
    """Whether the server closes this raw WebSocket within ``timeout`` (pings answered)."""
    return raw.recv_for(timeout)[1]


def polling_closed(session: PollingSession, timeout: float = 5) -> bool:
    """Whether the server ends this polling session (close packet, or the sid refused)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = session.get(timeout=max(0.5, deadline - time.monotonic()))
        if r.status_code == 400:
            return True
        if any(p == "1" for p in r.text.split("\x1e")):
            return True
    return False


# -- one websocket flooding packets -------------------------------------------

@pytest.mark.parametrize("kind", ["ping", "message"])
def test_one_anonymous_websocket_flood_does_not_stall_the_server(server, kind):
    """A 10 s flood of Engine.IO pings ("2") or undecodable Socket.IO packets
    ("4AAAA") on anonymous websockets without a namespace, reconnecting when
    closed, while /healthz is probed every 0.1 s: the slowest probe answers
    within 1 s, the flooder's connections are closed (the budget / the first
    bad packet), RSS stays put, and afterwards /healthz and a logged-in client
    work. Before (no budget, bad packets ignored) /healthz timed out for the
    whole flood on both servers (5 s probes; gevent took ~27 s to recover)."""
    pid = server.proc.pid
    user = make_user(server, "bystander")
    bystander = Client(server.url, "websocket", token=user.token()).connect()
    try:
        rss_before = rss_mib(pid)
        prober = Prober(server.url, every=0.1, timeout=5)
        prober.start()
        sent, connects = Flood(kind, server.url, FLOOD_SECONDS).start().wait()
        summary = prober.stop().summary()
        assert summary["probes"] >= 20, summary
        assert summary["failures"] == 0 and summary["max"] < 1.0, (
            f"[{server.async_mode}] /healthz during a {kind} flood: {summary}")
        assert connects > 1, (f"the server never closed the flooding connection "
                              f"({sent} frames on one connection)")
        assert rss_mib(pid) - rss_before < 50, f"RSS {rss_before:.0f} -> {rss_mib(pid):.0f} MiB"
        assert healthz_ok(server.url) < 1
        assert bystander.connected and bystander.call("rooms:list", timeout=5)["ok"]
    finally:
        bystander.disconnect(wait=False)


def test_packet_budget_closes_a_connection_over_either_transport(server):
    """RATE_LIMIT_PACKETS=50/second (the default), counted per packet before
    any handler: 40 pongs at once are fine, 60 close a websocket; over polling,
    four POSTs of 16 packets (64) end the session (the 4th is answered 400 and
    the sid is gone). Without a budget nothing is closed."""
    raw = RawEIO(server.url)
    try:
        for _ in range(40):
            raw.send("3")
        assert not closed_by_server(raw, 1.5), "40 packets are within the budget"
        time.sleep(1.1)  # the budget refills
        for _ in range(60):
            raw.send("3")
        assert closed_by_server(raw), "60 packets at once must close the connection"
    finally:
        raw.close()
    session = PollingSession(server.url, origin=server.url)
    statuses = [session.post("\x1e".join(["3"] * 16)).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200] and statuses[3] == 400, statuses
    assert session.get(timeout=3).status_code == 400, "the session must be gone"


BAD_WS_PACKETS = {
    "Engine.IO ping from a client": "2",
    "Engine.IO open": "0",
    "Engine.IO noop": "6",
    "unknown Engine.IO type": "9",
    "not a packet": "x",
    "base64 binary": "bAAAA",
    "undecodable Socket.IO packet": "4AAAA",
    "Socket.IO CONNECT_ERROR from a client": "44/chat,{}",
    "binary event (attachments declared)": '451-/chat,["x",{"_placeholder":true,"num":0}]',
    "binary ack (attachments declared)": '461-/chat,1[{"_placeholder":true,"num":0}]',
}


@pytest.mark.parametrize("name", list(BAD_WS_PACKETS))
def test_the_first_packet_a_client_may_not_send_closes_its_websocket(server, name):
    """Each on an authenticated /chat connection: the server closes it at once
    (before: ignored or a traceback logged, connection kept)."""
    user = make_user(server, "badpkt")
    raw = RawEIO(server.url)
    try:
        assert raw.sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
        raw.send(BAD_WS_PACKETS[name])
        assert closed_by_server(raw), f"{name}: the connection was kept"
    finally:
        raw.close()


def test_a_binary_frame_closes_the_websocket(server):
    raw = RawEIO(server.url)
    try:
        raw.ws.send_binary(b"\x00" * 100)
        assert closed_by_server(raw), "a binary frame (Switchboard sends none) was accepted"
    finally:
        raw.close()


@pytest.mark.parametrize("body", ["2", "4AAAA", '451-/chat,["x",{"_placeholder":true,"num":0}]',
                                  "bAAAA"])
def test_the_first_packet_a_client_may_not_send_ends_its_polling_session(server, body):
    """Over polling the POST is answered 400 and the session is gone."""
    user = make_user(server, "badpoll")
    session = PollingSession(server.url, origin=server.url)
    assert session.sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
    r = session.post(body)
    assert r.status_code in (200, 400), r.status_code
    assert polling_closed(session), f"{body!r}: the session was kept"


def test_handlers_per_connection_are_bounded_and_the_reader_waits():
    """compat._bound_handlers on a real python-socketio server (threading mode):
    ten events of a handler that blocks, sent by one connection's reader, run
    at most HANDLERS_PER_CONNECTION at once; the reader waits for a free lane
    (so the client's TCP window, not greenlets, holds the rest); all ten run
    once the handlers finish. Without the bound all ten run at once."""
    import threading

    import engineio.socket
    import socketio

    from realtime import compat

    server = socketio.Server(async_mode="threading", async_handlers=False, namespaces=["/x"])
    release = threading.Event()
    lock = threading.Lock()
    running = {"now": 0, "max": 0, "done": 0}

    class Slow(socketio.Namespace):
        def on_connect(self, sid, environ, auth=None):
            return True

        def on_slow(self, sid, data=None):
            with lock:
                running["now"] += 1
                running["max"] = max(running["max"], running["now"])
            release.wait(10)
            with lock:
                running["now"] -= 1
                running["done"] += 1

    server.register_namespace(Slow("/x"))
    compat.install(server, "1000/second", on_open=lambda *a: None, on_admit=lambda *a: None,
                   on_close=lambda *a: None, on_refuse=lambda *a: None)
    sock = engineio.socket.Socket(server.eio, "eio1")
    sock.connected = True
    server.eio.sockets["eio1"] = sock
    handlers = server.eio.handlers
    handlers["connect"]("eio1", {"REMOTE_ADDR": "127.0.0.1"})
    handlers["message"]("eio1", "0/x,")
    assert server.manager.sid_from_eio_sid("eio1", "/x") is not None
    sent = []

    def reader():
        for i in range(10):
            handlers["message"]("eio1", '2/x,["slow"]')
            sent.append(i)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while running["now"] < compat.HANDLERS_PER_CONNECTION and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # would be ample for more handlers to start, were they allowed
        assert running["now"] == compat.HANDLERS_PER_CONNECTION, running
        assert len(sent) == compat.HANDLERS_PER_CONNECTION, "the reader must wait for a lane"
    finally:
        release.set()
    thread.join(5)
    deadline = time.monotonic() + 5
    while running["done"] < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert running["done"] == 10 and running["max"] == compat.HANDLERS_PER_CONNECTION, running


# -- namespaces and binary attachments ----------------------------------------

@pytest.mark.parametrize("namespace", ["/", "/nonexistent", "/Chat", "/chat/../admin"])
@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_only_served_namespaces_accept_a_connect(server, namespace, transport):
    """A connect to "/" or any namespace Switchboard does not serve is refused
    (connect_error) and the connection closed. Before: "/" admitted anyone,
    and then buffered the attachments of binary packets without limit."""
    packet = "40" if namespace == "/" else f"40{namespace},"
    if transport == "websocket":
        raw = RawEIO(server.url)
        try:
            raw.send(packet)
            answer = raw.recv(5)
            assert answer is not None and answer.startswith("44"), answer
            refusal = json.loads(answer[answer.index("{"):])
            assert refusal["data"]["code"] == "not_found", refusal  # our shape, not the library's
            assert closed_by_server(raw), f"{namespace}: connection kept after connect_error"
        finally:
            raw.close()
    else:
        session = PollingSession(server.url, origin=server.url)
        assert session.post(packet).status_code in (200, 400)
        packets = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(p == "1" for p in packets):
            r = session.get(timeout=3)
            if r.status_code != 200:
                break
            packets += r.text.split("\x1e")
        refusals = [p for p in packets if p.startswith("44")]
        assert refusals, packets
        assert json.loads(refusals[0][refusals[0].index("{"):])["data"]["code"] == "not_found"
        assert polling_closed(session), f"{namespace}: session kept after connect_error"


def test_the_python_client_gets_connect_error_on_the_default_namespace(server):
    refused = Client(server.url, "websocket", namespace="/").connect_refused()
    assert refused is not None, "the default namespace admitted an anonymous client"


def test_binary_attachment_flood_does_not_grow_memory(server):
    """The attack as first reported, bounded (5 s): "/" then a header declaring
    9,999,999,999 attachments, then 60 KB binary frames, reconnecting: the
    server refuses "/" and closes (the flooder has to reconnect), so RSS grows
    by less than 30 MiB (before: one connection for the whole attack, +134 MiB
    on eventlet, +1.4 GiB on gevent in 21 s)."""
    pid = server.proc.pid
    before = rss_mib(pid)
    _sent, connects = Flood("binary", server.url, 5).start().wait()
    assert connects > 1, "the server kept the connection that declared the attachments"
    assert rss_mib(pid) - before < 30, f"RSS {before:.0f} -> {rss_mib(pid):.0f} MiB"
    assert healthz_ok(server.url) < 1


# -- sessions without a namespace ----------------------------------------------

def _handshake_from(port: int, source: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    conn.request("GET", "/socket.io/?EIO=4&transport=polling")
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def _polling_connect_from(port: int, source: str, token: str) -> str:
    """A polling session from ``source`` that connects /chat; the server's answer."""
    opened = _handshake_from(port, source)
    assert opened.status == 200, (opened.status, opened.body[:200])
    sid = json.loads(opened.body.decode()[1:])["sid"]
    path = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10, source_address=(source, 0))
    try:
        conn.request("POST", path, body=f"40/chat,{json.dumps({'token': token})}")
        assert conn.getresponse().read() == b"OK"
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def pending_server(module_servers):
    return module_servers(env=_server_env(MAX_PENDING_PER_IP="5", CONNECT_TIMEOUT="2",
                                          PING_INTERVAL="1", PING_TIMEOUT="5"),
                          name="floods-pending")


def test_sessions_without_a_namespace_are_closed_after_connect_timeout(pending_server):
    """CONNECT_TIMEOUT=2 (pings every 1 s, answered): a polling and a websocket
    session that never connect a namespace are closed within 2 + 2 s (the
    housekeeping round) + slack; one that connects /chat in time is kept.
    Before: held for as long as they answered pings."""
    srv = pending_server
    user = make_user(srv, "timely")
    started = time.monotonic()
    idle_poll = PollingSession(srv.url, origin=srv.url)
    idle_ws = RawEIO(srv.url)
    good = RawEIO(srv.url)
    try:
        assert good.sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
        assert closed_by_server(idle_ws, 8), "an idle websocket session was kept"
        assert polling_closed(idle_poll, 8), "an idle polling session was kept"
        assert time.monotonic() - started < 9
        assert not closed_by_server(good, 1.5), "a session with a namespace was closed"
        assert good.call("/chat", 1, "rooms:list", {})[0]["ok"]
    finally:
        idle_ws.close()
        good.close()


def test_a_session_that_leaves_its_last_namespace_is_pending_again(pending_server):
    """CONNECT_TIMEOUT=2: a session that connected /chat, then disconnected it
    (``41/chat,``) and goes on answering pings is closed like one that never
    connected, within 2 + 2 s (the housekeeping round) + slack. Before: held
    for as long as it answered pings, outside every per-address count."""
    srv = pending_server
    user = make_user(srv, "leaver")
    leaver = RawEIO(srv.url)
    try:
        assert leaver.sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
        leaver.send("41/chat,")
        assert closed_by_server(leaver, 9), "a session without a namespace any more was kept"
    finally:
        leaver.close()


def test_pending_sessions_are_capped_per_address_only(pending_server):
    """MAX_PENDING_PER_IP=5: the 6th session without a namespace from
    127.0.0.1 gets 503 with Retry-After; 127.0.0.2 still connects (handshake
    and /chat); a session of 127.0.0.1 that connects a namespace frees its
    slot. 20 refusals write at most two audit lines for that address (the
    first at once, then a count per minute). Before: one address filled the
    global cap and every address got 503, each refusal one audit line."""
    srv = pending_server
    user = make_user(srv, "pending")
    held = [PollingSession(srv.url, origin=srv.url) for _ in range(5)]
    refused = [_handshake_from(srv.port, "127.0.0.1") for _ in range(20)]
    assert {r.status for r in refused} == {503}, [r.status for r in refused]
    assert refused[0].getheader("Retry-After") == "2"
    answer = _polling_connect_from(srv.port, "127.0.0.2", user.token())
    assert "40/chat," in answer, f"another address was locked out: {answer[:200]}"
    assert held[0].sio_connect("/chat", {"token": user.token()}).startswith("40/chat,")
    assert _handshake_from(srv.port, "127.0.0.1").status == 200, "an admitted session freed no slot"
    assert wait_audit(srv, "request_refused", ip="127.0.0.1", reason="pending")
    lines = audit_lines(srv, "request_refused", ip="127.0.0.1", reason="pending")
    assert len(lines) <= 2, f"{len(lines)} audit lines for 20 refusals: {lines[:3]}"


def test_the_last_minutes_refusal_count_is_written_at_a_clean_stop(servers):
    """Refusals are audited once, then as a count per minute: a SIGTERM within
    the minute writes that count (before, the process exited without it)."""
    srv = servers(env=_server_env(MAX_PENDING_PER_IP="1"))
    held = _handshake_from(srv.port, "127.0.0.3")
    assert held.status == 200
    refused = [_handshake_from(srv.port, "127.0.0.3") for _ in range(5)]
    assert {r.status for r in refused} == {503}
    srv.stop()
    lines = audit_lines(srv, "request_refused", ip="127.0.0.3", reason="pending")
    assert sum(line.get("count", 1) for line in lines) == 5, lines
    assert len(lines) == 2, lines


def test_a_handshake_flood_from_one_address_does_not_lock_out_another(servers):
    """The lockout as first reported, bounded (4 s): 8 threads of polling
    handshakes from 127.0.0.1 with MAX_CONNECTIONS=100 (session cap 150);
    127.0.0.2 keeps connecting throughout. Before, it was refused (503)
    within 0.8 s at MAX_CONNECTIONS=1000."""
    import threading

    srv = servers(env=_server_env(MAX_CONNECTIONS="100"), name="floods-lockout")
    user = make_user(srv, "lockout")
    token = user.token()
    stop = threading.Event()
    statuses: list[int] = []

    def flood():
        while not stop.is_set():
            try:
                statuses.append(_handshake_from(srv.port, "127.0.0.1").status)
            except OSError:
                pass

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 4
        answers = []
        while time.monotonic() < deadline:
            answers.append(_polling_connect_from(srv.port, "127.0.0.2", token))
            time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(15)
    assert statuses.count(503) > 0, "the flood was not refused at all"
    assert all("40/chat," in a for a in answers), [a[:80] for a in answers if "40/chat," not in a]
