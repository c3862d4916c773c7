"""The operator console and /metrics against the real server."""
from __future__ import annotations

import time

import pytest
import requests
import socketio
from prometheus_client.parser import text_string_to_metric_families

from tests.support.clients import Client, login, register, token

GENERAL = 1


def admin_client(srv, username):
    sio = socketio.Client(reconnection=False)
    pushed = []
    sio.on("stats", lambda data: pushed.append(data), namespace="/admin")
    sio.connect(srv.url, namespaces=["/admin"], transports=["websocket"],
                auth={"token": token(srv.url, username)}, wait_timeout=10)
    return sio, pushed


def metric(url: str, name: str, **labels) -> float:
    for family in text_string_to_metric_families(requests.get(url + "/metrics", timeout=5).text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


@pytest.fixture(scope="module")
def root(server):
    """The module's server is fresh: the first account registered is the admin."""
    register(server.url, "root")
    return "root"


def test_console_end_to_end(server, root, username):
    users = [username("chatter") for _ in range(3)]
    for u in users:
        register(server.url, u)

    refused = socketio.Client(reconnection=False)
    errors = []
    refused.on("connect_error", lambda data: errors.append(data), namespace="/admin")
    try:
        refused.connect(server.url, namespaces=["/admin"], transports=["websocket"],
                        auth={"token": token(server.url, users[0])}, wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        pass
    assert errors and errors[0]["data"]["code"] == "forbidden"
    assert register(server.url, username("page")).get(server.url + "/admin").status_code == 403

    ws = Client(server.url, "websocket", token=token(server.url, users[0])).connect()
    poll = Client(server.url, "polling", token=token(server.url, users[1])).connect()
    poll2 = Client(server.url, "polling", token=token(server.url, users[1])).connect()
    other = Client(server.url, "websocket", token=token(server.url, users[2])).connect()
    admin, pushed = admin_client(server, root)
    try:
        stats = admin.call("stats", {}, namespace="/admin", timeout=10)
        assert stats["ok"]
        by_transport = stats["connections"]["by_transport"]
        assert by_transport["websocket"] >= 3 and by_transport["polling"] >= 2
        assert stats["connections"]["by_namespace"]["/chat"] >= 4
        assert stats["users_online"] >= 3

        # Pushed every 2 s without asking.
        deadline_pushes = time.monotonic() + 10
        while not pushed and time.monotonic() < deadline_pushes:
            admin.sleep(0.1)
        assert pushed and pushed[-1]["connections"]["total"] >= 5

        before = metric(server.url, "switchboard_messages_stored_total")
        events_before = metric(server.url, "switchboard_events_total", event="message:send")
        ws.call("room:join", {"room": GENERAL})
        assert ws.call("message:send", {"room": GENERAL, "text": "counted", "client_id": "m1"})["ok"]
        assert metric(server.url, "switchboard_messages_stored_total") == before + 1
        assert metric(server.url, "switchboard_events_total", event="message:send") == events_before + 1
        assert metric(server.url, "process_resident_memory_bytes") > 0

        kicked = admin.call("kick", {"username": users[1]}, namespace="/admin", timeout=10)
        assert kicked == {"ok": True, "disconnected": 2, "blocked_seconds": 60}
        assert poll.wait_disconnected(10) and poll2.wait_disconnected(10)
        assert ws.connected and other.connected

        reply = admin.call("announce", {"text": "restart at five"}, namespace="/admin", timeout=10)
        assert reply["ok"]
        for c in (ws, other):
            got = c.wait_for("system", lambda p: p["text"] == "restart at five")
            assert got["room"] is None
    finally:
        admin.disconnect()
        for c in (ws, poll, poll2, other):
            if c.connected:
                c.disconnect()


def test_socketio_admin_ui_is_off_by_default(server, root):
    """SOCKETIO_ADMIN_UI unset: no namespace to connect to and no UI page, even for an admin."""
    http = login(server.url, root).http
    ui = Client(server.url, "websocket", token=token(server.url, root), namespace="/socketio-admin")
    refused = ui.connect_refused()
    assert refused is not None  # python-socketio: the namespace does not exist
    assert http.get(server.url + "/admin/socketio/", timeout=10).status_code in (403, 404)
