"""``room:leave`` takes every tab of the user out of the room, on every process.

Before, only the calling socket left: the user's other tabs went on receiving
the private room's live messages although ``history`` already refused them.
Tabs are separate python-socketio clients of one user, over websocket and
long-polling, under eventlet and gevent; across processes, two servers share
a Redis message queue and one database.
"""
from __future__ import annotations

import pytest

from tests.security.helpers import create_private_room, in_room, join, make_user, send, two_process_deployment
from tests.support.services import REDIS_DATABASES


def leave_and_check(tab_a, tab_b, sender, witness, room: int) -> None:
    """Tab A leaves; tab B learns it and gets none of the room's later messages.

    ``witness`` is a member who stays, on tab B's process: once it has every
    later message, tab B would have had them too.
    """
    before = send(sender, room, "before the leave")
    tab_b.wait_for("message", lambda m: m.get("id") == before["id"], timeout=10)  # control

    assert tab_a.call("room:leave", {"room": room}) == {"ok": True}
    assert tab_b.wait_for("room:left", timeout=10) == {"room": room}

    for i in range(3):
        send(sender, room, f"after the leave {i}")
    witness.wait_for_count("message", 3, in_room(room, "after the leave"), timeout=10)
    tab_b.assert_no_event("message", in_room(room, "after the leave"), within=1.0)
    tab_b.assert_no_event("typing", in_room(room), within=0.1)
    tab_a.assert_no_event("message", in_room(room, "after the leave"), within=0.1)
    # The tabs are still connected and served; the room refuses them now.
    assert tab_b.call("history", {"room": room})["error"]["code"] == "forbidden"


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, module_servers):
    return module_servers(mode=request.param, name=f"room-leave-{request.param}")


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_leaving_takes_every_tab_of_the_user_out_of_the_room(server, clients, transport):
    owner, member = make_user(server, "lvown"), make_user(server, "lvmem")
    tab_a = clients(server, owner, transport, via="cookie")
    tab_b = clients(server, owner, transport, via="token")
    other = clients(server, member, transport)
    room = create_private_room(tab_a, [member])
    join(tab_b, room)
    join(other, room)
    leave_and_check(tab_a, tab_b, sender=other, witness=other, room=room)
    # The member who stays is told; the leaver's tabs were not in the room for it.
    left = other.wait_for("member:left", in_room(room), timeout=10)
    assert left["user"]["username"] == owner.name
    tab_b.assert_no_event("member:left", within=0.1)


@pytest.fixture(scope="module")
def two_processes():
    with two_process_deployment("room-leave", REDIS_DATABASES["tests/security/test_room_leave.py"]) as both:
        yield both


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_leaving_on_one_process_takes_the_tab_on_the_other_out(two_processes, clients, transport):
    one, two = two_processes
    owner, member, witness_user = (make_user(one, p) for p in ("xown", "xmem", "xwit"))
    tab_a = clients(one, owner, transport, via="cookie")
    tab_b = clients(two, owner, transport, via="token")
    sender = clients(one, member, transport)
    witness = clients(two, witness_user, transport)
    room = create_private_room(tab_a, [member, witness_user])
    for client in (tab_b, sender, witness):
        join(client, room)
    leave_and_check(tab_a, tab_b, sender=sender, witness=witness, room=room)
