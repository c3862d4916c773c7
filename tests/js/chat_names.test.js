// node --test: how people are named (static/js/chat/names.js).
import test from "node:test";
import assert from "node:assert/strict";
import { freshest, nameOf, secondaryOf, comparePeople, remember, matches, safeAvatarUrl } from "../../static/js/chat/names.js";

test("safeAvatarUrl: a path on this site only", () => {
  assert.equal(safeAvatarUrl("/avatars/3.webp?v=2"), "/avatars/3.webp?v=2");
  for (const bad of ["//evil.example/a.png", "https://evil.example/a.png", "javascript:alert(1)",
    "data:image/svg+xml,<svg/onload=alert(1)>", "/\\evil.example/a.png", "avatars/3.webp", "", null, 3, "/" + "a".repeat(600)]) {
    assert.equal(safeAvatarUrl(bad), null, String(bad));
  }
});

test("nameOf: display name, else username, else unknown", () => {
  assert.equal(nameOf({ id: 1, username: "bob", display_name: "Bob Marley" }), "Bob Marley");
  assert.equal(nameOf({ id: 1, username: "bob", display_name: "   " }), "bob");
  assert.equal(nameOf({ id: 1, username: "bob" }), "bob");
  assert.equal(nameOf(null), "unknown");
  assert.equal(nameOf({ id: 1, username: "bob", display_name: "<b>x</b>" }), "<b>x</b>", "text, untouched");
});

test("the freshest copy wins: an event with only {id, username} is named from what is known", () => {
  const known = new Map();
  remember(known, { id: 2, username: "ann", display_name: "Анна" });
  assert.equal(nameOf({ id: 2, username: "ann" }, known), "Анна");
  assert.equal(secondaryOf({ id: 2, username: "ann" }, known), "@ann");
  assert.equal(secondaryOf({ id: 3, username: "zed" }, known), "");
  assert.equal(freshest({ id: 9, username: "x" }, known).username, "x");
});

test("remember merges, drops online, and says when something shown changed", () => {
  const known = new Map();
  assert.equal(remember(known, { id: 1, username: "bob", display_name: "Bob", online: true }), true);
  assert.equal("online" in known.get(1), false);
  assert.equal(remember(known, { id: 1, username: "bob", display_name: "Bob" }), false);
  assert.equal(remember(known, { id: 1, username: "bob" }), false, "a partial copy keeps the name");
  assert.equal(known.get(1).display_name, "Bob");
  assert.equal(remember(known, { id: 1, username: "bob", display_name: "Robert" }), true);
  assert.equal(remember(known, { id: 1, username: "bob", display_name: "Robert", avatar_url: "/avatars/1.webp?v=1" }), true);
  assert.equal(remember(known, { username: "no id" }), false);
});

test("comparePeople sorts by shown name, case-insensitively", () => {
  const people = [{ id: 1, username: "zed", display_name: "alpha" }, { id: 2, username: "amy" }, { id: 3, username: "Bea" }];
  assert.deepEqual(people.sort((a, b) => comparePeople(a, b)).map((u) => u.id), [1, 2, 3]);
});

test("matches: part of the username or the display name", () => {
  const u = { username: "bob42", display_name: "Robert Smith" };
  assert.ok(matches(u, "SMITH"));
  assert.ok(matches(u, "b42"));
  assert.ok(matches(u, ""));
  assert.ok(!matches(u, "alice"));
});
