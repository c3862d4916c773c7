"""Rooms and people (PROTOCOL sections 9 and 15) through socketio.test_client.

Every rule of room:update, room:archive, room:remove, users:list and
profile:update, with the events each one sends and to whom.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update

from extensions import db, socketio
from models import User
from tests.integration.conftest import call
from tests.support.app import make_app

GENERAL = 1


def _payload(packet):
    return packet["args"][0] if isinstance(packet["args"], list) else packet["args"]


def received(client, name):
    return [_payload(p) for p in client.get_received("/chat") if p["name"] == name]


def drain(*clients):
    for c in clients:
        c.get_received("/chat")


def send(client, room, text="hi"):
    return call(client, "message:send", {"room": room, "text": text,
                                         "client_id": uuid.uuid4().hex})


def code(reply):
    assert reply["ok"] is False, reply
    return reply["error"]["code"]


@pytest.fixture
def people(make_client):
    """admin (the first account), alice, bob, carol: connected /chat clients."""
    return {name: make_client(name) for name in ("admin", "alice", "bob", "carol")}


def private_room(owner, *members, name="secret", topic=""):
    reply = call(owner, "room:create", {"name": name, "kind": "private",
                                        "members": list(members), "topic": topic})
    assert reply["ok"], reply
    return reply["room"]


# -- create -------------------------------------------------------------------

def test_create_private_room_with_members_and_topic(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    drain(bob, carol)
    room = private_room(alice, "bob", topic="  plans  ")
    assert room["kind"] == "private" and room["topic"] == "plans"
    assert room["archived"] is False and isinstance(room["created_by"], int)
    assert {m["username"] for m in room["members"]} == {"alice", "bob"}
    added = received(bob, "room:added")
    assert [r["id"] for r in added] == [room["id"]]
    assert received(carol, "room:added") == []
    # bob's open tab entered the room: the first message reaches it, no room:join needed.
    drain(bob)
    sent = send(alice, room["id"], "welcome")
    assert sent["ok"]
    assert [m["text"] for m in received(bob, "message")] == ["welcome"]


@pytest.mark.parametrize("payload,expected", [
    ({"name": "x", "topic": "t" * 251}, "bad_request"),
    ({"name": "x", "topic": 5}, "bad_request"),
    ({"name": "x", "topic": "a\nb"}, "bad_request"),
    ({"name": "x", "kind": "private", "members": ["nobody-at-all"]}, "not_found"),
    ({"name": "x", "kind": "public", "members": ["bob"]}, "bad_request"),
])
def test_create_refuses_bad_input(people, payload, expected):
    assert code(call(people["alice"], "room:create", payload)) == expected


def _client_of(app, username):
    from blueprints.auth.service import create_user, issue_token

    with app.app_context():
        token, _ = issue_token(create_user(username, "password-123"))
    client = socketio.test_client(app, namespace="/chat", auth={"token": token})
    assert client.is_connected("/chat")
    return client


def test_members_per_room_is_a_setting():
    app = make_app(MAX_ROOM_MEMBERS=3)
    a, b, c, d = (_client_of(app, n) for n in ("root", "bob", "carol", "dave"))
    reply = call(a, "room:create", {"name": "big", "kind": "private",
                                    "members": ["bob", "carol", "dave"]})
    assert code(reply) == "conflict" and reply["error"]["limit"] == 3
    room = private_room(a, "bob", "carol", name="small")
    reply = call(a, "room:invite", {"room": room["id"], "username": "dave"})
    assert code(reply) == "conflict" and "3 members" in reply["error"]["message"]
    # Public rooms too: the fourth join is refused.
    pub = call(a, "room:create", {"name": "pub"})["room"]
    for client in (b, c):
        assert call(client, "room:join", {"room": pub["id"]})["ok"]
    assert code(call(d, "room:join", {"room": pub["id"]})) == "conflict"
    for client in (a, b, c, d):
        client.disconnect("/chat")


def test_rooms_per_user_is_a_setting():
    app = make_app(MAX_ROOMS_PER_USER=2)
    a = _client_of(app, "root")
    assert call(a, "room:create", {"name": "one"})["ok"]
    assert call(a, "room:create", {"name": "two", "kind": "private"})["ok"]
    reply = call(a, "room:create", {"name": "three"})
    assert code(reply) == "conflict" and reply["error"]["limit"] == 2
    # DMs are not rooms one creates: still allowed.
    _client_of(app, "bob")
    assert call(a, "dm:open", {"username": "bob"})["ok"]


def test_member_limit_setting_is_checked():
    from config import ConfigError, Settings

    with pytest.raises(ConfigError, match="MAX_ROOM_MEMBERS"):
        Settings.from_env({"MAX_ROOM_MEMBERS": "1"})
    with pytest.raises(ConfigError, match="MAX_AVATAR_BYTES"):
        Settings.from_env({"MAX_AVATAR_BYTES": "lots"})


# -- update -------------------------------------------------------------------

def test_only_the_creator_or_an_admin_may_update(people):
    alice, bob, admin = people["alice"], people["bob"], people["admin"]
    room = private_room(alice, "bob")
    assert code(call(bob, "room:update", {"room": room["id"], "topic": "mine"})) == "forbidden"
    assert code(call(people["carol"], "room:update",
                     {"room": room["id"], "topic": "x"})) == "forbidden"
    reply = call(alice, "room:update", {"room": room["id"], "topic": "by alice"})
    assert reply["ok"] and reply["room"]["topic"] == "by alice"
    reply = call(admin, "room:update", {"room": room["id"], "name": "renamed"})
    assert reply["ok"] and reply["room"]["name"] == "renamed"


def test_room_updated_reaches_members_of_a_private_room_only(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    room = private_room(alice, "bob")
    drain(alice, bob, carol)
    assert call(alice, "room:update", {"room": room["id"], "name": "Plans", "topic": "Q3"})["ok"]
    for member in (alice, bob):
        (updated,) = received(member, "room:updated")
        assert (updated["id"], updated["name"], updated["topic"]) == (room["id"], "Plans", "Q3")
        assert "unread" not in updated and "joined" not in updated
    assert received(carol, "room:updated") == []


def test_room_updated_reaches_everyone_for_a_public_room(people):
    alice, carol = people["alice"], people["carol"]
    room = call(alice, "room:create", {"name": "lobby"})["room"]
    drain(alice, carol)
    assert call(alice, "room:update", {"room": room["id"], "topic": "hello"})["ok"]
    assert [r["topic"] for r in received(carol, "room:updated")] == ["hello"]


@pytest.mark.parametrize("name", ["General", " general ", "GENERAL", "ｇｅｎｅｒａｌ",
                                  "gen\u200beral", "general\t"])  # trailing white space is trimmed
def test_a_name_that_looks_like_another_room_is_a_conflict(people, name):
    alice = people["alice"]
    room = call(alice, "room:create", {"name": "mine"})["room"]
    reply = call(alice, "room:update", {"room": room["id"], "name": name})
    assert code(reply) == "conflict", reply


def test_renaming_to_another_case_of_its_own_name_is_fine(people):
    alice = people["alice"]
    room = call(alice, "room:create", {"name": "ops"})["room"]
    reply = call(alice, "room:update", {"room": room["id"], "name": "Ops"})
    assert reply["ok"] and reply["room"]["name"] == "Ops"


@pytest.mark.parametrize("payload,expected", [
    ({}, "bad_request"),
    ({"topic": "t" * 251}, "bad_request"),
    ({"topic": "a\u202eb"}, "bad_request"),
    ({"name": ""}, "bad_request"),
    ({"name": "x" * 65}, "bad_request"),
    ({"name": "dm:1:2"}, "bad_request"),
    ({"name": "gen\teral"}, "bad_request"),  # a control character: refused, not compared
])
def test_update_refuses_bad_input(people, payload, expected):
    alice = people["alice"]
    room = call(alice, "room:create", {"name": "mine"})["room"]
    assert code(call(alice, "room:update", {"room": room["id"], **payload})) == expected


def test_topic_can_be_cleared_and_has_250_characters(people):
    alice = people["alice"]
    room = call(alice, "room:create", {"name": "mine", "topic": "x"})["room"]
    assert call(alice, "room:update", {"room": room["id"], "topic": "é" * 250})["room"]["topic"] \
        == "é" * 250
    assert call(alice, "room:update", {"room": room["id"], "topic": ""})["room"]["topic"] == ""


def test_a_dm_has_no_settings(people):
    dm = call(people["alice"], "dm:open", {"username": "bob"})["room"]
    assert code(call(people["alice"], "room:update", {"room": dm["id"], "topic": "x"})) \
        == "bad_request"
    assert code(call(people["alice"], "room:archive", {"room": dm["id"], "archived": True})) \
        == "bad_request"


# -- archive ------------------------------------------------------------------

def test_archived_rooms_are_read_only_and_listed_apart(people):
    alice, bob, admin = people["alice"], people["bob"], people["admin"]
    room = call(alice, "room:create", {"name": "old"})["room"]
    assert call(bob, "room:join", {"room": room["id"]})["ok"]
    mine = send(alice, room["id"], "before")["message"]
    assert code(call(bob, "room:archive", {"room": room["id"], "archived": True})) == "forbidden"
    drain(bob)
    reply = call(alice, "room:archive", {"room": room["id"], "archived": True})
    assert reply["ok"] and reply["room"]["archived"] is True
    assert [r["archived"] for r in received(bob, "room:updated")] == [True]

    assert code(send(alice, room["id"])) == "forbidden"
    assert code(send(bob, room["id"])) == "forbidden"
    assert code(call(alice, "message:edit", {"id": mine["id"], "text": "x"})) == "forbidden"
    assert code(call(alice, "message:delete", {"id": mine["id"]})) == "forbidden"
    assert code(call(admin, "message:delete", {"id": mine["id"]})) == "forbidden"
    assert code(call(alice, "room:update", {"room": room["id"], "topic": "x"})) == "forbidden"
    # Still readable.
    assert [m["text"] for m in call(bob, "history", {"room": room["id"]})["messages"]] == ["before"]
    assert call(bob, "sync", {"rooms": {str(room["id"]): 0}})["ok"]

    listed = [r["id"] for r in call(bob, "rooms:list", {})["rooms"]]
    assert room["id"] not in listed and GENERAL in listed
    archived = call(bob, "rooms:list", {"archived": True})["rooms"]
    assert [r["id"] for r in archived] == [room["id"]]

    assert call(admin, "room:archive", {"room": room["id"], "archived": False})["ok"]
    assert send(bob, room["id"], "alive again")["ok"]
    assert room["id"] in [r["id"] for r in call(bob, "rooms:list", {})["rooms"]]


def test_archiving_twice_changes_nothing_and_tells_nobody(people):
    alice, bob = people["alice"], people["bob"]
    room = call(alice, "room:create", {"name": "old"})["room"]
    assert call(alice, "room:archive", {"room": room["id"], "archived": True})["ok"]
    drain(bob)
    assert call(alice, "room:archive", {"room": room["id"], "archived": True})["ok"]
    assert received(bob, "room:updated") == []


# -- remove -------------------------------------------------------------------

def test_removing_a_member_takes_the_room_from_them(people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    room = private_room(alice, "bob", "carol")
    rid = room["id"]
    before = send(bob, rid, "bob was here")["message"]
    drain(alice, bob, carol)

    assert code(call(carol, "room:remove", {"room": rid, "username": "bob"})) == "forbidden"
    assert call(alice, "room:remove", {"room": rid, "username": "bob"}) == {"ok": True}
    assert received(bob, "room:removed") == [{"room": rid}]
    (left,) = received(carol, "member:left")
    assert left["room"] == rid and left["user"]["username"] == "bob" and left["removed"] is True
    assert left["by"]["username"] == "alice"
    assert received(bob, "member:left") == []  # already out of the room

    # From now on bob can neither read nor write it.
    assert code(call(bob, "history", {"room": rid})) == "forbidden"
    assert code(call(bob, "sync", {"rooms": {str(rid): 0}})) == "forbidden"
    assert code(send(bob, rid)) == "forbidden"
    assert code(call(bob, "read", {"room": rid, "seq": 1})) == "forbidden"
    assert code(call(bob, "room:join", {"room": rid})) == "forbidden"
    assert code(call(bob, "message:edit", {"id": before["id"], "text": "x"})) == "forbidden"
    assert rid not in [r["id"] for r in call(bob, "rooms:list", {})["rooms"]]
    # ... and its live messages no longer reach him.
    drain(bob)
    assert send(alice, rid, "after")["ok"]
    assert received(bob, "message") == []


@pytest.mark.parametrize("target,expected", [
    ("alice", "bad_request"),  # yourself: that is room:leave
    ("carol", "not_found"),  # not a member
    ("nobody-at-all", "not_found"),
])
def test_remove_refusals(people, target, expected):
    room = private_room(people["alice"], "bob")
    assert code(call(people["alice"], "room:remove",
                     {"room": room["id"], "username": target})) == expected


def test_remove_is_for_private_rooms_and_admins_may_too(people):
    alice, admin = people["alice"], people["admin"]
    pub = call(alice, "room:create", {"name": "pub"})["room"]
    assert call(people["bob"], "room:join", {"room": pub["id"]})["ok"]
    assert code(call(alice, "room:remove", {"room": pub["id"], "username": "bob"})) \
        == "bad_request"
    room = private_room(alice, "bob")
    assert call(admin, "room:remove", {"room": room["id"], "username": "bob"})["ok"]


def test_a_removed_member_can_be_invited_back(people):
    alice, bob = people["alice"], people["bob"]
    room = private_room(alice, "bob")
    assert call(alice, "room:remove", {"room": room["id"], "username": "bob"})["ok"]
    drain(bob)
    assert call(alice, "room:invite", {"room": room["id"], "username": "bob"})["ok"]
    assert [r["id"] for r in received(bob, "room:added")] == [room["id"]]
    assert call(bob, "history", {"room": room["id"]})["ok"]


# -- DMs ----------------------------------------------------------------------

def test_a_dm_opens_with_someone_offline_and_waits_for_them(app, make_client):
    from blueprints.auth.service import create_user, issue_token

    alice = make_client("alice")
    with app.app_context():
        token, _ = issue_token(create_user("bob", "password-123"))  # never connected
    dm = call(alice, "dm:open", {"username": "bob"})
    assert dm["ok"] and dm["room"]["kind"] == "dm"
    assert send(alice, dm["room"]["id"], "are you there?")["ok"]
    bob = socketio.test_client(app, namespace="/chat", auth={"token": token})
    rooms = {r["id"]: r for r in call(bob, "rooms:list", {})["rooms"]}
    assert rooms[dm["room"]["id"]]["unread"] == 1
    bob.disconnect("/chat")


def test_the_first_dm_message_reaches_the_other_side_as_room_added(people):
    alice, bob = people["alice"], people["bob"]
    drain(bob)
    dm = call(alice, "dm:open", {"username": "bob"})["room"]
    # Opening alone bothers nobody.
    assert received(bob, "room:added") == []
    assert send(alice, dm["id"], "hello bob")["ok"]
    got = bob.get_received("/chat")
    names = [p["name"] for p in got]
    assert names.index("message") < names.index("room:added")
    (added,) = [_payload(p) for p in got if p["name"] == "room:added"]
    assert added["id"] == dm["id"] and added["kind"] == "dm" and added["unread"] == 1
    # Later messages come as messages only.
    assert send(alice, dm["id"], "again")["ok"]
    assert [p["name"] for p in bob.get_received("/chat")] == ["message"]


def test_no_dm_with_a_disabled_account(app, people):
    with app.app_context():
        db.session.execute(update(User).where(User.username == "carol").values(active=False))
        db.session.commit()
    assert code(call(people["alice"], "dm:open", {"username": "carol"})) == "not_found"
    assert code(call(people["alice"], "room:create", {"name": "x", "kind": "private",
                                                      "members": ["carol"]})) == "not_found"


# -- people -------------------------------------------------------------------

def test_users_list_finds_by_username_and_display_name_in_any_script(app, people):
    alice, bob = people["alice"], people["bob"]
    assert call(bob, "profile:update", {"display_name": "王小明"})["ok"]
    everyone = call(alice, "users:list", {})
    assert everyone["ok"] and everyone["has_more"] is False
    by_name = {u["username"]: u for u in everyone["users"]}
    assert set(by_name) == {"admin", "alice", "bob", "carol"}
    assert by_name["bob"]["display_name"] == "王小明" and by_name["bob"]["online"] is True
    assert set(by_name["alice"]) >= {"id", "username", "display_name", "status", "avatar_url",
                                     "bot", "online"}
    assert by_name["alice"]["display_name"] == "alice" and by_name["alice"]["bot"] is False
    assert [u["username"] for u in call(alice, "users:list", {"q": "小明"})["users"]] == ["bob"]
    assert [u["username"] for u in call(alice, "users:list", {"q": "ALI"})["users"]] == ["alice"]
    assert [u["username"] for u in call(alice, "users:list", {"q": "ｃａｒ"})["users"]] == ["carol"]
    assert call(alice, "users:list", {"q": "%"})["users"] == []  # LIKE wildcards are literal
    assert call(alice, "users:list", {"q": "_"})["users"] == []
    assert code(call(alice, "users:list", {"q": "x" * 65})) == "bad_request"


def test_users_list_shows_who_is_online_and_leaves_out_disabled_accounts(app, people):
    people["carol"].disconnect("/chat")
    with app.app_context():
        db.session.execute(update(User).where(User.username == "bob").values(active=False))
        db.session.commit()
    users = {u["username"]: u for u in call(people["alice"], "users:list", {})["users"]}
    assert "bob" not in users
    assert users["carol"]["online"] is False and users["alice"]["online"] is True


def test_profile_update_reaches_those_sharing_a_room_and_own_tabs(app, people, make_client):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    private_room(alice, "bob")
    drain(alice, bob, carol)
    reply = call(alice, "profile:update", {"display_name": "Alice Ng", "status": "in a meeting"})
    assert reply["ok"]
    assert (reply["user"]["display_name"], reply["user"]["status"]) == ("Alice Ng", "in a meeting")
    (seen,) = received(bob, "user:updated")
    assert seen["username"] == "alice" and seen["display_name"] == "Alice Ng"
    assert seen["status"] == "in a meeting"
    assert len(received(alice, "user:updated")) == 1  # her own tab(s)
    assert received(carol, "user:updated") == []  # shares no room with alice
    # Messages carry the author's display name from now on.
    room = call(alice, "room:create", {"name": "talk"})["room"]
    assert send(alice, room["id"])["message"]["author"]["display_name"] == "Alice Ng"
    history = call(alice, "history", {"room": room["id"]})["messages"]
    assert history[0]["author"]["display_name"] == "Alice Ng"


def test_an_unchanged_profile_tells_nobody(people):
    alice, bob = people["alice"], people["bob"]
    private_room(alice, "bob")
    assert call(alice, "profile:update", {"status": "here"})["ok"]
    drain(bob)
    assert call(alice, "profile:update", {"status": " here "})["ok"]
    assert received(bob, "user:updated") == []


@pytest.mark.parametrize("payload,expected", [
    ({}, "bad_request"),
    ({"display_name": "x" * 65}, "bad_request"),
    ({"display_name": "\u200b\u200b"}, "bad_request"),
    ({"display_name": "a\nb"}, "bad_request"),
    ({"display_name": "\u202eeilA"}, "bad_request"),
    ({"display_name": 5}, "bad_request"),
    ({"status": "s" * 81}, "bad_request"),
    ({"status": "a\rb"}, "bad_request"),
    ({"display_name": "bob"}, "conflict"),  # another account's username
    ({"display_name": "ＢＯＢ"}, "conflict"),
    ({"display_name": "b\u200bob"}, "conflict"),
])
def test_profile_update_refuses_bad_input(people, payload, expected):
    assert code(call(people["alice"], "profile:update", payload)) == expected


def test_display_names_in_any_script_are_kept_as_typed(people):
    alice = people["alice"]
    for name in ("Zoë", "王小明", "Алиса", "محمد", "میخواهم", "👩\u200d💻 dev",
                 "<b>alice</b>", "x" * 64):
        reply = call(alice, "profile:update", {"display_name": name})
        assert reply["ok"] and reply["user"]["display_name"] == name, (name, reply)
    # Zero-width characters at the ends go; white space runs become one space.
    reply = call(alice, "profile:update", {"display_name": "\u200b Ann   Lee \ufeff"})
    assert reply["user"]["display_name"] == "Ann Lee"
    # Empty shows the username again; "ALICE" (her own name) is fine.
    assert call(alice, "profile:update", {"display_name": ""})["user"]["display_name"] == "alice"
    assert call(alice, "profile:update", {"display_name": "ALICE"})["user"]["display_name"] \
        == "ALICE"


# -- audit ----------------------------------------------------------------------

def test_every_room_and_profile_action_is_audited_without_text(people, caplog):
    import logging

    alice = people["alice"]
    caplog.set_level(logging.INFO, logger="switchboard.audit")
    room = private_room(alice, "bob", name="audited", topic="SECRET-TOPIC-1")
    rid = room["id"]
    assert call(alice, "room:invite", {"room": rid, "username": "carol"})["ok"]
    assert call(alice, "room:update", {"room": rid, "name": "audited2",
                                       "topic": "SECRET-TOPIC-2"})["ok"]
    assert call(alice, "room:remove", {"room": rid, "username": "bob"})["ok"]
    assert call(alice, "room:archive", {"room": rid, "archived": True})["ok"]
    dm = call(alice, "dm:open", {"username": "carol"})["room"]
    assert send(alice, dm["id"], "SECRET-TEXT")["ok"]
    assert call(alice, "profile:update", {"display_name": "SECRET-NAME",
                                          "status": "SECRET-STATUS"})["ok"]
    lines = {r.audit["action"]: r.audit for r in caplog.records if hasattr(r, "audit")}
    assert lines["room_created"]["by"] == "alice" and lines["room_created"]["kind"] == "private"
    assert (lines["room_invite"]["by"], lines["room_invite"]["target"]) == ("alice", "carol")
    assert lines["room_update"]["name"] == ["audited", "audited2"]
    assert lines["room_update"]["topic_changed"] is True
    assert (lines["room_remove"]["by"], lines["room_remove"]["target"]) == ("alice", "bob")
    assert lines["room_archive"]["archived"] is True and lines["room_archive"]["room"] == rid
    assert lines["dm_opened"]["target"] == "carol"
    assert lines["profile_update"]["fields"] == ["display_name", "status"]
    everything = repr([r.audit for r in caplog.records if hasattr(r, "audit")])
    assert "SECRET" not in everything
