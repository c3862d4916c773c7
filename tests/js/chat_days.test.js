// node --test: the day separators and the "New" line (static/js/chat/days.js).
// Dates are built in the local time zone, so the test holds in any TZ.
import test from "node:test";
import assert from "node:assert/strict";
import { dayKey, dayLabel, markers, readMarkOf } from "../../static/js/chat/days.js";

const at = (y, m, d, hh = 12, mm = 0) => new Date(y, m - 1, d, hh, mm).toISOString();
const NOW = new Date(2026, 11, 2, 10, 0);

test("dayKey is the local calendar day", () => {
  assert.equal(dayKey(at(2026, 12, 2, 0, 1)), "2026-12-02");
  assert.equal(dayKey(at(2026, 12, 1, 23, 59)), "2026-12-01");
  assert.equal(dayKey(""), "");
  assert.equal(dayKey("not a date"), "");
  assert.equal(dayKey(undefined), "");
});

test("dayLabel: today, yesterday, a date, the year only when another year", () => {
  assert.equal(dayLabel(at(2026, 12, 2, 8), NOW), "Today");
  assert.equal(dayLabel(at(2026, 12, 1, 23, 59), NOW), "Yesterday");
  const older = dayLabel(at(2026, 11, 20), NOW);
  assert.ok(older && older !== "Today" && older !== "Yesterday");
  assert.ok(!older.includes("2026"), older);
  assert.ok(dayLabel(at(2025, 11, 20), NOW).includes("2025"));
  // Yesterday across a month boundary.
  assert.equal(dayLabel(at(2026, 11, 30, 9), new Date(2026, 11, 1, 9)), "Yesterday");
});

test("markers: a day separator before the first message of each local day", () => {
  const items = [
    { seq: 1, ts: at(2026, 11, 30, 23, 58) },
    { seq: 2, ts: at(2026, 11, 30, 23, 59) },
    { seq: 3, ts: at(2026, 12, 1, 0, 1) },
    { seq: 4, ts: at(2026, 12, 2, 9) },
    { seq: 5, ts: at(2026, 12, 2, 9, 30) },
  ];
  const days = markers(items, null, NOW).filter((m) => m.type === "day");
  assert.deepEqual(days.map((m) => m.before), [0, 2, 3]);
  assert.deepEqual(days.map((m) => m.label).slice(1), ["Yesterday", "Today"]);
  assert.equal(markers(items, null, NOW).filter((m) => m.type === "new").length, 0);
});

test("markers: the New line before the first message above the read mark, after its day", () => {
  const items = [
    { seq: 7, ts: at(2026, 12, 1, 10) },
    { seq: 8, ts: at(2026, 12, 2, 9) },
    { seq: 9, ts: at(2026, 12, 2, 9, 5) },
  ];
  const m = markers(items, 7, NOW);
  assert.deepEqual(m.map((x) => [x.before, x.type]), [[0, "day"], [1, "day"], [1, "new"]]);
  assert.deepEqual(markers(items, 8, NOW).filter((x) => x.type === "new").map((x) => x.before), [2]);
  // Everything read: no line.
  assert.equal(markers(items, 9, NOW).filter((x) => x.type === "new").length, 0);
});

test("markers: no New line on top of a list that is all new, unless it starts the room", () => {
  const items = [{ seq: 40, ts: at(2026, 12, 2, 9) }, { seq: 41, ts: at(2026, 12, 2, 9, 1) }];
  assert.equal(markers(items, 10, NOW).filter((x) => x.type === "new").length, 0);
  const fromStart = [{ seq: 1, ts: at(2026, 12, 2, 9) }];
  assert.deepEqual(markers(fromStart, 0, NOW).filter((x) => x.type === "new").map((x) => x.before), [0]);
});

test("markers: bad timestamps get no separator but do not break the New line", () => {
  const items = [{ seq: 1, ts: "" }, { seq: 2, ts: "junk" }];
  assert.deepEqual(markers(items, 1, NOW), [{ before: 1, type: "new" }]);
});

test("readMarkOf: last_seq minus unread, null when nothing is unread or nothing was read", () => {
  assert.equal(readMarkOf({ last_seq: 10, unread: 3 }), 7);
  assert.equal(readMarkOf({ last_seq: 10, unread: 0 }), null);
  assert.equal(readMarkOf({ last_seq: 10, unread: 10 }), null);
  assert.equal(readMarkOf({ last_seq: 2, unread: 5 }), null);
  assert.equal(readMarkOf(null), null);
});
