"""The chat service against a real SQLite database."""
from __future__ import annotations

import threading

import pytest

from blueprints.chat import service
from errors import BadRequest, Conflict, Forbidden, NotFound, TooLarge
from extensions import db
from models import Message


def general_id() -> int:
    return next(r["id"] for r in service.list_rooms(0) if r["name"] == "general")


def in_general(*members) -> int:
    """General's id, with ``members`` joined to it."""
    room = general_id()
    for user in members:
        service.join_room(user.id, room)
    return room


def post(user, room: int, count: int) -> list[dict]:
    """``count`` messages ``m0``, ``m1``... from ``user`` (client ids ``c0``, ``c1``...)."""
    return [service.send_message(user.id, room, f"m{i}", f"c{i}").message for i in range(count)]


def test_fresh_install_has_general_and_random(app):
    names = [r["name"] for r in service.list_rooms(0)]
    assert names == ["general", "random"]


def test_seq_and_rev_start_at_one_and_have_no_gaps(app, users):
    alice = users[0]
    room = in_general(alice)
    sent = post(alice, room, 5)
    assert [m["seq"] for m in sent] == [1, 2, 3, 4, 5]
    assert [m["rev"] for m in sent] == [1, 2, 3, 4, 5]


def test_text_is_trimmed_and_limited(app, users):
    alice = users[0]
    room = in_general(alice)
    assert service.send_message(alice.id, room, "  hi \n", "c1").message["text"] == "hi"
    with pytest.raises(BadRequest):
        service.send_message(alice.id, room, "   ", "c2")
    with pytest.raises(TooLarge):
        service.send_message(alice.id, room, "x" * 4001, "c3")
    assert service.send_message(alice.id, room, "x" * 4000, "c4").message["seq"] == 2


def test_duplicate_client_id_returns_the_stored_message(app, users):
    alice = users[0]
    room = in_general(alice)
    first = service.send_message(alice.id, room, "once", "same")
    again = service.send_message(alice.id, room, "once", "same")
    assert not first.duplicate and again.duplicate
    assert again.message == first.message
    assert db.session.query(Message).count() == 1


def test_posting_needs_membership_and_unknown_rooms_are_not_found(app, users):
    alice = users[0]
    with pytest.raises(Forbidden):
        service.send_message(alice.id, general_id(), "hi", "c1")
    with pytest.raises(NotFound):
        service.send_message(alice.id, 999, "hi", "c1")


def test_history_pages_backwards_in_ascending_order(app, users):
    alice = users[0]
    room = in_general(alice)
    post(alice, room, 7)
    page, more = service.history(alice.id, room, None, 3)
    assert [m.seq for m in page] == [5, 6, 7] and more
    page, more = service.history(alice.id, room, 5, 3)
    assert [m.seq for m in page] == [2, 3, 4] and more
    page, more = service.history(alice.id, room, 2, 3)
    assert [m.seq for m in page] == [1] and not more


def test_edit_and_delete_bump_rev_and_show_in_sync(app, users):
    alice, bob = users[0], users[1]
    room = in_general(alice, bob)
    a = service.send_message(alice.id, room, "first", "a").message
    b = service.send_message(alice.id, room, "second", "b").message
    edited = service.edit_message(alice.id, a["id"], "first, edited")
    assert edited.rev == 3 and edited.seq == 1 and edited.edited_at is not None
    with pytest.raises(Forbidden):
        service.edit_message(bob.id, b["id"], "not mine")
    deleted = service.delete_message(alice.id, b["id"], is_admin=False)
    assert deleted.rev == 4 and deleted.deleted and deleted.to_dict()["text"] == ""
    changes, more = service.sync(bob.id, {room: 2})
    assert [(m.id, m.rev) for m in changes] == [(a["id"], 3), (b["id"], 4)] and not more


def test_sync_pages_at_500(app, users):
    alice = users[0]
    room = in_general(alice)
    post(alice, room, 503)
    page, more = service.sync(alice.id, {room: 0})
    assert len(page) == 500 and more
    page, more = service.sync(alice.id, {room: page[-1].rev})
    assert [m.rev for m in page] == [501, 502, 503] and not more


