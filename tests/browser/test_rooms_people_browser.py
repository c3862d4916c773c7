"""Rooms and people from the chat page, in Chromium against the real server.

Private rooms made in the New room dialog with a member picked from the
directory, invites and removals in the room settings (the removed person's
page loses the room at once and says why), renames and topics reaching the
other member's page, archived rooms read-only and listed apart, the People
dialog opening a DM with someone offline (it arrives when they log in), the
first DM raising the unread badge and the tab title without a reload, day
separators and the "New" line, Arrow-Up editing one's last message, display
names instead of usernames. Desktop (1280x800); the dialogs also at a phone's
390x844, where nothing may scroll sideways.
"""
from __future__ import annotations

import io
import re
import sqlite3
import time
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageWatch
from tests.browser.helpers import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    close_contexts,
    console_problems,
    login,
    open_chat,
    overflow,
    register,
    shot,
    stored,
    type_and_send,
    unique,
    wait_connected,
)
from tests.support.server import ServerProcess


# -- steps ---------------------------------------------------------------------------
class People:
    """Browser contexts of this test, closed (sockets hung up) at the end."""

    def __init__(self, browser, server) -> None:
        self.browser, self.server = browser, server
        self.contexts = []
        self.watches = []

    def page(self, viewport: dict = DESKTOP, **options) -> Page:
        """A page in a browser context of its own (its own cookies), watched for problems."""
        ctx = self.browser.new_context(base_url=self.server.url, viewport=viewport, **options)
        ctx.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(ctx)
        page = ctx.new_page()
        self.watches.append(PageWatch(page))
        return page

    def user(self, prefix: str, display_name: str | None = None, viewport: dict | None = None):
        page = self.page(viewport or DESKTOP)
        name = unique(prefix)
        register(page, name)
        if viewport:  # a phone: the rooms are in a closed drawer
            wait_connected(page)
            page.wait_for_selector("li.room.active[data-room-name='general']", state="attached")
            page.wait_for_selector("#messages[data-state=ready]")
        else:
            open_chat(page)
        if display_name is not None:
            set_profile(page, display_name)
        return page, name

    def close(self) -> None:
        close_contexts(*self.contexts)

    def problems(self) -> list[str]:
        # A refused call is shown to the person (a toast); the console stays clean.
        found = [p for w in self.watches for p in console_problems(w)]
        return found + [c for w in self.watches for c in w.csp]


@pytest.fixture
def people(browser, live_server):
    crowd = People(browser, live_server)
    try:
        yield crowd
        assert crowd.problems() == []
    finally:
        crowd.close()


def emit(page: Page, event: str, payload: dict) -> dict:
    """One call over the page's own socket (for set-up the page has no form for)."""
    return page.evaluate(
        """([event, payload]) => new Promise((resolve) => window.switchboard.socket.timeout(10000)
               .emit(event, payload, (err, ack) => resolve(err ? {ok: false, error: String(err)} : ack)))""",
        [event, payload])


def set_profile(page: Page, display_name: str) -> None:
    ack = emit(page, "profile:update", {"display_name": display_name})
    assert ack.get("ok"), ack


def room_item(page: Page, name: str):
    return page.locator(f"li.room[data-room-name='{name}']")


def open_room(page: Page, name: str) -> None:
    room_item(page, name).click()
    page.wait_for_selector(f"li.room.active[data-room-name='{name}']")
    page.wait_for_selector("#messages[data-state=ready]")


def create_room(page: Page, name: str, kind: str = "public", members: tuple[str, ...] = ()) -> None:
    """Through the New room dialog: name, kind, members searched in the directory."""
    page.fill("#new-room-name", name)
    page.click("#new-room-more")
    dialog = page.locator("#new-room-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#nr-name")).to_have_value(name)
    page.check(f"#nr-kind-{kind}")
    for member in members:
        pick(page, "nr-members", member)
    page.click("#nr-create")
    expect(dialog).to_be_hidden()
    page.wait_for_selector(f"li.room.active[data-room-name='{name}']")


