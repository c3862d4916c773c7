"""The /admin namespace through socketio.test_client."""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from blueprints.admin.schemas import MAX_ANNOUNCEMENT, Announce
from blueprints.auth import service as auth
from extensions import socketio
from tests.integration.conftest import call

GENERAL = 1


def connect(app, username, namespace):
    with app.app_context():
        user = auth.find_user(username) or auth.create_user(username, "password-123")
        token, _ = auth.issue_token(user)
    return socketio.test_client(app, namespace=namespace, auth={"token": token})


def test_non_admins_are_refused_and_the_page_is_403(app):
    connect(app, "root", "/chat")  # the first account is the admin
    assert not connect(app, "mallory", "/admin").is_connected("/admin")
    assert connect(app, "root", "/admin").is_connected("/admin")
    client = app.test_client()
    assert client.get("/admin").status_code == 302  # not logged in: to the login page


def test_stats_kick_and_announce(app):
    admin = connect(app, "root", "/admin")
    bob_chat = connect(app, "bob", "/chat")
    bob_chat2 = connect(app, "bob", "/chat")
    carol = connect(app, "carol", "/chat")
    call(bob_chat, "room:join", {"room": GENERAL})
    call(carol, "room:join", {"room": GENERAL})
    stats = call(admin, "stats", namespace="/admin")
    assert stats["ok"]
    assert stats["connections"]["total"] == 4
    assert stats["connections"]["by_namespace"] == {"/admin": 1, "/chat": 3}
    assert stats["users_online"] == 2
    assert stats["rooms"][0] == {"id": GENERAL, "name": "general", "online": 2}
    table = call(admin, "connections", namespace="/admin")["connections"]
    assert {row["user"]["username"] for row in table} == {"root", "bob", "carol"}
    assert "general" in next(r for r in table if r["user"]["username"] == "bob")["rooms"]

    reply = call(admin, "kick", {"username": "BOB"}, namespace="/admin")
    assert reply == {"ok": True, "disconnected": 2, "blocked_seconds": 60}
    assert not bob_chat.is_connected("/chat") and not bob_chat2.is_connected("/chat")
    assert carol.is_connected("/chat")
    assert call(admin, "kick", {"username": "nobody"}, namespace="/admin")["error"]["code"] == "not_found"

    carol.get_received("/chat")
    assert call(admin, "announce", {"text": " maintenance at 5 "}, namespace="/admin")["ok"]
    system = [p["args"][0] for p in carol.get_received("/chat") if p["name"] == "system"]
    assert system and system[0]["room"] is None and system[0]["text"] == "maintenance at 5"
    assert call(admin, "announce", {"text": "  "}, namespace="/admin")["error"]["code"] == "bad_request"


def test_the_announcement_length_is_the_schemas_rule(app):
    """At most 1000 characters after trimming, decided by the payload schema alone."""
    with pytest.raises(ValidationError):
        Announce.model_validate({"text": "x" * (MAX_ANNOUNCEMENT + 1)}, strict=True)
    admin = connect(app, "root", "/admin")
    carol = connect(app, "carol", "/chat")
    carol.get_received("/chat")
    reply = call(admin, "announce", {"text": "x" * (MAX_ANNOUNCEMENT + 1)}, namespace="/admin")
    assert reply["error"]["code"] == "bad_request" and reply["error"]["message"].startswith("text:")
    assert [p for p in carol.get_received("/chat") if p["name"] == "system"] == []
    longest = "y" * MAX_ANNOUNCEMENT
    assert call(admin, "announce", {"text": f"  {longest}\n"}, namespace="/admin")["ok"]
    system = [p["args"][0] for p in carol.get_received("/chat") if p["name"] == "system"]
    assert [s["text"] for s in system] == [longest]
