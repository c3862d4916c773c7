"""Room management across tabs and processes: removal, profile changes, the first DM.

``room:remove`` must take every tab of the removed member out of the room,
on every process, and tell those tabs (``room:removed``); from then on the
room refuses them. ``user:updated`` and the first message of a new DM must
reach tabs on another process. Real servers (eventlet and gevent), real
python-socketio clients over websocket and long-polling; across processes,
two servers (one of each) share a Redis message queue and one database.
"""
from __future__ import annotations

import uuid

import pytest

from tests.security.helpers import (
    create_private_room,
    in_room,
    make_user,
    send,
    two_process_deployment,
    unique,
)
from tests.support.services import REDIS_DATABASES


def remove_and_check(clients, transport: str, here, there, prefix: str) -> None:
    """The owner removes a member who has a tab on ``here`` (cookie) and one on
    ``there`` (token): each tab gets room:removed and none of the room's later
    messages; ``witness`` (a member who stays, on ``there``) gets them all, so the
    tabs would have had them by then too. ``here`` and ``there`` are one server,
    or two processes of one deployment."""
    owner_user, member, stays = (make_user(here, prefix + p) for p in ("own", "mem", "wit"))
    owner = clients(here, owner_user, transport)
    removed_tabs = [clients(here, member, transport, via="cookie"),
                    clients(there, member, transport, via="token")]
    witness = clients(there, stays, transport)
    room = create_private_room(owner, [member, stays])
    name = member.name

    before = send(owner, room, "before the removal")
    for tab in removed_tabs:
        tab.wait_for("message", lambda m: m.get("id") == before["id"], timeout=10)  # control

    assert owner.call("room:remove", {"room": room, "username": name}) == {"ok": True}
    for tab in removed_tabs:
        assert tab.wait_for("room:removed", timeout=10) == {"room": room}
    left = witness.wait_for("member:left", in_room(room), timeout=10)
    assert left["user"]["username"] == name and left["removed"] is True

    for i in range(3):
        send(owner, room, f"after the removal {i}")
    witness.wait_for_count("message", 3, in_room(room, "after the removal"), timeout=10)
    for tab in removed_tabs:
        tab.assert_no_event("message", in_room(room, "after the removal"), within=0.5)
        tab.assert_no_event("member:left", within=0.1)
        # Still connected and served; the room refuses them now.
        assert tab.call("history", {"room": room})["error"]["code"] == "forbidden"
        assert tab.call("sync", {"rooms": {str(room): 0}})["error"]["code"] == "forbidden"
        ack = tab.call("message:send", {"room": room, "text": "let me in",
                                        "client_id": uuid.uuid4().hex})
        assert ack["error"]["code"] == "forbidden"
        assert room not in [r["id"] for r in tab.call("rooms:list", {})["rooms"]]


def first_dm_and_check(alice, bob_tab, bob_name: str) -> None:
    """alice opens a DM with bob and writes; bob's open tab (which never joined
    the room) gets the message and room:added with the unread count."""
    dm = alice.call("dm:open", {"username": bob_name})
    assert dm["ok"], dm
    room = dm["room"]["id"]
    sent = send(alice, room, "first words")
    added = bob_tab.wait_for("room:added", lambda r: r.get("id") == room, timeout=10)
    assert added["kind"] == "dm" and added["unread"] == 1 and added["last_seq"] == 1
    got = bob_tab.wait_for("message", lambda m: m.get("id") == sent["id"], timeout=10)
    assert got["author"]["username"] == alice.user_name
    # Later messages reach the tab too, and no second room:added comes.
    second = send(alice, room, "second words")
    bob_tab.wait_for("message", lambda m: m.get("id") == second["id"], timeout=10)
    assert bob_tab.count("room:added", lambda r: r.get("id") == room) == 1


def profile_and_check(alice, mate, stranger) -> None:
    name = "Ålice 王 " + unique("n")[-6:]
    ack = alice.call("profile:update", {"display_name": name, "status": "on call"})
    assert ack["ok"], ack
    seen = mate.wait_for("user:updated", lambda u: u.get("display_name") == name, timeout=10)
    assert seen["status"] == "on call" and seen["id"] == ack["user"]["id"]
    stranger.assert_no_event("user:updated", within=0.5)


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, module_servers):
    return module_servers(mode=request.param, name=f"room-remove-{request.param}")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_removal_takes_every_tab_of_the_member_out(server, clients, transport):
    remove_and_check(clients, transport, server, server, "rm")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_the_first_dm_message_reaches_an_open_tab(server, clients, transport):
    alice, bob = make_user(server, "dma"), make_user(server, "dmb")
    bob_tab = clients(server, bob, transport)
    alice_tab = clients(server, alice, transport)
    alice_tab.user_name = alice.name
    first_dm_and_check(alice_tab, bob_tab, bob.name)


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_a_dm_to_someone_offline_is_there_when_they_connect(server, clients, transport):
    alice, bob = make_user(server, "dmoa"), make_user(server, "dmob")
    alice_tab = clients(server, alice, transport)
    dm = alice_tab.call("dm:open", {"username": bob.name})
    assert dm["ok"], dm
    send(alice_tab, dm["room"]["id"], "when you are back")
    bob_tab = clients(server, bob, transport)
    rooms = {r["id"]: r for r in bob_tab.call("rooms:list", {})["rooms"]}
    assert rooms[dm["room"]["id"]]["unread"] == 1
    later = send(alice_tab, dm["room"]["id"], "and now live")
    bob_tab.wait_for("message", lambda m: m.get("id") == later["id"], timeout=10)


@pytest.fixture(scope="module")
def two_processes():
    with two_process_deployment("room-remove", REDIS_DATABASES["tests/security/test_room_remove.py"]) as both:
        yield both


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_removal_on_one_process_takes_the_tabs_on_the_other_out(two_processes, clients,
                                                                transport):
    one, two = two_processes
    remove_and_check(clients, transport, one, two, "xr")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_user_updated_and_the_first_dm_cross_processes(two_processes, clients, transport):
    one, two = two_processes
    alice, bob, carol = (make_user(one, p) for p in ("xpa", "xpb", "xpc"))
    alice_tab = clients(one, alice, transport)
    alice_tab.user_name = alice.name
    bob_tab = clients(two, bob, transport)
    carol_tab = clients(two, carol, transport)
    # The directory sees bob online although he is connected to the other process.
    users = {u["username"]: u for u in alice_tab.call("users:list", {"q": bob.name})["users"]}
    assert users[bob.name]["online"] is True
    first_dm_and_check(alice_tab, bob_tab, bob.name)
    profile_and_check(alice_tab, bob_tab, carol_tab)