def public_room_of_two(people: People, prefix: str):
    """Alice makes a public room and Bob opens it: both pages then show it, ready."""
    alice, a_name = people.user("alice")
    bob, b_name = people.user("bob")
    room = unique(prefix)
    create_room(alice, room, "public")
    open_room(bob, room)
    return alice, a_name, bob, b_name, room


def pick(page: Page, picker: str, username: str) -> None:
    """Search the directory in a picker and add the person found."""
    page.fill(f"#{picker}-q", username)
    result = page.locator(f"#{picker}-results .picker-result[data-username='{username}']")
    result.locator(".picker-add").click()
    expect(page.locator(f"#{picker} .picker-chip[data-username='{username}']")).to_be_visible()


def open_settings(page: Page):
    page.click("#room-settings-button")
    dialog = page.locator("#room-settings")
    expect(dialog).to_be_visible()
    return dialog


def no_sideways_scroll(page: Page, what: str) -> None:
    width, inner = overflow(page)
    assert width <= inner, f"{what}: {width}px wide in a {inner}px window"
    # The open dialog itself fits the window too.
    box = page.evaluate("""() => { const d = document.querySelector('dialog[open]');
        if (!d) return null; const r = d.getBoundingClientRect();
        return [r.left, r.right, d.scrollWidth, d.clientWidth]; }""")
    if box:
        left, right, scroll_w, client_w = box
        assert left >= 0 and right <= inner, f"{what}: dialog at {left}..{right} in {inner}px"
        assert scroll_w <= client_w + 1, f"{what}: dialog scrolls sideways ({scroll_w} > {client_w})"


def wait_server_unread(page: Page, room_id: int, count: int, timeout: float = 15) -> None:
    """Poll rooms:list over the page's socket until the server counts ``count`` unread."""
    deadline = time.monotonic() + timeout
    while True:
        ack = emit(page, "rooms:list", {})
        unread = next((r["unread"] for r in ack.get("rooms", []) if r["id"] == room_id), None)
        if unread == count:
            return
        assert time.monotonic() < deadline, f"server says {unread} unread, not {count}"
        page.wait_for_timeout(100)


def unread_of(page: Page, name: str):
    return room_item(page, name).locator(".unread")


