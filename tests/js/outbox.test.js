// The chat outbox's decisions and queue (static/js/chat/outbox.js).
import test from "node:test";
import assert from "node:assert/strict";
import { decide, backoff, restore, withEntry, withoutEntry, validEntry, Queue, createSender, BACKOFF_MAX_MS } from "../../static/js/chat/outbox.js";

test("a stored answer settles, duplicate or not", () => {
  const message = { id: 1, client_id: "a" };
  assert.deepEqual(decide(null, { ok: true, message }), { action: "stored", message });
  assert.equal(decide(null, { ok: true, duplicate: true, message }).action, "stored");
});

test("no answer (timeout, disconnect): the same client_id again", () => {
  assert.equal(decide(new Error("operation has timed out"), undefined).action, "resend");
});

test("rate limited: hold for retry_after seconds, at least 1 s", () => {
  const ack = (retry_after) => ({ ok: false, error: { code: "rate_limited", retry_after } });
  assert.equal(decide(null, ack(3)).ms, 3000);
  assert.equal(decide(null, ack(undefined)).ms, 1000);
  assert.equal(decide(null, ack(0.2)).ms, 1000);
  assert.equal(decide(null, ack(3)).action, "hold");
});

test("forbidden in a public room: join once; then it fails", () => {
  const ack = { ok: false, error: { code: "forbidden", message: "Join first." } };
  assert.equal(decide(null, ack, { publicRoom: true }).action, "join");
  assert.deepEqual(decide(null, ack, { publicRoom: true, joinTried: true }), { action: "fail", reason: "Join first." });
  assert.equal(decide(null, ack, { publicRoom: false }).action, "fail");
});

test("refusals for good go back to the composer; server faults are retried with back-off", () => {
  for (const code of ["bad_request", "too_large", "not_found"]) {
    assert.equal(decide(null, { ok: false, error: { code } }).action, "fail", code);
  }
  assert.equal(decide(null, { ok: false, error: { code: "too_large" } }).reason, "The message was not sent.");
  for (const ack of [{ ok: false, error: { code: "internal" } }, { ok: false, error: { code: "unauthorized" } }, {}, null]) {
    const d = decide(null, ack, { failures: 0 });
    assert.equal(d.action, "hold", JSON.stringify(ack));
    assert.equal(d.ms, 2000);
  }
  assert.equal(backoff(1), 2000);
  assert.equal(backoff(4), 16000);
  assert.equal(backoff(50), BACKOFF_MAX_MS);
});

test("saved entries are checked and restored in the order typed, once each", () => {
  const saved = [
    { clientId: "b", room: 1, text: "second", ts: "2026-01-01T00:00:02Z" },
    { clientId: "a", room: 1, text: "first", ts: "2026-01-01T00:00:01Z", roomName: "general" },
    { clientId: "a", room: 1, text: "dupe", ts: "2026-01-01T00:00:03Z" },
    { clientId: "x".repeat(65), room: 1, text: "long id", ts: "1" },
    { clientId: "c", room: "1", text: "room as text", ts: "1" },
    { clientId: "d", room: 1, text: "   ", ts: "1" },
    null, 7, "junk",
  ];
  assert.deepEqual(restore(saved).map((e) => e.text), ["first", "second"]);
  assert.deepEqual(restore("not a list"), []);
  assert.equal(validEntry({ clientId: "e", room: 2, text: "t" }).roomName, "");
});

test("the saved list merges by client_id and forgets only what is there", () => {
  const one = withEntry([], { clientId: "a", room: 1, roomName: "g", text: "hi", ts: "t", el: {} });
  assert.deepEqual(one, [{ clientId: "a", room: 1, roomName: "g", text: "hi", ts: "t" }]);
  const two = withEntry(one, { clientId: "a", room: 1, roomName: "g", text: "hi again", ts: "t" });
  assert.equal(two.length, 1);
  assert.equal(withoutEntry(two, "zzz"), null);
  assert.deepEqual(withoutEntry(two, "a"), []);
});

