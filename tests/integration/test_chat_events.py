"""Handler logic through socketio.test_client: validation and error codes per event."""
from __future__ import annotations

import pytest

from extensions import socketio
from tests.integration.conftest import call

GENERAL = 1


def received(client, name):
    return [p["args"][0] if isinstance(p["args"], list) else p["args"]
            for p in client.get_received("/chat") if p["name"] == name]


def test_connect_without_credentials_is_refused(app):
    client = socketio.test_client(app, namespace="/chat")
    assert not client.is_connected("/chat")


def test_connect_with_a_bad_token_is_refused(app):
    client = socketio.test_client(app, namespace="/chat", auth={"token": "nonsense"})
    assert not client.is_connected("/chat")


BAD_PAYLOADS = [
    ("rooms:list", {"extra": 1}, "bad_request"),
    ("room:create", {}, "bad_request"),
    ("room:create", {"name": 5}, "bad_request"),
    ("room:create", {"name": "x", "kind": "dm"}, "bad_request"),
    ("room:create", {"name": "   "}, "bad_request"),
    ("room:join", {"room": "1"}, "bad_request"),
    ("room:join", {"room": True}, "bad_request"),
    ("room:join", {"room": 0}, "bad_request"),
    ("room:join", {"room": 424242}, "not_found"),
    ("room:leave", {}, "bad_request"),
    ("room:invite", {"room": GENERAL}, "bad_request"),
    ("dm:open", {"username": "nobody-here"}, "not_found"),
    ("dm:open", {"username": ["a"]}, "bad_request"),
    ("message:send", {"room": GENERAL, "text": "hi"}, "bad_request"),
    ("message:send", {"room": GENERAL, "text": 5, "client_id": "c"}, "bad_request"),
    ("message:send", {"room": GENERAL, "text": "hi", "client_id": ""}, "bad_request"),
    ("message:send", {"room": GENERAL, "text": "hi", "client_id": "x" * 65}, "bad_request"),
    ("message:send", {"room": GENERAL, "text": "hi", "client_id": "c"}, "forbidden"),
    ("message:send", {"room": 999, "text": "hi", "client_id": "c"}, "not_found"),
    ("message:edit", {"id": 1}, "bad_request"),
    ("message:edit", {"id": 999, "text": "x"}, "not_found"),
    ("message:delete", {"id": "1"}, "bad_request"),
    ("history", {"room": GENERAL, "limit": 0}, "bad_request"),
    ("history", {"room": GENERAL, "limit": 101}, "bad_request"),
    ("history", {"room": GENERAL, "limit": 1.5}, "bad_request"),
    ("sync", {"rooms": {"general": 0}}, "bad_request"),
    ("sync", {"rooms": {"1": -1}}, "bad_request"),
    ("sync", {"rooms": [1]}, "bad_request"),
    ("read", {"room": GENERAL}, "bad_request"),
    ("read", {"room": GENERAL, "seq": 0}, "forbidden"),
    ("no:such:event", {}, "bad_request"),
]


@pytest.mark.parametrize("event,payload,code", BAD_PAYLOADS)
def test_bad_payloads_get_the_right_error_code(make_client, event, payload, code):
    client = make_client("alice")
    reply = call(client, event, payload)
    assert reply["ok"] is False
    assert reply["error"]["code"] == code, reply
    assert reply["error"]["message"]
    # The connection is still usable.
    assert call(client, "rooms:list")["ok"] is True


@pytest.mark.parametrize("payload", [None, [], "text", 5, True, [1, 2]])
def test_non_object_payloads_are_bad_requests(make_client, payload):
    client = make_client("alice")
    reply = client.emit("room:join", payload, namespace="/chat", callback=True)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"


def test_failure_without_ack_becomes_an_error_event(make_client):
    client = make_client("alice")
    client.get_received("/chat")
    client.emit("room:join", {"room": "nope"}, namespace="/chat")
    errors = received(client, "error")
    assert errors and errors[0]["code"] == "bad_request" and errors[0]["event"] == "room:join"