# -- tests ------------------------------------------------------------------------------
def test_private_room_member_invite_remove_rename_topic(people, screenshot):
    alice, a_name = people.user("alice", "Alice Liddell")
    bob, b_name = people.user("bob", "Bob Вишня")
    carol, c_name = people.user("carol")
    room = unique("plans")

    create_room(alice, room, "private", members=(b_name,))
    # Bob's page: the private room appears without a reload; Carol's does not get it.
    expect(room_item(bob, room)).to_be_visible()
    expect(room_item(bob, room)).to_have_attribute("data-kind", "private")
    open_room(bob, room)
    expect(bob.locator("#room-meta")).to_contain_text("2 members")

    # The settings show display names with the username beside them.
    dialog = open_settings(alice)
    members = dialog.locator("#rs-members .member")
    expect(members).to_have_count(2)
    bob_row = dialog.locator(f"#rs-members .member[data-username='{b_name}']")
    expect(bob_row.locator(".person-name")).to_have_text("Bob Вишня")
    expect(bob_row.locator(".person-username")).to_have_text("@" + b_name)

    # Invite Carol: her page gets the room, Bob's member list grows.
    pick(alice, "rs-invite", c_name)
    alice.click("#rs-invite-send")
    expect(dialog.locator(f"#rs-members .member[data-username='{c_name}']")).to_be_visible()
    expect(room_item(carol, room)).to_be_visible()
    expect(bob.locator("#room-meta")).to_contain_text("3 members")
    open_room(carol, room)
    type_and_send(carol, "hello from carol")
    expect(stored(bob, "hello from carol")).to_have_count(1)

    # Rename and topic: on Bob's page in the list, the header, the topic line.
    new_name = unique("roadmap")
    alice.fill("#rs-name", new_name)
    alice.fill("#rs-topic", "Q3 plans, <b>not bold</b>")
    # The dialog follows the room live (here Bob's new name) without losing what Alice typed.
    set_profile(bob, "Bob Renamed")
    expect(bob_row.locator(".person-name")).to_have_text("Bob Renamed")
    expect(alice.locator("#rs-name")).to_have_value(new_name)
    expect(alice.locator("#rs-topic")).to_have_value("Q3 plans, <b>not bold</b>")
    alice.click("#rs-save")
    expect(room_item(bob, new_name)).to_be_visible()
    expect(room_item(bob, room)).to_have_count(0)
    expect(bob.locator("#room-title")).to_contain_text(new_name)
    expect(bob.locator("#room-topic")).to_have_text("Q3 plans, <b>not bold</b>")
    assert bob.locator("#room-topic b").count() == 0
    screenshot(alice, "room-settings")

    # Remove Carol: the room vanishes from her page, which moves elsewhere and says why.
    alice.once("dialog", lambda d: d.accept())
    dialog.locator(f"#rs-members .member[data-username='{c_name}'] .member-remove").click()
    expect(dialog.locator(f"#rs-members .member[data-username='{c_name}']")).to_have_count(0)
    expect(room_item(carol, new_name)).to_have_count(0)
    expect(carol.locator("li.room.active")).to_have_attribute("data-room-name", "general")
    expect(carol.locator("#toasts .toast")).to_contain_text(["You were removed from"])
    expect(bob.locator("#room-meta")).to_contain_text("2 members")
    expect(bob.locator("#message-list .system-line .system-text")).to_have_text(
        f"{c_name} was removed by Alice Liddell.")
    # And the server agrees: her history call for it is refused.
    room_id = int(alice.get_attribute(f"li.room[data-room-name='{new_name}']", "data-room-id"))
    assert not emit(carol, "history", {"room": room_id, "limit": 10}).get("ok")

    # Bob leaves from his own settings: the room goes from his list, Alice's count drops.
    bob_dialog = open_settings(bob)
    expect(bob_dialog.locator("#rs-name")).to_have_count(0)  # not his to rename
    bob.once("dialog", lambda d: d.accept())
    bob_dialog.locator("#rs-leave").click()
    expect(bob_dialog).to_be_hidden()
    expect(room_item(bob, new_name)).to_have_count(0)
    expect(bob.locator("li.room.active")).to_have_attribute("data-room-name", "general")
    expect(alice.locator("#room-meta")).to_contain_text("1 member")


def test_archived_room_is_read_only_and_listed_apart(people):
    alice, _, bob, _, room = public_room_of_two(people, "old")
    type_and_send(bob, "before the archive")
    expect(stored(alice, "before the archive")).to_have_count(1)

    dialog = open_settings(alice)
    dialog.locator("#rs-archive").click()
    expect(dialog.locator("#rs-archive")).to_have_text("Unarchive")
    alice.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    for page in (alice, bob):
        expect(page.locator("#archived-section")).to_be_visible()
        expect(page.locator(f"#archived-list li.room[data-room-name='{room}']")).to_be_visible()
        expect(page.locator(f"#room-list li.room[data-room-name='{room}']")).to_have_count(0)
        expect(page.locator("#archived-note")).to_be_visible()
        expect(page.locator("#composer")).to_be_disabled()
        expect(page.locator("#composer")).to_be_hidden()
    # Still readable, and still there (apart) after a reload: rooms:list {archived: true}.
    bob.reload()
    wait_connected(bob)
    # The shown room, so its section is open.
    expect(bob.locator(f"#archived-list li.room.active[data-room-name='{room}']")).to_be_visible()
    bob.wait_for_selector("#messages[data-state=ready]")
    expect(stored(bob, "before the archive")).to_have_count(1)
    expect(bob.locator("#archived-note")).to_contain_text("archived")
    expect(bob.locator("#composer")).to_be_disabled()

    # Unarchive: back in the list, writable again on Bob's page without a reload.
    dialog = open_settings(alice)
    dialog.locator("#rs-archive").click()
    expect(dialog.locator("#rs-archive")).to_have_text("Archive")
    alice.keyboard.press("Escape")
    expect(bob.locator(f"#room-list li.room[data-room-name='{room}']")).to_be_visible()
    expect(bob.locator("#composer")).to_be_enabled()
    expect(bob.locator("#archived-note")).to_be_hidden()
    type_and_send(bob, "after the archive")
    expect(stored(alice, "after the archive")).to_have_count(1)


