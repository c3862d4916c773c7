// The chat page's DOM-free decisions (static/js/chat/format.js): names, order, times, grouping.
import test from "node:test";
import assert from "node:assert/strict";
import {
  displayName, roomLabel, roomSortKey, unreadText, pageTitle, roomHeading, formatTime,
  avatarClass, initial, continues, systemSortKey, newClientId, GROUP_WINDOW_MS,
} from "../../static/js/chat/format.js";

const me = { id: 1, username: "ann" };
const general = { id: 10, name: "general", kind: "public", members: [{ id: 1 }, { id: 2 }] };
const secret = { id: 11, name: "secret", kind: "private", members: [{ id: 1 }] };
const dm = { id: 12, name: "dm:1:2", kind: "dm", members: [{ id: 1, username: "ann" }, { id: 2, username: "Bob" }] };
const selfDm = { id: 13, name: "dm:1", kind: "dm", members: [{ id: 1, username: "ann" }] };

test("a DM is named after the others in it, a room by its name", () => {
  assert.equal(displayName(general, me), "general");
  assert.equal(displayName(dm, me), "Bob");
  assert.equal(displayName(selfDm, me), "ann");
  assert.equal(displayName({ kind: "dm", name: "dm:x" }, me), "dm:x"); // members unknown yet
  // Display names when set (any script), the username otherwise.
  const named = { kind: "dm", members: [{ id: 1, username: "ann", display_name: "Ann" }, { id: 2, username: "bob", display_name: "Боб" }] };
  assert.equal(displayName(named, me), "Боб");
  assert.equal(displayName({ kind: "dm", members: [{ id: 1, username: "ann", display_name: "Ann" }] }, me), "Ann");
});

test("labels: # for rooms, @ for DMs, a fallback for unknown rooms", () => {
  assert.equal(roomLabel(general, me), "#general");
  assert.equal(roomLabel(secret, me), "#secret");
  assert.equal(roomLabel(dm, me), "@Bob");
  assert.equal(roomLabel(undefined, me, "old"), "#old");
  assert.equal(roomLabel(undefined, me, ""), "another room");
});

test("the sidebar order ignores case", () => {
  const names = [{ name: "beta", kind: "public" }, { name: "Alpha", kind: "public" }, { name: "gamma", kind: "public" }];
  const sorted = names.slice().sort((a, b) => (roomSortKey(a, me) < roomSortKey(b, me) ? -1 : 1)).map((r) => r.name);
  assert.deepEqual(sorted, ["Alpha", "beta", "gamma"]);
  assert.equal(roomSortKey(dm, me), "bob");
});

test("unread badges stop at 99+ and treat junk as 0", () => {
  assert.equal(unreadText(0), "0");
  assert.equal(unreadText(99), "99");
  assert.equal(unreadText(100), "99+");
  assert.equal(unreadText(-3), "0");
  assert.equal(unreadText("x"), "0");
});

test("the tab title leads with the unread total", () => {
  assert.equal(pageTitle([], undefined, me), "Chat · Switchboard");
  assert.equal(pageTitle([{ ...general, unread: 2 }, { ...dm, unread: 3 }], general, me), "(5) #general · Switchboard");
  assert.equal(pageTitle([{ ...dm, unread: 0 }], dm, me), "@Bob · Switchboard");
});

test("the room header says what kind of room and how many members", () => {
  assert.deepEqual(roomHeading(general, me), { title: "# general", meta: "public room · 2 members" });
  assert.deepEqual(roomHeading(secret, me), { title: "secret", meta: "private room · 1 member" });
  assert.deepEqual(roomHeading({ ...dm, members: undefined }, me), { title: "@ dm:1:2", meta: "direct message" });
});

test("times: hh:mm today, with the date otherwise, empty when unreadable", () => {
  const now = new Date(2026, 11, 2, 15, 0);
  const today = formatTime(new Date(2026, 11, 2, 9, 5).toISOString(), now);
  assert.equal(today.short, today.time);
  assert.match(today.time, /09.05|9.05/);
  const earlier = formatTime(new Date(2026, 10, 20, 9, 5).toISOString(), now);
  assert.notEqual(earlier.short, earlier.time);
  assert.ok(earlier.short.endsWith(earlier.time));
  for (const bad of ["", "not a date", null, undefined]) assert.deepEqual(formatTime(bad, now), { short: "", time: "", full: "" });
});

test("avatars: a stable colour of 8 and the first code point", () => {
  assert.equal(avatarClass("bob"), avatarClass("bob"));
  const seen = new Set(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"].map(avatarClass));
  for (const c of seen) assert.match(c, /^avatar-c[0-7]$/);
  assert.ok(seen.size > 1);
  assert.equal(initial("bob"), "B");
  assert.equal(initial("😀x"), "😀"); // a whole code point, not half a surrogate pair
  assert.equal(initial(""), "?");
});

test("one author within the window shares a header; a gap, another author or a deletion breaks it", () => {
  const t0 = "2026-12-02T10:00:00Z";
  const at = (ms) => new Date(Date.parse(t0) + ms).toISOString();
  const a = { authorId: "1", ts: t0, deleted: false };
  assert.equal(continues(null, a), false);
  assert.equal(continues(a, { authorId: "1", ts: at(60_000), deleted: false }), true);
  assert.equal(continues(a, { authorId: "1", ts: at(GROUP_WINDOW_MS), deleted: false }), false);
  assert.equal(continues(a, { authorId: "1", ts: at(-1), deleted: false }), false); // out of order
  assert.equal(continues(a, { authorId: "2", ts: at(1000), deleted: false }), false);
  assert.equal(continues(a, { authorId: "1", ts: at(1000), deleted: true }), false);
  assert.equal(continues({ ...a, deleted: true }, { authorId: "1", ts: at(1000), deleted: false }), false);
  assert.equal(continues(a, { authorId: "1", ts: "junk", deleted: false }), false);
});

test("system lines sort after the message they followed, in arrival order, before the next", () => {
  const keys = [systemSortKey(5, 0), systemSortKey(5, 1), systemSortKey(3, 2)];
  assert.ok(keys[0] > 5 && keys[0] < 6);
  assert.ok(keys[1] > keys[0] && keys[1] < 6);
  assert.ok(keys[2] > 3 && keys[2] < 4);
});

test("client ids are UUID v4, also without randomUUID (plain http)", () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
  assert.match(newClientId(), uuid);
  const fallback = newClientId({ getRandomValues: (b) => globalThis.crypto.getRandomValues(b) });
  assert.match(fallback, uuid);
  assert.notEqual(fallback, newClientId({ getRandomValues: (b) => globalThis.crypto.getRandomValues(b) }));
});
