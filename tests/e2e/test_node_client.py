"""End-to-end: socket.io-client (the library the browser pages use) under Node.

The Node script ``node/chat_client.mjs`` logs in with a token from
``/api/token``, joins ``general``, sends a message that a python-socketio
client receives and waits for the message the python client sends back. It
prints its results as JSON and exits non-zero on failure, with a hard timeout.
Runs under eventlet and gevent (module ``server`` fixture) and for each
transport, plus the browsers' default: polling first, then the upgrade.
"""
from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from tests.support.clients import Client
from tests.support.node_client import finish_node, node_binary, start_node, stop


@pytest.fixture(scope="module")
def node() -> str:
    return node_binary()


def wait_for_while_running(client: Client, proc: subprocess.Popen, event: str, predicate,
                           timeout: float = 15):
    """``client.wait_for`` that gives up at once (with node's output) if node exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.wait_for(event, predicate, timeout=0.25)
        except TimeoutError:
            if proc.poll() is not None:
                out, err = proc.communicate()
                pytest.fail(f"node exited ({proc.returncode}) before sending\n"
                            f"stdout: {out}\nstderr: {err}")
            if time.monotonic() > deadline:
                raise


def exchange(server, node, make_user, py: Client, py_user, node_transports):
    """Node and python swap one message each in general; returns (node result, python ack)."""
    node_user = make_user("node")
    general = next(r["id"] for r in py.call("rooms:list")["rooms"] if r["name"] == "general")
    assert py.call("room:join", {"room": general})["ok"] is True

    node_text, node_cid = f"from node {uuid.uuid4().hex[:8]}", f"node-{uuid.uuid4().hex}"
    py_text = f"from python {uuid.uuid4().hex[:8]}"
    proc = start_node(node, {
        "url": server.url, "token": node_user.token(), "transports": node_transports,
        "room": "general", "text": node_text, "client_id": node_cid,
        "expect_text": py_text, "expect_author": py_user.name,
        "expect_upgrade": node_transports == ["polling", "websocket"],
    })
    try:
        # Node joins before it sends: once its message is here, it is in the room.
        from_node = wait_for_while_running(py, proc, "message",
                                           lambda m: m.get("client_id") == node_cid)
        ack = py.call("message:send", {"room": general, "text": py_text,
                                       "client_id": uuid.uuid4().hex})
        assert ack["ok"] is True, ack
        result = finish_node(proc)
    finally:
        stop(proc)

    assert result["room"] == general
    assert result["joined"]["ok"] is True and result["joined"]["room"]["name"] == "general"
    online = {u["username"] for u in result["joined"]["online"]}
    assert {py_user.name, node_user.name} <= online, result["joined"]
    sent = result["sent"]
    assert sent["ok"] is True and sent["message"]["text"] == node_text, sent
    assert sent["message"]["author"]["username"] == node_user.name, sent
    assert sent["message"]["client_id"] == node_cid
    # What python received is what node was acked with; and the other way round.
    assert from_node == sent["message"]
    assert result["received"] == ack["message"]
    assert result["own_echo"] == sent["message"], "the room (node included) gets node's message"
    assert result["errors"] == []
    return result, ack


def test_node_client_and_python_client_chat(server, node, make_user, connect, transport):
    py_user = make_user("py")
    result, _ = exchange(server, node, make_user, connect(py_user), py_user, [transport])
    assert result["transport"] == transport


def test_node_client_default_transports_upgrade_to_websocket(server, node, make_user):
    """What browsers do: long-polling first, then the upgrade to WebSocket."""
    py_user = make_user("py")
    py = Client(server.url, "websocket", token=py_user.token()).connect()
    try:
        result, _ = exchange(server, node, make_user, py, py_user, ["polling", "websocket"])
    finally:
        py.disconnect(wait=False)
    assert result["transport"] == "websocket", "the connection should have upgraded"


def test_node_client_sees_unauthorized_in_err_data(server, node, make_user, transport):
    user = make_user("nodebad")
    token = user.token()
    body, sig = token.rsplit(".", 1)
    middle = len(sig) // 2
    tampered = f"{body}.{sig[:middle]}{'A' if sig[middle] != 'A' else 'B'}{sig[middle + 1:]}"
    proc = start_node(node, {"url": server.url, "token": tampered, "transports": [transport],
                             "mode": "refused"})
    try:
        result = finish_node(proc)
    finally:
        stop(proc)
    error = result["connect_error"]
    assert error["connected"] is False
    # socket.io-client exposes the refusal's data as err.data: {code, message}.
    assert isinstance(error["data"], dict), error
    assert error["data"].get("code") == "unauthorized", error
    assert isinstance(error["data"].get("message"), str) and error["data"]["message"], error