def test_dm_someone_offline_arrives_when_they_log_in(people, screenshot):
    alice, a_name = people.user("alice", "Alice Liddell")
    bob_page = people.page()
    b_name = unique("bob")
    register(bob_page, b_name)
    open_chat(bob_page)
    set_profile(bob_page, "Bob Offline")
    bob_page.click("#logout")
    bob_page.wait_for_url(re.compile(r"/login"))

    # The People dialog: Bob is there, offline, and can be messaged.
    alice.click("#open-people")
    dialog = alice.locator("#people-dialog")
    expect(dialog).to_be_visible()
    alice.fill("#people-q", b_name)
    row = dialog.locator(f".person[data-username='{b_name}']")
    expect(row).to_have_attribute("data-online", "false")
    expect(row.locator(".person-name")).to_have_text("Bob Offline")
    alice.fill("#people-q", "")
    expect(dialog.locator(f".person[data-username='{a_name}']")).to_have_attribute("data-online", "true")
    screenshot(alice, "people")
    alice.fill("#people-q", b_name)
    row.locator(".person-message").click()
    expect(dialog).to_be_hidden()
    expect(alice.locator("#room-title")).to_contain_text("Bob Offline")
    alice.wait_for_selector("li.room.active[data-kind=dm]")
    alice.wait_for_selector("#messages[data-state=ready]")
    type_and_send(alice, "see this when you are back")
    expect(stored(alice, "see this when you are back")).to_have_count(1)

    login(bob_page, b_name)
    wait_connected(bob_page)
    dm = bob_page.locator("#dm-list li.room[data-kind=dm]")
    expect(dm).to_have_count(1)
    expect(dm.locator(".room-name")).to_have_text("Alice Liddell")
    expect(dm.locator(".unread")).to_have_text("1")
    dm.click()
    expect(stored(bob_page, "see this when you are back")).to_have_count(1)
    # Names, not usernames, on the message.
    message = stored(bob_page, "see this when you are back")
    expect(message.locator(".message-author")).to_have_text("Alice Liddell")


def test_first_dm_raises_badge_and_title_without_reload(people):
    alice, a_name = people.user("alice", "Alice Liddell")
    carol, c_name = people.user("carol")
    expect(carol.locator("#dm-list li.room")).to_have_count(0)
    assert not carol.title().startswith("(")

    alice.click("#new-message")
    expect(alice.locator("#people-dialog .sb-dialog-title")).to_have_text("New message")
    alice.fill("#people-q", c_name)
    alice.locator(f"#people-dialog .person[data-username='{c_name}'] .person-message").click()
    alice.wait_for_selector("li.room.active[data-kind=dm]")
    expect(alice.locator("#room-title")).to_contain_text(c_name)
    alice.wait_for_selector("#messages[data-state=ready]")
    # Opening the DM alone bothers nobody.
    type_and_send(alice, "first words")
    expect(stored(alice, "first words")).to_have_count(1)

    dm = carol.locator("#dm-list li.room")
    expect(dm).to_have_count(1)
    expect(dm.locator(".room-name")).to_have_text("Alice Liddell")
    expect(dm.locator(".unread")).to_have_text("1")
    expect(carol).to_have_title(re.compile(r"^\(1\) "))
    # The next one counts on, live.
    type_and_send(alice, "second words")
    expect(dm.locator(".unread")).to_have_text("2")
    expect(carol).to_have_title(re.compile(r"^\(2\) "))
    dm.click()
    expect(stored(carol, "second words")).to_have_count(1)
    expect(dm.locator(".unread")).to_be_hidden()
    expect(carol).not_to_have_title(re.compile(r"^\("))


