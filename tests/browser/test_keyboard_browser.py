"""The chat page by keyboard, in Chromium: the room list's arrow keys (a
roving tabindex), the quick switcher (Ctrl+K / Cmd+K), and Esc closing
whatever is open (the switcher, a drawer, the nav menu, the edit box), one
thing per press.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import (
    PHONE,
    TIMEOUT_MS,
    close_contexts,
    console_problems,
    new_context,
    open_chat,
    register,
    stored,
    type_and_send,
    unique,
)


def focused_room(page) -> str | None:
    return page.evaluate("() => document.activeElement.closest('li.room')?.dataset.roomName ?? null")


def tab_stops(page) -> list[str]:
    """The rooms reachable with Tab (tabindex 0): exactly one with a roving tabindex."""
    return page.eval_on_selector_all(
        "#sidebar li.room", "els => els.filter(e => e.tabIndex === 0).map(e => e.dataset.roomName)")


def create_room(page, name: str) -> None:
    page.fill("#new-room-name", name)
    page.click("#new-room-create")
    page.wait_for_selector(f"li.room.active[data-room-name='{name}']")


@pytest.fixture(scope="module")
def people(browser, live_server):
    """ann (in #general, with rooms a-... and z-...) and bob, online in #general."""
    ctx_a, ctx_b = new_context(browser, live_server), new_context(browser, live_server)
    try:
        ann, bob = ctx_a.new_page(), ctx_b.new_page()
        names = {"ann": unique("ann"), "bob": unique("bob")}
        register(ann, names["ann"])
        register(bob, names["bob"])
        open_chat(ann)
        open_chat(bob)
        rooms = {"first": "a" + unique("kb")[:20], "last": "z" + unique("kb")[:20]}
        for name in rooms.values():
            create_room(ann, name)
        yield {"ann": ann, "bob": bob, "names": names, "rooms": rooms, "contexts": (ctx_a, ctx_b)}
    finally:
        close_contexts(ctx_a, ctx_b)


def test_room_list_arrow_keys_roving_tabindex(people, watch):
    ann, rooms = people["ann"], people["rooms"]
    w = watch(ann)
    ann.click("li.room[data-room-name='general']")
    ann.wait_for_selector("li.room.active[data-room-name='general']")
    listed = ann.eval_on_selector_all("#room-list li.room", "els => els.map(e => e.dataset.roomName)")
    assert listed[0] == rooms["first"] and listed[-1] == rooms["last"] and "general" in listed, listed
    assert tab_stops(ann) == ["general"]  # one Tab stop: the room shown
    expect(ann.locator("li.room[data-room-name='general']")).to_have_attribute("aria-selected", "true")

    # Tab from the last control before the list (Log out) lands on the shown room.
    while ann.locator(".flash-close").count():  # the welcome flash, between the two
        ann.locator(".flash-close").first.click()
    ann.focus("#logout")
    ann.keyboard.press("Tab")
    assert focused_room(ann) == "general", ann.evaluate("() => document.activeElement.outerHTML.slice(0, 99)")
    general_at = listed.index("general")

    ann.keyboard.press("ArrowDown")
    assert focused_room(ann) == listed[general_at + 1]
    assert tab_stops(ann) == [listed[general_at + 1]]  # the stop moves with focus
    ann.keyboard.press("Home")
    assert focused_room(ann) == rooms["first"]
    ann.keyboard.press("ArrowUp")  # no wrapping at the top
    assert focused_room(ann) == rooms["first"]
    ann.keyboard.press("End")
    assert focused_room(ann) == rooms["last"]
    ann.keyboard.press("ArrowDown")  # nor at the bottom
    assert focused_room(ann) == rooms["last"]
    # Moving focus does not open a room: Enter does.
    expect(ann.locator("li.room.active")).to_have_attribute("data-room-name", "general")
    ann.keyboard.press("Enter")
    expect(ann.locator("li.room.active")).to_have_attribute("data-room-name", rooms["last"])
    expect(ann.locator("#room-title")).to_contain_text(rooms["last"])
    # And Space.
    ann.keyboard.press("Home")
    ann.keyboard.press("Space")
    expect(ann.locator("li.room.active")).to_have_attribute("data-room-name", rooms["first"])
    assert tab_stops(ann) == [rooms["first"]]
    assert console_problems(w) == [], w.errors


def test_quick_switcher_jumps_to_rooms_and_people(people, watch):
    ann, names = people["ann"], people["names"]
    w = watch(ann)
    dialog, box = ann.locator("#switcher"), ann.locator("#switcher-input")
    ann.click("li.room[data-room-name='general']")
    ann.wait_for_selector("li.room.active[data-room-name='general']")
    ann.focus("#composer")

    ann.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    expect(box).to_be_focused()
    # Empty: every room, and bob (online, no DM yet) to message.
    expect(ann.locator(".switcher-option[data-key^='room:']")).to_have_count(
        ann.locator("#sidebar li.room").count())
    expect(ann.locator(f".switcher-option[data-type=person]:has-text('{names['bob']}')")).to_have_count(1)

    # Filtering, and the arrow keys move the selection (aria-activedescendant).
    box.fill("rando")
    expect(ann.locator(".switcher-option")).to_have_count(1)
    expect(ann.locator(".switcher-option").first).to_have_attribute("aria-selected", "true")
    box.fill("zzz-no-such-room")
    expect(ann.locator(".switcher-option")).to_have_count(0)
    expect(ann.locator(".switcher-empty")).to_be_visible()
    box.fill("#")  # rooms only
    expect(ann.locator(".switcher-option[data-type=person]")).to_have_count(0)
    options = ann.locator(".switcher-option")
    assert options.count() >= 3
    ann.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.nth(1).get_attribute("id"))
    ann.keyboard.press("ArrowUp")
    ann.keyboard.press("ArrowUp")  # wraps round to the last
    expect(options.last).to_have_attribute("aria-selected", "true")

    # Enter jumps to the room; the dialog closes and the composer has focus.
    box.fill("rando")
    ann.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(ann.locator("li.room.active")).to_have_attribute("data-room-name", "random")
    expect(ann.locator("#composer")).to_be_focused()

    # Cmd+K too; a person opens the DM.
    ann.keyboard.press("Meta+k")
    expect(dialog).to_be_visible()
    box.fill(names["bob"])
    expect(ann.locator(".switcher-option").first).to_have_attribute("data-type", "person")
    ann.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    ann.wait_for_selector("li.room.active[data-kind=dm]")
    expect(ann.locator("#room-title")).to_contain_text(names["bob"])

    # Now bob is that DM, not a second entry; Esc closes and gives focus back.
    ann.focus("#composer")
    ann.keyboard.press("Control+k")
    box.fill(names["bob"])
    expect(ann.locator(".switcher-option")).to_have_count(1)
    expect(ann.locator(".switcher-option").first).to_have_attribute("data-type", "room")
    ann.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(ann.locator("#composer")).to_be_focused()
    expect(ann.locator("li.room.active[data-kind=dm]")).to_have_count(1)  # nothing opened

    # A click picks an option too.
    ann.keyboard.press("Control+k")
    box.fill("general")
    ann.locator(".switcher-option", has_text="general").first.click()
    expect(dialog).to_be_hidden()
    expect(ann.locator("li.room.active")).to_have_attribute("data-room-name", "general")
    assert console_problems(w) == [], w.errors