test("one in flight at a time, in the order typed, nothing while held or offline", () => {
  let now = 1000;
  const q = new Queue(() => now);
  const typed = { clientId: "a", room: 1, text: "1" };
  const a = q.add(typed);
  assert.equal(a, typed); // the same object: the page keeps its element on it
  assert.equal(a.attempt, 0);
  assert.equal(q.add({ clientId: "a", room: 1, text: "again" }), typed);
  q.add({ clientId: "b", room: 1, text: "2" });
  assert.equal(q.next(false), null);
  assert.equal(q.next(true), a);
  const attempt = q.start(a);
  assert.equal(q.next(true), null); // a is in flight
  assert.ok(q.isCurrent(a, attempt));
  q.lost(); // disconnect: a goes again on connect
  assert.equal(q.next(true), a);
  const again = q.start(a);
  assert.equal(q.isCurrent(a, attempt), false); // a late answer to the first attempt is stale
  assert.ok(q.isCurrent(a, again));
  q.settle("a");
  q.hold(500);
  assert.equal(q.next(true), null);
  assert.equal(q.heldFor(), 500);
  now += 500;
  assert.equal(q.next(true).clientId, "b");
  assert.equal(q.size, 1);
});

test("the sender: one in flight, the same client_id again after no answer, settled once stored", () => {
  const queue = new Queue();
  const sent = [];
  const stored = [];
  let online = true;
  const sender = createSender({
    queue,
    connected: () => online,
    emit: (payload, answer) => sent.push({ payload, answer }),
    join: async () => {},
    publicRoom: () => true,
    stored: (p, message) => { queue.settle(p.clientId); stored.push(message); },
    failed: () => assert.fail("nothing is refused here"),
  });
  queue.add({ clientId: "a", room: 1, text: "one" });
  queue.add({ clientId: "b", room: 1, text: "two" });
  sender.pump();
  sender.pump();
  assert.equal(sent.length, 1); // one at a time, in the order typed
  assert.deepEqual(sent[0].payload, { room: 1, text: "one", client_id: "a" });
  online = false;
  sent[0].answer(new Error("socket has been disconnected")); // no answer: kept, not sent while offline
  assert.equal(sent.length, 1);
  online = true;
  sender.pump(); // the connect handler
  assert.equal(sent.length, 2);
  assert.equal(sent[1].payload.client_id, "a"); // the same client_id again
  sent[1].answer(null, { ok: true, duplicate: true, message: { id: 7, client_id: "a" } });
  assert.deepEqual(stored.map((m) => m.id), [7]);
  assert.equal(sent[2].payload.client_id, "b"); // the next one goes out
  sent[0].answer(null, { ok: true, message: { id: 7, client_id: "a" } }); // a late answer: harmless
  assert.equal(queue.size, 1);
});

test("the sender: refused for good goes to failed; rate limited holds, then sends again", async () => {
  const queue = new Queue();
  const sent = [];
  const failed = [];
  const sender = createSender({
    queue, connected: () => true, emit: (payload, answer) => sent.push({ payload, answer }),
    join: async () => {}, publicRoom: () => false,
    stored: () => assert.fail("nothing is stored here"),
    failed: (p, reason) => { queue.settle(p.clientId); failed.push(reason); },
  });
  queue.add({ clientId: "a", room: 1, text: "x" });
  queue.add({ clientId: "b", room: 1, text: "y" });
  sender.pump();
  sent[0].answer(null, { ok: false, error: { code: "too_large", message: "Too long." } });
  assert.deepEqual(failed, ["Too long."]);
  assert.equal(sent[1].payload.client_id, "b");
  sent[1].answer(null, { ok: false, error: { code: "rate_limited", retry_after: 1 } });
  assert.ok(queue.heldFor() > 900);
  sender.pump();
  assert.equal(sent.length, 2); // held
  await new Promise((resolve) => setTimeout(resolve, queue.heldFor() + 50)); // the hold's own timer
  assert.equal(sent.length, 3);
  assert.equal(sent[2].payload.client_id, "b");
});
