/* The chart's series and the activity list across reloads: DOM-free.
 *
 * The server keeps the last ten minutes of quotes per symbol, at most one
 * point per second (the newest of that second), and the last 50 fills
 * (blueprints/market/quotes.py). A page asks for both on every connect
 * (`history`, `activity`) and meanwhile keeps receiving live `quote` and
 * `market:activity` events, so the same point or fill can reach it twice,
 * in any order. These functions merge the two the way the server keeps
 * them, so a reloaded page draws the chart and lists the fills the page
 * before the reload did, and memory stays bounded however long a tab is open:
 *
 * - a point is {t: ms since the epoch, c: BigInt cents}; a series is sorted
 *   by t, one point per second (the one with the larger t), and holds only
 *   the WINDOW_MS before its newest point;
 * - a fill carries `seq` (growing, from the server); the list is newest
 *   first, one entry per seq, at most MAX_FILLS. A live fill without seq
 *   (the server could not keep it) is shown, never deduplicated.
 *
 * tests/js/history.test.js runs this under `node --test`.
 */

export const WINDOW_MS = 10 * 60 * 1000;
export const MAX_FILLS = 50;

const second = (t) => Math.floor(t / 1000);

/** Sorted, one point per second (the later one wins), trimmed to the window. */
function normalise(points, windowMs) {
  const sorted = points.filter((p) => Number.isFinite(p.t)).sort((a, b) => a.t - b.t);
  const out = [];
  for (const p of sorted) {
    const last = out[out.length - 1];
    if (last && second(last.t) === second(p.t)) out[out.length - 1] = p;
    else out.push(p);
  }
  return trim(out, windowMs);
}

function trim(points, windowMs) {
  if (!points.length) return points;
  const oldest = second(points[points.length - 1].t) - Math.ceil(windowMs / 1000) + 1;
  let i = 0;
  while (i < points.length && second(points[i].t) < oldest) i += 1;
  if (i) points.splice(0, i);
  return points;
}

/**
 * Add one live point to a series (in place; returns it). The usual case, a
 * point newer than the last, costs nothing; an older one is merged in.
 */
export function addPoint(points, point, windowMs = WINDOW_MS) {
  const last = points[points.length - 1];
  if (!last || second(point.t) > second(last.t)) {
    points.push(point);
    return trim(points, windowMs);
  }
  if (second(point.t) === second(last.t)) {
    if (point.t >= last.t) points[points.length - 1] = point;
    return points;
  }
  const merged = normalise(points.concat([point]), windowMs);
  points.splice(0, points.length, ...merged);
  return points;
}

/**
 * The server's history ([[ts_ms, "price"], ...]) merged into a series (in
 * place; returns it). `parse` turns a price string into cents (money.js
 * cents); points it cannot read are skipped.
 */
export function mergeHistory(points, history, parse, windowMs = WINDOW_MS) {
  const incoming = [];
  for (const item of Array.isArray(history) ? history : []) {
    if (!Array.isArray(item) || item.length < 2) continue;
    const c = parse(item[1]);
    if (c === null || c === undefined || !Number.isFinite(item[0])) continue;
    incoming.push({ t: item[0], c });
  }
  const merged = normalise(points.concat(incoming), windowMs);
  points.splice(0, points.length, ...merged);
  return points;
}

/** A live fill onto the list (newest first, in place; returns it); a seq already listed is skipped. */
export function addFill(list, fill, max = MAX_FILLS) {
  if (fill.seq !== undefined && list.some((f) => f.seq === fill.seq)) return list;
  list.unshift(fill);
  if (list.length > max) list.splice(max);
  return list;
}

/**
 * The server's last fills (newest first) replace the list (in place;
 * returns it), together with the live fills that `arrived` while the answer
 * was on its way (those not in it). What the list showed before is dropped,
 * as a reload would drop it: the server's list is the truth (and after a
 * server restart its seqs start again).
 */
export function loadFills(list, fills, arrived = [], max = MAX_FILLS) {
  const server = (Array.isArray(fills) ? fills : []).filter((f) => f && Number.isFinite(f.seq));
  const listed = new Set(server.map((f) => f.seq));
  const newer = arrived.filter((f) => Number.isFinite(f.seq) && !listed.has(f.seq));
  const merged = newer.concat(server).sort((a, b) => b.seq - a.seq).slice(0, max);
  list.splice(0, list.length, ...merged);
  return list;
}
