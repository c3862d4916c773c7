// When a refused page tries again (static/js/lib/backoff.js).
import test from "node:test";
import assert from "node:assert/strict";
import { retryDelay, BASE_MS, DEFAULT_BASE_MS, MAX_MS } from "../../static/js/lib/backoff.js";

const noJitter = () => 0;

test("the server's retry_after wins, in seconds", () => {
  assert.equal(retryDelay({ code: "rate_limited", retryAfter: 7, random: noJitter }), 7000);
  assert.equal(retryDelay({ code: "too_many_connections", retryAfter: "3", attempt: 5, random: noJitter }), 3000);
  assert.equal(retryDelay({ code: "forbidden", retryAfter: 60, random: noJitter }), 60000);
});

test("too_many_connections waits longer than an unknown refusal, and doubles up to a cap", () => {
  assert.equal(retryDelay({ code: "too_many_connections", random: noJitter }), BASE_MS.too_many_connections);
  assert.ok(BASE_MS.too_many_connections > DEFAULT_BASE_MS);
  assert.equal(retryDelay({ code: "too_many_connections", attempt: 1, random: noJitter }), 30000);
  assert.equal(retryDelay({ code: "too_many_connections", attempt: 9, random: noJitter }), MAX_MS);
  assert.equal(retryDelay({ code: "rate_limited", random: noJitter }), BASE_MS.rate_limited);
  assert.equal(retryDelay({ code: "whatever", random: noJitter }), DEFAULT_BASE_MS);
  assert.equal(retryDelay({ random: noJitter }), DEFAULT_BASE_MS);
});

test("a bad retry_after or attempt falls back to the base", () => {
  for (const retryAfter of [undefined, null, "", "soon", -1, 0, NaN]) {
    assert.equal(retryDelay({ code: "rate_limited", retryAfter, random: noJitter }), BASE_MS.rate_limited, String(retryAfter));
  }
  assert.equal(retryDelay({ code: "rate_limited", attempt: -3, random: noJitter }), BASE_MS.rate_limited);
  assert.equal(retryDelay({ code: "rate_limited", attempt: 1e9, random: noJitter }), MAX_MS);
});

test("jitter adds at most 20 %, never less than the wait", () => {
  assert.equal(retryDelay({ code: "rate_limited", random: () => 1 }), BASE_MS.rate_limited * 1.2);
  assert.equal(retryDelay({ code: "rate_limited", retryAfter: 10, random: () => 0.5 }), 11000);
  assert.equal(retryDelay({ code: "rate_limited", random: () => 7 }), BASE_MS.rate_limited * 1.2);
  for (let i = 0; i < 50; i++) {
    const ms = retryDelay({ code: "too_many_connections" });
    assert.ok(ms >= 15000 && ms <= 18000, String(ms));
  }
});
