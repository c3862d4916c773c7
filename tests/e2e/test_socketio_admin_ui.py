"""The optional Socket.IO Admin UI (SOCKETIO_ADMIN_UI) against the real server."""
from __future__ import annotations

import re

import pytest
import requests

from tests.support.clients import Client, login, logout, register
from tests.support.server import ServerProcess

NAMESPACE = "/socketio-admin"


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request):
    """A server with the UI on, read-only and in production reporting (the defaults)."""
    with ServerProcess(async_mode=request.param, env={"SOCKETIO_ADMIN_UI": "read-only"},
                       name="socketio-admin-ui") as srv:
        yield srv


@pytest.fixture(scope="module")
def names(server):
    """The module's server is fresh: the first account registered is the admin."""
    admin, member = "uiroot", "uimember"
    register(server.url, admin)
    register(server.url, member)
    return admin, member


@pytest.fixture
def admin(server, names):
    """A fresh logged-in session of the admin (one test logs the admin out)."""
    return login(server.url, names[0]).http


@pytest.fixture
def member(server, names):
    return login(server.url, names[1]).http


def ui_client(server, http, transport="websocket") -> Client:
    return Client(server.url, transport, http=http, namespace=NAMESPACE)


def test_only_admins_are_admitted(server, member, clients):
    refused = ui_client(server, member)
    clients.append(refused)
    assert refused.connect_refused()["data"]["code"] == "forbidden"
    anonymous = ui_client(server, requests.Session())
    clients.append(anonymous)
    assert anonymous.connect_refused()["data"]["code"] == "unauthorized"


def chat_and_ui(server, admin, member, clients, chat_transport) -> tuple[Client, Client]:
    """A member's /chat client and the admin's UI client, both connected."""
    chat = Client(server.url, chat_transport, http=member)
    ui = ui_client(server, admin)
    for client in (chat, ui):
        clients.append(client)
        client.connect()
    return chat, ui


def test_admin_gets_the_read_only_feed_with_live_figures(server, admin, member, clients):
    _, ui = chat_and_ui(server, admin, member, clients, "polling")
    config = ui.wait_for("config", timeout=10)
    # read-only + production: figures only, no emit/join/leave/disconnect actions
    assert config["supportedFeatures"] == ["AGGREGATED_EVENTS"]
    stats = ui.wait_for("server_stats", timeout=10)
    assert stats["clientsCount"] >= 2  # the chat client and the UI itself
    assert stats["pollingClientsCount"] >= 1
    namespaces = {n["name"]: n["socketsCount"] for n in stats["namespaces"]}
    assert namespaces.get("/chat", 0) >= 1 and namespaces.get(NAMESPACE, 0) >= 1
    kinds = {e["type"] for s in ui.received("server_stats") for e in s["aggregatedEvents"]}
    assert "packetsIn" in kinds or "rawConnection" in kinds


def test_read_only_ui_cannot_emit_to_chat_users(server, admin, member, clients):
    chat, ui = chat_and_ui(server, admin, member, clients, "websocket")
    ui.wait_for("config", timeout=10)
    # What the UI's "emit" action sends when the feature is on.
    ui.emit("emit", ["/chat", None, "system", {"text": "from the admin UI"}])
    error = ui.wait_for("error", timeout=10)
    assert error["code"] == "bad_request"
    chat.assert_no_event("system", within=1.5)


def test_logging_out_closes_the_ui_connection(server, admin, clients):
    ui = ui_client(server, admin)
    clients.append(ui)
    ui.connect()
    ui.wait_for("config", timeout=10)
    logout(server.url, admin)
    assert ui.wait_disconnected(timeout=10)


def test_ui_files_are_served_to_admins_only(server, admin, member):
    page = admin.get(server.url + "/admin/socketio/", timeout=10)
    assert page.status_code == 200
    assert "<title>Socket.IO Admin UI</title>" in page.text
    assert "https://" not in page.text  # fonts and icons are vendored, no CDN
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "style-src 'self' 'unsafe-inline'" in csp
    script = re.search(r'<script src="(js/app\.[0-9a-f]+\.js)"', page.text).group(1)
    assert admin.get(server.url + "/admin/socketio/" + script, timeout=10).status_code == 200
    icons = admin.get(server.url + "/admin/socketio/mdi/css/materialdesignicons.min.css", timeout=10)
    assert icons.status_code == 200

    assert member.get(server.url + "/admin/socketio/", timeout=10).status_code == 403
    anonymous = requests.get(server.url + "/admin/socketio/", allow_redirects=False, timeout=10)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    console = admin.get(server.url + "/admin", timeout=10)
    assert 'id="socketio-ui-link"' in console.text and NAMESPACE in console.text
