// The ack envelope of static/js/lib/rpc.js: every outcome of an emit is one
// {ok, ...} object, and call() never throws or rejects.
import test from "node:test";
import assert from "node:assert/strict";
import { call, caller, envelope, errorText, isLost, TIMEOUT, DISCONNECTED } from "../../static/js/lib/rpc.js";

/** A stand-in for a socket.io-client Socket: `timeout(ms).emit(event, payload, cb)`. */
function fakeSocket(answer) {
  const sent = [];
  return {
    sent,
    timeout(ms) {
      return { emit: (event, payload, cb) => { sent.push({ ms, event, payload }); answer(cb); } };
    },
  };
}

test("an answer passes through unchanged", () => {
  const ack = { ok: true, messages: [1] };
  assert.equal(envelope(null, ack), ack);
  const refusal = { ok: false, error: { code: "rate_limited", message: "Slow down.", retry_after: 2 } };
  assert.equal(envelope(null, refusal), refusal);
  assert.equal(isLost(refusal), false);
});

test("socket.io's timeout and disconnect errors become timeout / disconnected envelopes", () => {
  const t = envelope(new Error("operation has timed out"), undefined);
  assert.deepEqual(t, { ok: false, error: { code: TIMEOUT, message: "No answer from the server." } });
  const d = envelope(new Error("socket has been disconnected"), undefined);
  assert.equal(d.error.code, DISCONNECTED);
  assert.ok(isLost(t) && isLost(d));
});

test("a malformed answer is an internal error, not a crash", () => {
  for (const bad of [undefined, null, "ok", 3, {}, { ok: "yes" }, { ok: false }, { ok: false, error: "x" }]) {
    const env = envelope(null, bad);
    assert.equal(env.ok, false, JSON.stringify(bad));
    assert.equal(env.error.code, "internal");
    assert.equal(isLost(env), false);
  }
});

test("call() resolves with the envelope and sends the timeout", async () => {
  const socket = fakeSocket((cb) => cb(null, { ok: true, n: 1 }));
  assert.deepEqual(await call(socket, "symbols", { a: 1 }, 1234), { ok: true, n: 1 });
  assert.deepEqual(socket.sent, [{ ms: 1234, event: "symbols", payload: { a: 1 } }]);
  const rpc = caller(socket, 99);
  await rpc("portfolio");
  assert.deepEqual(socket.sent[1], { ms: 99, event: "portfolio", payload: {} });
});

test("call() never rejects, even when emit throws", async () => {
  const socket = { timeout() { return { emit() { throw new Error("boom"); } }; } };
  const env = await call(socket, "x", {});
  assert.equal(env.ok, false);
  assert.ok(isLost(env));
  const late = fakeSocket((cb) => setTimeout(() => cb(new Error("operation has timed out")), 1));
  assert.equal((await call(late, "x", {})).error.code, TIMEOUT);
});

test("errorText prefers the server's message", () => {
  assert.equal(errorText({ ok: false, error: { code: "x", message: "No such room." } }), "No such room.");
  assert.equal(errorText({ ok: false, error: { code: "x" } }, "Could not."), "Could not.");
  assert.equal(errorText(null), "Something went wrong.");
});
