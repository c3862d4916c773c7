// The account page's token table cells (static/js/account/tokens.js).
import test from "node:test";
import assert from "node:assert/strict";
import { createBody, day, isExpired, rowCells } from "../../static/js/account/tokens.js";

test("the form's expiry becomes seconds, 0 becomes null (never)", () => {
  assert.deepEqual(createBody("  bot ", "2592000"), { name: "bot", expires_in: 2592000 });
  assert.deepEqual(createBody("bot", "0"), { name: "bot", expires_in: null });
});

test("cells: name, created, last used, expiry", () => {
  const now = Date.parse("2026-12-02T10:00:00Z");
  const t = { name: "ci", created_at: "2026-12-01T08:00:00Z", last_used_at: null, expires_at: "2027-01-01T00:00:00Z" };
  assert.deepEqual(rowCells(t, now), ["ci", "2026-12-01", "never", "2027-01-01"]);
  const old = { ...t, expires_at: "2026-12-01T09:00:00Z" };
  assert.equal(isExpired(old, now), true);
  assert.equal(rowCells(old, now)[3], "expired 2026-12-01");
  assert.equal(rowCells({ ...t, expires_at: null }, now)[3], "never");
  assert.equal(day("garbage"), "–");
});