def test_display_name_changes_live_everywhere(people):
    alice, a_name, bob, b_name, room = public_room_of_two(people, "names")
    type_and_send(alice, "who am I")
    message = stored(bob, "who am I")
    expect(message.locator(".message-author")).to_have_text(a_name)
    online_name = bob.locator(f"#online .online-user[data-username='{a_name}'] .online-name")
    expect(online_name).to_have_text(a_name)

    set_profile(alice, "Алиса <i>x</i>")
    expect(message.locator(".message-author")).to_have_text("Алиса <i>x</i>")
    assert message.locator(".message-author i").count() == 0
    online_name = bob.locator(f"#online .online-user[data-username='{a_name}'] .online-name")
    expect(online_name).to_have_text("Алиса <i>x</i>")
    expect(alice.locator("#current-user")).to_contain_text("Алиса <i>x</i>")
    # Typing names the display name too.
    alice.fill("#composer", "typing…")
    expect(bob.locator("#typing")).to_have_text("Алиса <i>x</i> is typing…")

    # An avatar (POST /api/avatar, the page's session and CSRF token): Bob's
    # page swaps the initial for the picture, live.
    expect(message.locator(".avatar")).to_have_text("А")
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(picture, "PNG")
    token = alice.get_attribute("meta[name=csrf-token]", "content")
    answer = alice.request.post("/api/avatar", headers={"X-CSRFToken": token},
                                multipart={"file": {"name": "me.png", "mimeType": "image/png",
                                                    "buffer": picture.getvalue()}})
    assert answer.ok, answer.text()
    url = answer.json()["user"]["avatar_url"]
    image = message.locator("img.avatar-img")
    expect(image).to_have_attribute("src", url)
    bob.wait_for_function("(img) => img.complete && img.naturalWidth === 256", arg=image.element_handle())


def test_day_separators_new_line_and_arrow_up_edit(people, live_server):
    alice, _ = people.user("alice")
    bob, _ = people.user("bob")
    room = unique("days")
    create_room(alice, room, "public")
    for i in range(3):
        type_and_send(alice, f"old {i}")
        expect(stored(alice, f"old {i}")).to_have_count(1)
    open_room(bob, room)
    expect(stored(bob, "old 2")).to_have_count(1)
    # One day so far: one separator, "Today", above the first message.
    expect(bob.locator("#message-list .day-separator")).to_have_count(1)
    expect(bob.locator("#message-list .day-separator")).to_have_text("Today")
    expect(bob.locator("#message-list .new-line")).to_have_count(0)

    # The first messages move two days back (in the database): two days then.
    room_id = int(bob.get_attribute(f"li.room[data-room-name='{room}']", "data-room-id"))
    db = Path(live_server.instance_path) / "switchboard.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE messages SET created_at = datetime(created_at, '-2 days') "
                     "WHERE room_id = ? AND seq <= 2", (room_id,))

    # Bob read them (the page told the server); he goes elsewhere and Alice
    # writes three more: his read mark is after "old 2".
    wait_server_unread(bob, room_id, 0)
    open_room(bob, "general")
    for i in range(3):
        type_and_send(alice, f"new {i}")
    expect(unread_of(bob, room)).to_have_text("3")
    bob.reload()
    wait_connected(bob)
    open_room(bob, room)
    separators = bob.locator("#message-list .day-separator")
    expect(separators).to_have_count(2)
    expect(separators.nth(1)).to_have_text("Today")
    # The New line sits right before the first unread message.
    expect(bob.locator("#message-list .new-line")).to_have_count(1)
    after_line = bob.locator("#message-list .new-line + .message .message-text")
    expect(after_line).to_have_text("new 0")
    before_today = bob.locator("#message-list .day-separator + .message .message-text")
    expect(before_today).to_have_text(["old 0", "old 2"])
    # It stays while the room is shown, even as the read mark moves on.
    expect(unread_of(bob, room)).to_be_hidden()
    type_and_send(alice, "new 3")
    expect(stored(bob, "new 3")).to_have_count(1)
    expect(bob.locator("#message-list .new-line + .message .message-text")).to_have_text("new 0")

    # Arrow-Up in the empty composer edits Alice's last message.
    alice.click("#composer")
    alice.keyboard.press("ArrowUp")
    editor = alice.locator(".message-editor textarea")
    expect(editor).to_be_focused()
    expect(editor).to_have_value("new 3")
    editor.fill("new 3, edited")
    editor.press("Enter")
    expect(stored(bob, "new 3, edited")).to_have_count(1)
    expect(alice.locator("#composer")).to_be_focused()
    # Not when there is text in the composer.
    alice.fill("#composer", "draft")
    alice.keyboard.press("ArrowUp")
    expect(alice.locator(".message-editor")).to_have_count(0)


