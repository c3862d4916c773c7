// The chart's series and the activity list across reloads (static/js/market/history.js).
import test from "node:test";
import assert from "node:assert/strict";
import { addPoint, mergeHistory, addFill, loadFills, WINDOW_MS, MAX_FILLS } from "../../static/js/market/history.js";
import { cents } from "../../static/js/market/money.js";

const T0 = Date.UTC(2026, 0, 2, 9, 30);
const p = (s, c) => ({ t: T0 + s * 1000, c: BigInt(c) });
const seconds = (points) => points.map((x) => (x.t - T0) / 1000);

test("live points: one per second, the later one wins", () => {
  const series = [];
  addPoint(series, p(0, 100));
  addPoint(series, p(0.4, 101));
  addPoint(series, p(0.2, 99)); // older within the same second: ignored
  addPoint(series, p(1, 102));
  assert.deepEqual(series, [p(0.4, 101), p(1, 102)]);
});

test("an older live point goes into its place", () => {
  const series = [p(0, 1), p(5, 5)];
  addPoint(series, p(3, 3));
  assert.deepEqual(seconds(series), [0, 3, 5]);
});

test("the series keeps only the window before its newest point", () => {
  const series = [];
  for (let s = 0; s < 1500; s += 0.25) addPoint(series, p(s, s * 100));
  assert.equal(series.length, WINDOW_MS / 1000);
  assert.equal(seconds(series)[0], 1499 - WINDOW_MS / 1000 + 1 + 0.75); // the last point of the oldest second kept
  assert.equal(series[series.length - 1].t, T0 + 1499.75 * 1000);
  const bySecond = new Set(series.map((x) => Math.floor(x.t / 1000)));
  assert.equal(bySecond.size, series.length);
});

test("history merges with live points: deduplicated by ts, sorted, trimmed", () => {
  // The page got two live quotes before the history answer, which holds them too.
  const series = [p(9, 109), p(10, 110)];
  const history = [0, 5, 9, 10].map((s) => [T0 + s * 1000, (100 + s).toFixed(2)]);
  mergeHistory(series, history, cents);
  assert.deepEqual(seconds(series), [0, 5, 9, 10]);
  assert.deepEqual(series.map((x) => x.c), [10000n, 10500n, 10900n, 11000n]);
  // Loaded again (a reconnect): nothing doubles.
  mergeHistory(series, history, cents);
  assert.equal(series.length, 4);
  // Points older than ten minutes before the newest go; bad items are skipped.
  mergeHistory(series, [[T0 + 700 * 1000, "120.00"], [T0 + 701 * 1000, "1.005"], ["x", "1.00"], null, [1]], cents);
  assert.deepEqual(seconds(series), [700]);
});

test("live fills: newest first, a seq once, at most MAX_FILLS", () => {
  const list = [];
  for (let seq = 1; seq <= MAX_FILLS + 3; seq += 1) addFill(list, { seq, quantity: seq });
  addFill(list, { seq: MAX_FILLS + 3, quantity: 0 });
  assert.equal(list.length, MAX_FILLS);
  assert.equal(list[0].seq, MAX_FILLS + 3);
  assert.equal(list[0].quantity, MAX_FILLS + 3);
  addFill(list, { quantity: 7 }); // no seq: always shown
  addFill(list, { quantity: 7 });
  assert.deepEqual(list.slice(0, 2).map((f) => f.quantity), [7, 7]);
});

test("loading the server's fills replaces the list, with the live ones that arrived meanwhile", () => {
  const list = [{ seq: 12 }, { seq: 11 }, { seq: 3 }, { quantity: 1 }];
  // 12 and 11 arrived live while the answer (up to 11) was on its way; 3 is from before a reconnect.
  loadFills(list, [{ seq: 11 }, { seq: 10 }, { seq: 9 }], [{ seq: 11 }, { seq: 12 }]);
  assert.deepEqual(list.map((f) => f.seq), [12, 11, 10, 9]);
  loadFills(list, []); // a restarted server with no fills yet
  assert.deepEqual(list, []);
  loadFills(list, Array.from({ length: 60 }, (_, i) => ({ seq: 60 - i })));
  assert.equal(list.length, MAX_FILLS);
  assert.equal(list[0].seq, 60);
});