def test_escape_cancels_the_edit_box(people, watch):
    ann = people["ann"]
    w = watch(ann)
    ann.click("li.room[data-room-name='general']")
    ann.wait_for_selector("li.room.active[data-room-name='general']")
    ann.wait_for_selector("#messages[data-state=ready]")
    text = f"typo here {unique('e')}"
    type_and_send(ann, text)
    message = stored(ann, text)
    expect(message).to_have_count(1)

    # Esc in the edit box.
    message.hover()
    message.locator(".message-edit").click()
    editor = message.locator(".message-editor textarea")
    expect(editor).to_be_focused()
    ann.keyboard.press("Escape")
    expect(message.locator(".message-editor")).to_have_count(0)
    expect(message.locator(".message-text")).to_be_visible()

    # Esc with focus elsewhere on the page cancels it too.
    message.hover()
    message.locator(".message-edit").click()
    expect(message.locator(".message-editor")).to_have_count(1)
    ann.focus("#messages")
    ann.keyboard.press("Escape")
    expect(message.locator(".message-editor")).to_have_count(0)
    expect(message.locator(".message-text")).to_have_text(text)
    assert console_problems(w) == [], w.errors


def test_phone_escape_closes_one_thing_at_a_time(browser, live_server, people, watch):
    ann_name = people["names"]["ann"]
    ctx = browser.new_context(base_url=live_server.url, viewport=PHONE)
    ctx.set_default_timeout(TIMEOUT_MS)
    try:
        page = ctx.new_page()
        w = watch(page)
        page.goto("/login")
        page.fill("#login-form #username", ann_name)
        page.fill("#login-form #password", "correct-horse-battery")
        page.click("#login-form button[type=submit]")
        page.wait_for_url(re.compile(r"/chat$"))
        page.wait_for_selector("#conn-badge[data-state=connected]")
        page.wait_for_selector("#messages[data-state=ready]")
        sidebar, opener = page.locator("#sidebar"), page.locator("#open-rooms")

        # The rooms drawer: arrows work inside it, Esc closes it.
        opener.click()
        expect(sidebar).to_be_visible()
        assert focused_room(page) is not None  # focus went to the shown room
        page.keyboard.press("Home")
        assert focused_room(page) == people["rooms"]["first"]
        page.keyboard.press("Escape")
        expect(sidebar).to_be_hidden()
        expect(opener).to_be_focused()

        # The switcher over an open drawer: Esc closes the switcher only, then the drawer.
        opener.click()
        expect(sidebar).to_be_visible()
        page.keyboard.press("Control+k")
        expect(page.locator("#switcher")).to_be_visible()
        right, inner = page.evaluate(
            "() => [document.querySelector('#switcher').getBoundingClientRect().right, innerWidth]")
        assert right <= inner, (right, inner)
        page.keyboard.press("Escape")
        expect(page.locator("#switcher")).to_be_hidden()
        expect(sidebar).to_be_visible()
        page.keyboard.press("Escape")
        expect(sidebar).to_be_hidden()

        # The nav menu.
        menu = page.locator("#menu-button")
        menu.click()
        expect(page.locator("#market-link")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#market-link")).to_be_hidden()
        expect(menu).to_be_focused()
        assert console_problems(w) == [], w.errors
    finally:
        close_contexts(ctx)