def test_dialogs_fit_a_phone(people):
    alice, a_name = people.user("alice", "Alice with a rather long display name", viewport=PHONE)
    bob, b_name = people.user("bob")
    room = unique("phone")
    # The New room dialog, opened from the rooms drawer.
    alice.click("#open-rooms")
    alice.fill("#new-room-name", room)
    alice.click("#new-room-more")
    expect(alice.locator("#new-room-dialog")).to_be_visible()
    alice.check("#nr-kind-private")
    pick(alice, "nr-members", b_name)
    no_sideways_scroll(alice, "new room dialog")
    alice.click("#nr-create")
    expect(alice.locator("#new-room-dialog")).to_be_hidden()
    # Opening a room closes the phone's rooms drawer, so its item is active but
    # hidden once the drawer's transition ends: wait for the state, not for
    # visibility (which passed only when the check beat the transition).
    alice.wait_for_selector(f"li.room.active[data-room-name='{room}']", state="attached")
    alice.wait_for_selector("#messages[data-state=ready]")

    open_settings(alice)
    no_sideways_scroll(alice, "room settings")
    alice.keyboard.press("Escape")
    alice.click("#open-rooms")
    alice.click("#open-people")
    expect(alice.locator("#people-dialog")).to_be_visible()
    expect(alice.locator(f"#people-dialog .person[data-username='{b_name}']")).to_be_visible()
    no_sideways_scroll(alice, "people")
    alice.keyboard.press("Escape")
    expect(alice.locator("#people-dialog")).to_be_hidden()
    no_sideways_scroll(alice, "chat")


def test_opening_a_room_with_many_unread_starts_at_the_new_line(people):
    alice, _ = people.user("alice")
    bob, _ = people.user("bob")
    room = unique("busy")
    create_room(alice, room, "public")
    type_and_send(alice, "read already")
    expect(stored(alice, "read already")).to_have_count(1)
    open_room(bob, room)
    expect(stored(bob, "read already")).to_have_count(1)
    room_id = int(bob.get_attribute(f"li.room[data-room-name='{room}']", "data-room-id"))
    wait_server_unread(bob, room_id, 0)
    open_room(bob, "general")
    for i in range(30):
        type_and_send(alice, f"unread {i}")
    expect(stored(alice, "unread 29")).to_have_count(1)
    expect(unread_of(bob, room)).to_have_text("30")
    open_room(bob, room)
    line = bob.locator("#message-list .new-line")
    expect(line).to_be_in_viewport()
    expect(bob.locator("#message-list .new-line + .message .message-text")).to_have_text("unread 0")
    expect(bob.locator("#jump-latest")).to_be_visible()
    bob.click("#jump-latest")
    expect(stored(bob, "unread 29")).to_be_in_viewport()


