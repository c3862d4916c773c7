// The kicked page's line and retry time (static/js/lib/kicked.js).
import test from "node:test";
import assert from "node:assert/strict";
import { clock, isKicked, kickedRetry } from "../../static/js/lib/kicked.js";

test("only a forbidden refusal with reason kicked and a retry_after is a kick", () => {
  assert.equal(isKicked({ code: "forbidden", reason: "kicked", retry_after: 60 }), true);
  assert.equal(isKicked({ code: "forbidden", message: "admins only" }), false);
  assert.equal(isKicked({ code: "forbidden", reason: "kicked" }), false);
  assert.equal(isKicked({ code: "rate_limited", reason: "kicked", retry_after: 5 }), false);
  assert.equal(isKicked(null), false);
});

test("the retry comes when the block ends, with at most a second of jitter", () => {
  const now = new Date(2026, 11, 2, 14, 3, 0).getTime();
  const early = kickedRetry(60, now, () => 0);
  assert.equal(early.ms, 60000);
  assert.equal(early.text, "An administrator disconnected you; retrying at 14:04:00");
  const late = kickedRetry(60, now, () => 1);
  assert.equal(late.ms, 61000);
  assert.equal(late.at, now + 61000);
});

test("clock is 24-hour HH:MM:SS", () => {
  assert.equal(clock(new Date(2026, 0, 1, 9, 5, 7).getTime()), "09:05:07");
  assert.equal(clock(new Date(2026, 0, 1, 23, 59, 59).getTime()), "23:59:59");
});
