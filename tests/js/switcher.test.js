// The quick switcher's entries and filter (static/js/chat/switcher.js).
import test from "node:test";
import assert from "node:assert/strict";
import { switcherEntries, filterEntries, matchScore, moveSelection, normalise, personLabel, MAX_RESULTS } from "../../static/js/chat/switcher.js";

const me = { id: 1, username: "ann" };
const rooms = [
  { id: 10, name: "general", kind: "public", unread: 0 },
  { id: 11, name: "random", kind: "public", unread: 4, joined: false },
  { id: 12, name: "design-review", kind: "private" },
  { id: 13, name: "dm:1:2", kind: "dm", members: [{ id: 1, username: "ann" }, { id: 2, username: "bob" }] },
  { id: 14, name: "dm:1:3:4", kind: "dm", members: [{ id: 1, username: "ann" }, { id: 3, username: "carol" }, { id: 4, username: "dave" }] },
];
const people = [
  { id: 1, username: "ann" }, // me
  { id: 2, username: "bob" }, // has a DM already
  { id: 3, username: "carol" }, // only in a group DM: still a person to message
  { id: 5, username: "Gene" },
  { id: 5, username: "Gene" }, // seen twice
  { id: "x", username: "junk" },
];
const entries = switcherEntries(rooms, people, me);
const labels = (list) => list.map((e) => e.sigil + e.label);

test("entries: every room, and people one can message who have no DM yet (not me, no duplicates)", () => {
  assert.deepEqual(labels(entries), ["#general", "#random", "#design-review", "@bob", "@carol, dave", "@carol", "@Gene"]);
  const bob = entries.find((e) => e.label === "bob");
  assert.deepEqual([bob.type, bob.roomId], ["room", 13]);
  const gene = entries.find((e) => e.label === "Gene");
  assert.deepEqual([gene.type, gene.username], ["person", "Gene"]);
  assert.equal(entries.find((e) => e.label === "random").joined, false);
});

test("an empty query lists everything: unread first, rooms before DMs before people, then by name", () => {
  assert.deepEqual(labels(filterEntries(entries, "")), ["#random", "#design-review", "#general", "@bob", "@carol, dave", "@carol", "@Gene"]);
});

test("better matches first: whole name, start, word start, anywhere, letters in order", () => {
  assert.equal(matchScore("general", "general"), 0);
  assert.equal(matchScore("general", "gen"), 1);
  assert.equal(matchScore("design-review", "rev"), 2);
  assert.equal(matchScore("general", "ner"), 3);
  assert.equal(matchScore("general", "gnrl"), 4);
  assert.equal(matchScore("general", "xyz"), -1);
  assert.deepEqual(labels(filterEntries(entries, "gene")), ["@Gene", "#general"]); // whole name beats a prefix
  assert.deepEqual(labels(filterEntries(entries, "re")), ["#design-review", "@carol, dave"]); // word start beats letters in order
  assert.deepEqual(labels(filterEntries(entries, "an")), ["#random"]); // "ann" is me: never listed
  assert.deepEqual(labels(filterEntries(entries, "zzz")), []);
});

test("case and width do not matter", () => {
  assert.deepEqual(labels(filterEntries(entries, "GENERAL")), ["#general"]);
  assert.deepEqual(labels(filterEntries(entries, "ｇｅｎｅｒａｌ")), ["#general"]); // full-width
  assert.equal(normalise("  Ｂob "), "bob");
});

test("# keeps only rooms, @ only DMs and people", () => {
  assert.deepEqual(labels(filterEntries(entries, "#")), ["#random", "#design-review", "#general"]);
  assert.deepEqual(labels(filterEntries(entries, "@ca")), ["@carol, dave", "@carol"]);
  assert.deepEqual(labels(filterEntries(entries, "#bob")), []);
});

test("results are capped", () => {
  const many = switcherEntries(Array.from({ length: 100 }, (_, i) => ({ id: i, name: "room" + i, kind: "public" })), [], me);
  assert.equal(filterEntries(many, "room").length, MAX_RESULTS);
  assert.equal(filterEntries(many, "room", 5).length, 5);
});

test("selection: arrows wrap in the switcher, stop at the ends in the room list; Home/End", () => {
  assert.equal(moveSelection(-1, 3, "ArrowDown"), 0);
  assert.equal(moveSelection(2, 3, "ArrowDown"), 0);
  assert.equal(moveSelection(0, 3, "ArrowUp"), 2);
  assert.equal(moveSelection(2, 3, "ArrowDown", false), 2);
  assert.equal(moveSelection(0, 3, "ArrowUp", false), 0);
  assert.equal(moveSelection(1, 3, "Home"), 0);
  assert.equal(moveSelection(1, 3, "End"), 2);
  assert.equal(moveSelection(1, 3, "a"), null);
  assert.equal(moveSelection(0, 0, "ArrowDown"), -1);
});

test("people are labelled by display name, the username beside it, and both match", () => {
  const named = { id: 9, username: "bob", display_name: "Bob Вишня" };
  assert.equal(personLabel(named), "Bob Вишня (@bob)");
  assert.equal(personLabel({ id: 8, username: "zed", display_name: "zed" }), "zed");
  assert.equal(personLabel({ id: 7, username: "amy" }), "amy");
  const entries = switcherEntries([], [named], { id: 1, username: "ann" });
  assert.equal(filterEntries(entries, "вишня").length, 1);
  assert.equal(filterEntries(entries, "@bob").length, 1);
});