def test_day_separators_follow_the_browsers_time_zone(people, live_server):
    """Two messages an hour apart across midnight UTC: two days in a browser
    on UTC, one day (the evening before) in a browser in New York."""
    alice, a_name = people.user("alice")
    room = unique("tz")
    create_room(alice, room, "public")
    for text in ("late evening", "an hour later"):
        type_and_send(alice, text)
        expect(stored(alice, text)).to_have_count(1)
    room_id = int(alice.get_attribute(f"li.room[data-room-name='{room}']", "data-room-id"))
    db = Path(live_server.instance_path) / "switchboard.db"
    with sqlite3.connect(db) as conn:
        for seq, ts in ((1, "2025-03-10 23:30:00.000000"), (2, "2025-03-11 00:30:00.000000")):
            conn.execute("UPDATE messages SET created_at = ? WHERE room_id = ? AND seq = ?",
                         (ts, room_id, seq))

    def separators(timezone_id: str) -> list[str]:
        page = people.page(timezone_id=timezone_id, locale="en-US")
        login(page, a_name)
        wait_connected(page)
        open_room(page, room)
        expect(stored(page, "an hour later")).to_have_count(1)
        return page.locator("#message-list .day-separator").all_text_contents()

    utc = separators("UTC")
    assert len(utc) == 2 and "March 10" in utc[0] and "March 11" in utc[1], utc
    new_york = separators("America/New_York")
    assert len(new_york) == 1 and "March 10" in new_york[0], new_york


# -- the README's screenshots: a fresh server, fixed names, no animations ------------------
TEAM = [("alice", "Alice Liddell", "writing the release notes"), ("bob", "Bob Вишня", ""),
        ("carol", "Carol", "in a meeting until 3"), ("dmitri", "Дмитрий", ""), ("mei", "王美", "on call")]


def test_screenshots_of_room_settings_and_people(browser):
    """docs/screenshots/room-settings.png, people.png (1280x800) and
    room-settings-phone.png (390x844): documentation, not compared."""
    with ServerProcess(async_mode="eventlet", name="rooms-shots") as srv:
        pages = {}
        crowd = People(browser, srv)
        try:
            for username, display, status in TEAM:
                page = crowd.page(PHONE if username == "mei" else DESKTOP, reduced_motion="reduce",
                                  locale="en-US")
                register(page, username)
                wait_connected(page)
                page.wait_for_selector("#messages[data-state=ready]")
                ack = emit(page, "profile:update", {"display_name": display, "status": status})
                assert ack.get("ok"), ack
                pages[username] = page
            dmitri = pages["dmitri"].context
            crowd.contexts.remove(dmitri)
            close_contexts(dmitri)  # offline in the directory
            alice = pages["alice"]
            create_room(alice, "launch", "private", members=("bob", "carol", "mei"))
            launch = int(alice.get_attribute("li.room[data-room-name='launch']", "data-room-id"))
            ack = emit(alice, "room:update", {"room": launch, "topic": "Release 2.5: checklist and go/no-go"})
            assert ack.get("ok"), ack
            for who, text in (("alice", "Checklist is in the doc, two items left."),
                              ("bob", "Migrations tested on a copy of production."),
                              ("carol", "Go from support once the notes are out.")):
                page = pages[who]
                if who != "alice":
                    open_room(page, "launch")
                type_and_send(page, text)
                expect(stored(alice, text)).to_have_count(1)
            open_settings(alice)
            shot(alice, "room-settings")
            alice.keyboard.press("Escape")
            alice.click("#open-people")
            expect(alice.locator("#people-dialog .person")).to_have_count(len(TEAM))
            shot(alice, "people")
            alice.keyboard.press("Escape")
            mei = pages["mei"]
            mei.click("#open-rooms")
            mei.click("li.room[data-room-name='launch']")
            mei.wait_for_selector("li.room.active[data-room-name='launch']", state="attached")
            mei.wait_for_selector("#messages[data-state=ready]")
            open_settings(mei)
            no_sideways_scroll(mei, "room settings")
            shot(mei, "room-settings-phone")
            assert crowd.problems() == []
        finally:
            crowd.close()