def test_private_rooms_and_dms_are_for_members(app, users):
    alice, bob, carol = users
    room = service.create_room(alice.id, "secret", "private", ["bob"])
    names = lambda u: [r["name"] for r in service.list_rooms(u.id)]  # noqa: E731
    assert "secret" in names(bob) and "secret" not in names(carol)
    with pytest.raises(Forbidden):
        service.join_room(carol.id, room.id)
    with pytest.raises(Forbidden):
        service.history(carol.id, room.id, None, 10)
    dm1, _, created = service.open_dm(alice.id, "bob")
    dm2, _, created_again = service.open_dm(bob.id, "ALICE")
    assert dm1.id == dm2.id and created and not created_again
    with pytest.raises(Forbidden):
        service.send_message(carol.id, dm1.id, "hi", "x")


def test_room_names_are_unique_and_creation_is_capped(app, users):
    alice = users[0]
    service.create_room(alice.id, "Ops", "public", [])
    with pytest.raises(Conflict):
        service.create_room(alice.id, "ops", "public", [])


def test_read_marks_and_unread_counts(app, users):
    alice, bob = users[0], users[1]
    room = in_general(alice, bob)
    post(alice, room, 4)
    unread = {r["name"]: r["unread"] for r in service.list_rooms(bob.id)}
    assert unread["general"] == 4
    assert service.mark_read(bob.id, room, 3)[1] == 1
    assert service.mark_read(bob.id, room, 1)[1] == 1  # never moves back
    assert {r["name"]: r["unread"] for r in service.list_rooms(alice.id)}["general"] == 0


def test_concurrent_senders_get_gapless_unique_seqs(app, users):
    """Threads with their own sessions and connections race on one room."""
    room = general_id()
    for u in users:
        service.join_room(u.id, room)
    ids = [u.id for u in users]
    errors: list[BaseException] = []
    per_thread = 25

    def worker(n: int) -> None:
        try:
            with app.app_context():
                for i in range(per_thread):
                    # Every thread retries one client_id once, as a client would after a lost ack.
                    service.send_message(ids[n % 3], room, f"t{n}-{i}", f"t{n}-{i}")
                    if i == 0:
                        service.send_message(ids[n % 3], room, f"t{n}-{i}", f"t{n}-{i}")
                db.session.remove()
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    db.session.expire_all()
    rows = db.session.query(Message.seq, Message.rev).filter_by(room_id=room).order_by(Message.seq).all()
    total = 6 * per_thread
    assert [r.seq for r in rows] == list(range(1, total + 1))
    assert [r.rev for r in rows] == list(range(1, total + 1))


# -- look-alike room names and invisible text ------------------------

@pytest.mark.parametrize("name", ["General", "GENERAL", "ｇｅｎｅｒａｌ", "gen\u200beral",
                                  "general\u2060", "\ufeffgeneral", "general\n", "general "])
def test_a_room_name_that_looks_like_an_existing_one_is_a_conflict_naming_it(app, users, name):
    alice = users[0]
    with pytest.raises(Conflict) as exc:
        service.create_room(alice.id, name, "public", [])
    assert "'general' already exists" in exc.value.message, exc.value.message
    with pytest.raises(Conflict):  # private rooms share the names of public ones
        service.create_room(alice.id, name, "private", [])


@pytest.mark.parametrize("name", ["\u202egeneral", "gen\u2066eral", "a\u200fb", "a\nb", "a\u2028b"])
def test_room_names_with_direction_or_line_controls_are_refused(app, users, name):
    with pytest.raises(BadRequest):
        service.create_room(users[0].id, name, "public", [])


@pytest.mark.parametrize("name", ["\u200b", "\u200b\u200d\u2060", "\u3164", " \u2800 ", "\u00ad"])
def test_room_names_of_invisible_characters_only_are_refused(app, users, name):
    with pytest.raises(BadRequest):
        service.create_room(users[0].id, name, "public", [])


def test_room_names_may_not_pose_as_direct_message_keys(app, users):
    for name in ("dm:1:2", "DM:1:2", "ＤＭ:1:2", "d\u200bm:1:2"):
        with pytest.raises(BadRequest):
            service.create_room(users[0].id, name, "public", [])


def test_messages_of_invisible_characters_only_are_refused(app, users):
    alice = users[0]
    room = in_general(alice)
    for i, text in enumerate(["\u200b", "\u200b\u200c\u200d", "\u202e", "\ufeff \u2060", "\u3164"]):
        with pytest.raises(BadRequest):
            service.send_message(alice.id, room, text, f"inv{i}")
    sent = service.send_message(alice.id, room, "hi", "ok1").message
    with pytest.raises(BadRequest):
        service.edit_message(alice.id, sent["id"], "\u200b\u200b")
    # Invisible characters that matter inside visible text stay (emoji ZWJ sequences).
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"
    assert service.send_message(alice.id, room, family, "ok2").message["text"] == family