def test_send_and_broadcast(make_client):
    alice, bob = make_client("alice"), make_client("bob")
    assert call(alice, "room:join", {"room": GENERAL})["ok"]
    joined = call(bob, "room:join", {"room": GENERAL})
    assert [u["username"] for u in joined["online"]] == ["alice", "bob"]
    alice.get_received("/chat")
    ack = call(alice, "message:send", {"room": GENERAL, "text": "hello", "client_id": "c1"})
    assert ack["ok"] and ack["message"]["seq"] == 1 and ack["message"]["text"] == "hello"
    got = received(bob, "message")
    assert [m["id"] for m in got] == [ack["message"]["id"]]


def test_too_long_text_is_too_large_and_nothing_is_stored(make_client):
    alice = make_client("alice")
    call(alice, "room:join", {"room": GENERAL})
    reply = call(alice, "message:send", {"room": GENERAL, "text": "x" * 4001, "client_id": "c"})
    assert reply["error"]["code"] == "too_large"
    assert call(alice, "history", {"room": GENERAL})["messages"] == []


def test_message_rate_limit_per_user(app):
    from blueprints.auth.service import create_user, issue_token
    from tests.support.app import make_app

    limited = make_app(RATE_LIMIT_MESSAGES="3/minute")
    with limited.app_context():
        token, _ = issue_token(create_user("alice", "password-123"))
    tabs = [socketio.test_client(limited, namespace="/chat", auth={"token": token}) for _ in range(2)]
    call(tabs[0], "room:join", {"room": GENERAL})
    replies = [call(tabs[i % 2], "message:send", {"room": GENERAL, "text": "x", "client_id": f"c{i}"})
               for i in range(5)]
    assert [r["ok"] for r in replies] == [True, True, True, False, False]
    assert replies[3]["error"]["code"] == "rate_limited" and replies[3]["error"]["retry_after"] >= 1
    assert len(call(tabs[0], "history", {"room": GENERAL})["messages"]) == 3


def test_edit_delete_and_events(make_client):
    alice, bob = make_client("alice"), make_client("bob")
    for c in (alice, bob):
        call(c, "room:join", {"room": GENERAL})
    msg = call(alice, "message:send", {"room": GENERAL, "text": "v1", "client_id": "c1"})["message"]
    assert call(bob, "message:edit", {"id": msg["id"], "text": "hijack"})["error"]["code"] == "forbidden"
    edited = call(alice, "message:edit", {"id": msg["id"], "text": "v2"})["message"]
    assert edited["text"] == "v2" and edited["rev"] == 2 and edited["edited_ts"]
    assert call(bob, "message:delete", {"id": msg["id"]})["error"]["code"] == "forbidden"
    assert call(alice, "message:delete", {"id": msg["id"]}) == {"ok": True}
    bob_events = [p["name"] for p in bob.get_received("/chat")]
    assert "message:edited" in bob_events and "message:deleted" in bob_events


def test_admin_may_delete_anyones_message(make_client):
    admin, bob = make_client("admin"), make_client("bob")
    call(bob, "room:join", {"room": GENERAL})
    msg = call(bob, "message:send", {"room": GENERAL, "text": "spam", "client_id": "c1"})["message"]
    assert call(admin, "message:delete", {"id": msg["id"]}) == {"ok": True}


def test_private_room_is_invisible_and_forbidden_to_non_members(make_client):
    alice, bob, carol = make_client("alice"), make_client("bob"), make_client("carol")
    room = call(alice, "room:create", {"name": "secret", "kind": "private", "members": ["bob"]})["room"]
    assert [m["username"] for m in room["members"]] == ["alice", "bob"]
    assert "secret" not in [r["name"] for r in call(carol, "rooms:list")["rooms"]]
    rid = room["id"]
    for event, payload in [
        ("room:join", {"room": rid}),
        ("message:send", {"room": rid, "text": "x", "client_id": "c"}),
        ("history", {"room": rid}),
        ("sync", {"rooms": {str(rid): 0}}),
        ("read", {"room": rid, "seq": 0}),
        ("room:invite", {"room": rid, "username": "carol"}),
    ]:
        assert call(carol, event, payload)["error"]["code"] == "forbidden", event
    assert call(bob, "message:send", {"room": rid, "text": "hi", "client_id": "b1"})["ok"]
