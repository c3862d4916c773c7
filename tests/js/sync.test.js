// The chat page's rev/gap bookkeeping (static/js/chat/sync.js), docs/protocol.md section 19.
import test from "node:test";
import assert from "node:assert/strict";
import { roomSync, noteRev, hasGap, completeSync, applyById, SyncRounds, syncRooms } from "../../static/js/chat/sync.js";

test("consecutive live revs advance syncedRev", () => {
  const s = roomSync(10);
  assert.equal(noteRev(s, 11), false);
  assert.equal(noteRev(s, 12), false);
  assert.equal(s.syncedRev, 12);
  assert.equal(hasGap(s), false);
});

test("a rev beyond syncedRev + 1 is a gap until the missing one arrives", () => {
  const s = roomSync(10);
  assert.equal(noteRev(s, 12), true);
  assert.equal(s.syncedRev, 10); // not the highest rev seen
  assert.equal(noteRev(s, 13), true);
  assert.equal(noteRev(s, 11), false); // late, not lost: 11, 12, 13 close up
  assert.equal(s.syncedRev, 13);
});

test("old or repeated revs change nothing", () => {
  const s = roomSync(10);
  assert.equal(noteRev(s, 9), false);
  assert.equal(noteRev(s, 10), false);
  assert.equal(noteRev(s, "11"), false);
  assert.equal(s.syncedRev, 10);
});

test("while history loads, revs are recorded and applied later", () => {
  const s = roomSync(0);
  noteRev(s, 5, false);
  assert.equal(s.syncedRev, 0);
  s.syncedRev = 4; // the join rev the first page was loaded at
  noteRev(s, 6);
  assert.equal(s.syncedRev, 6);
});

test("a complete sync moves syncedRev to the highest rev returned and closes the gap", () => {
  const s = roomSync(10);
  noteRev(s, 15);
  completeSync(s, 14);
  assert.equal(s.syncedRev, 15);
  assert.equal(hasGap(s), false);
  completeSync(s, 3); // never backwards
  assert.equal(s.syncedRev, 15);
});

test("messages apply by id; an older rev never replaces a newer one", () => {
  const m = new Map();
  assert.ok(applyById(m, { id: 1, rev: 5, text: "edited" }));
  assert.equal(applyById(m, { id: 1, rev: 4, text: "original" }), false);
  assert.equal(m.get(1).text, "edited");
  assert.ok(applyById(m, { id: 1, rev: 5, text: "same rev" })); // not older: replaced
  assert.ok(applyById(m, { id: 1, rev: 6, text: "", deleted: true })); // a placeholder stays
  assert.equal(m.size, 1);
  assert.equal(applyById(m, { id: "1", rev: 9 }), false);
  assert.equal(applyById(m, null), false);
});

test("sync pages continue from the highest rev returned, per room", () => {
  const rounds = new SyncRounds(new Map([[1, 10], [2, 3]]));
  assert.deepEqual(rounds.request(), { rooms: { 1: 10, 2: 3 } });
  const more = rounds.take({ ok: true, has_more: true, messages: [{ room: 1, rev: 12 }, { room: 1, rev: 11 }, { room: 9, rev: 99 }] });
  assert.equal(more, true);
  assert.deepEqual(rounds.request(), { rooms: { 1: 12, 2: 3 } });
  assert.equal(rounds.take({ ok: true, has_more: false, messages: [{ room: 2, rev: 4 }] }), false);
  assert.equal(rounds.highestFor(1), 12);
  assert.equal(rounds.highestFor(2), 4);
  assert.deepEqual(rounds.rooms(), [1, 2]);
});

test("syncRooms asks from syncedRev, not from the highest rev seen, and pages to the end", async () => {
  const s = roomSync(10);
  noteRev(s, 14); // live rev 14 arrived; 11..13 were missed
  const asked = [];
  const pages = [
    { ok: true, has_more: true, messages: [{ id: 1, room: 1, rev: 11 }, { id: 2, room: 1, rev: 12 }] },
    { ok: true, has_more: false, messages: [{ id: 3, room: 1, rev: 13 }] },
  ];
  const applied = [];
  const call = async (event, payload) => { asked.push([event, payload]); return pages.shift(); };
  const outcome = await syncRooms(call, new Map([[1, s]]), (m) => applied.push(m.id));
  assert.deepEqual(outcome, { status: "complete" });
  assert.deepEqual(asked, [["sync", { rooms: { 1: 10 } }], ["sync", { rooms: { 1: 12 } }]]);
  assert.deepEqual(applied, [1, 2, 3]);
  assert.equal(s.syncedRev, 14); // 13 returned, 14 seen live: the gap is closed
  assert.equal(hasGap(s), false);
});

test("syncRooms: no answer changes nothing; a refusal is reported", async () => {
  const s = roomSync(5);
  const lost = await syncRooms(async () => ({ ok: false, error: { code: "disconnected" } }), new Map([[1, s]]), () => {});
  assert.deepEqual(lost, { status: "lost" });
  assert.equal(s.syncedRev, 5);
  const refused = await syncRooms(async () => ({ ok: false, error: { code: "forbidden" } }), new Map([[1, s]]), () => {});
  assert.equal(refused.status, "refused");
  assert.equal(s.syncedRev, 5);
});
