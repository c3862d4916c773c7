/* Where the message list gets its markers, decided without a DOM: a day
 * separator before the first message of each day (in the reader's time zone:
 * the browser's), and the "New" line before the first message above the read
 * mark the room had when it was opened. messages.js draws what these return;
 * tests/js/chat_days.test.js runs them under `node --test`.
 */

/** "2026-12-02" for a timestamp in the local time zone; "" for a bad one. */
export function dayKey(iso) {
  const d = new Date(iso);
  if (iso === undefined || iso === null || iso === "" || Number.isNaN(d.getTime())) return "";
  return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" + String(d.getDate()).padStart(2, "0");
}

/**
 * The separator's text for a day: "Today", "Yesterday", else the date (the
 * year only when it is not this year). `now` is injectable for tests.
 */
export function dayLabel(iso, now = new Date()) {
  const key = dayKey(iso);
  if (!key) return "";
  if (key === dayKey(now)) return "Today";
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 12);
  if (key === dayKey(yesterday)) return "Yesterday";
  const d = new Date(iso);
  const opts = { weekday: "long", month: "long", day: "numeric" };
  if (d.getFullYear() !== now.getFullYear()) opts.year = "numeric";
  return d.toLocaleDateString([], opts);
}

/**
 * The markers for a list of messages in display order (`items`: [{seq, ts}]):
 * [{before: index, type: "day", key, label} | {before: index, type: "new"}],
 * in order; at one index the day comes first, then the "New" line.
 * `readSeq`: the read mark when the room was opened (null: no "New" line);
 * the line goes before the first message with a higher seq, and only when
 * some message at or below the mark is shown above it, or the list starts
 * at the very beginning of the room (else everything shown is new and the
 * line would say nothing).
 */
export function markers(items, readSeq = null, now = new Date()) {
  const out = [];
  let lastDay = null;
  let newPlaced = readSeq === null || readSeq === undefined;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i];
    const key = dayKey(item.ts);
    if (key && key !== lastDay) {
      out.push({ before: i, type: "day", key, label: dayLabel(item.ts, now) });
      lastDay = key;
    }
    if (!newPlaced && typeof item.seq === "number" && item.seq > readSeq) {
      newPlaced = true;
      if (i > 0 || item.seq === 1) out.push({ before: i, type: "new" });
    }
  }
  return out;
}

/**
 * The read mark of a room as the list describes it (last_seq minus unread),
 * or null when nothing is unread, or nothing was ever read (no "New" line then).
 */
export function readMarkOf(room) {
  if (!room) return null;
  const unread = Number(room.unread) || 0;
  const last = Number(room.last_seq) || 0;
  // Nothing read yet (a room just joined, a first DM): everything is new, and
  // a line above all of it would say nothing the badge did not.
  if (unread <= 0 || last - unread <= 0) return null;
  return last - unread;
}
