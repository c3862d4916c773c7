// Guarded, per-user localStorage (static/js/lib/storage.js) with an injected Storage.
import test from "node:test";
import assert from "node:assert/strict";
import { createStore, storageKey } from "../../static/js/lib/storage.js";

class MemoryStorage {
  constructor() { this.map = new Map(); }
  getItem(k) { return this.map.has(k) ? this.map.get(k) : null; }
  setItem(k, v) { this.map.set(k, String(v)); }
  removeItem(k) { this.map.delete(k); }
}

/** A Storage that throws on everything (privacy mode, a full quota). */
const broken = {
  getItem() { throw new Error("SecurityError"); },
  setItem() { throw new Error("QuotaExceededError"); },
  removeItem() { throw new Error("SecurityError"); },
};

test("keys are switchboard.<name>.<userId>", () => {
  assert.equal(storageKey("outbox", 7), "switchboard.outbox.7");
  const mem = new MemoryStorage();
  const store = createStore(7, mem);
  assert.equal(store.key("marketSymbol"), "switchboard.marketSymbol.7");
  store.set("marketSymbol", "ACME");
  assert.deepEqual([...mem.map.keys()], ["switchboard.marketSymbol.7"]);
  assert.equal(mem.getItem("switchboard.marketSymbol.7"), '"ACME"');
});

test("two users on one browser never see each other's values", () => {
  const mem = new MemoryStorage();
  const alice = createStore(1, mem);
  const bob = createStore(2, mem);
  alice.set("drafts", { 3: "secret" });
  assert.equal(bob.get("drafts"), null);
  assert.deepEqual(alice.get("drafts"), { 3: "secret" });
  alice.clear(["drafts"]);
  assert.equal(alice.get("drafts", "none"), "none");
});

test("values round-trip as JSON; a corrupt value gives the fallback", () => {
  const mem = new MemoryStorage();
  const store = createStore("9", mem);
  store.set("rooms", [{ id: 1, name: "general" }]);
  assert.deepEqual(store.get("rooms"), [{ id: 1, name: "general" }]);
  mem.setItem("switchboard.rooms.9", "{not json");
  assert.deepEqual(store.get("rooms", []), []);
});

test("storage that throws or is missing never breaks the page", () => {
  for (const backend of [broken, null]) {
    const store = createStore(1, backend);
    assert.equal(store.get("x", 5), 5);
    assert.equal(store.set("x", 1), false);
    assert.doesNotThrow(() => store.remove("x"));
    assert.doesNotThrow(() => store.clear(["x", "y"]));
  }
});

test("a store needs a user id", () => {
  for (const id of [undefined, null, ""]) assert.throws(() => createStore(id, new MemoryStorage()));
});
