/* The chat outbox's decisions, without DOM or socket.
 *
 * Every message goes through the outbox: kept (in localStorage too) with its
 * client_id, sent one at a time in the order typed, removed only when the
 * server answers with the stored message (`duplicate: true` included) or
 * refuses it for good. The page (chat/main.js) does the sending and the showing;
 * this module decides what an answer means and keeps the queue and the
 * stored list consistent. The server stores a (user, client_id) once, so no
 * retry decided here can double a message.
 *
 * tests/js/outbox.test.js runs it under `node --test`.
 */
import { t } from "../lib/i18n.js";

export const SEND_TIMEOUT_MS = 8000; // no answer within this: the same client_id again
export const BACKOFF_MAX_MS = 30000;
const MAX_CLIENT_ID = 64;

/**
 * What to do with the answer to one `message:send` (socket.io's `err`, the ack):
 * - {action: "stored", message}            settle it, apply the message
 * - {action: "resend"}                     no answer: the same client_id again (now or on connect)
 * - {action: "hold", ms, status}           rate limited / server fault: wait, then resend
 * - {action: "join"}                       a public room not joined yet: room:join once, then resend
 * - {action: "fail", reason}               refused for good: back into the composer
 * @param ctx.joinTried   a join was already tried for this entry
 * @param ctx.publicRoom  the entry's room is public
 * @param ctx.failures    retryable failures in a row before this one
 */
export function decide(err, ack, { joinTried = false, publicRoom = false, failures = 0 } = {}) {
  if (!err && ack && ack.ok && ack.message) return { action: "stored", message: ack.message };
  if (err) return { action: "resend" };
  const error = (ack && ack.error) || {};
  const code = error.code;
  if (code === "rate_limited") {
    return { action: "hold", ms: Math.max(1, Number(error.retry_after) || 1) * 1000, status: t("waiting (rate limit)…"), retryable: false };
  }
  if (code === "forbidden" && !joinTried && publicRoom) return { action: "join" };
  if (code && code !== "internal" && code !== "unauthorized") {
    return { action: "fail", reason: error.message || t("The message was not sent.") };
  }
  // A server fault (or a session being renewed): keep it and retry later, backing off.
  return { action: "hold", ms: backoff(failures + 1), status: t("not sent yet, retrying…"), retryable: true };
}

/** 2 s, 4 s, ... up to 30 s after n failures in a row. */
export function backoff(n) {
  return Math.min(BACKOFF_MAX_MS, 1000 * 2 ** Math.min(Math.max(n, 0), 5));
}

/** A saved entry, checked (localStorage is input like any other); null when unusable. */
export function validEntry(e) {
  if (!e || typeof e !== "object") return null;
  if (typeof e.clientId !== "string" || !e.clientId || e.clientId.length > MAX_CLIENT_ID) return null;
  if (typeof e.room !== "number" || typeof e.text !== "string" || !e.text.trim()) return null;
  return {
    clientId: e.clientId,
    room: e.room,
    roomName: typeof e.roomName === "string" ? e.roomName : "",
    text: e.text,
    ts: typeof e.ts === "string" ? e.ts : new Date().toISOString(),
  };
}

/** What an earlier page (or another tab) left unsent: valid entries in the order typed. */
export function restore(saved) {
  const list = Array.isArray(saved) ? saved : [];
  const out = [];
  const seen = new Set();
  for (const raw of list.slice().sort((a, b) => String(a && a.ts).localeCompare(String(b && b.ts)))) {
    const e = validEntry(raw);
    if (!e || seen.has(e.clientId)) continue;
    seen.add(e.clientId);
    out.push(e);
  }
  return out;
}

/** The saved list with `entry` in it (merged by client_id: tabs do not overwrite each other). */
export function withEntry(saved, entry) {
  const list = (Array.isArray(saved) ? saved : []).filter((e) => e && e.clientId !== entry.clientId);
  list.push({ clientId: entry.clientId, room: entry.room, roomName: entry.roomName, text: entry.text, ts: entry.ts });
  return list;
}

/** The saved list without `clientId`; null when it was not there (nothing to write). */
export function withoutEntry(saved, clientId) {
  const list = Array.isArray(saved) ? saved : [];
  const kept = list.filter((e) => e && e.clientId !== clientId);
  return kept.length === list.length ? null : kept;
}

/**
 * The queue: client_id -> entry in the order typed, one in flight at a time,
 * and a hold (rate limit, back-off) before which nothing is sent.
 */
export class Queue {
  constructor(now = () => Date.now()) {
    this.entries = new Map();
    this.inFlight = null;
    this.holdUntil = 0;
    this.failures = 0;
    this.now = now;
  }

  /** Queue `entry` itself (the page keeps its element on it); once per client_id. */
  add(entry) {
    if (!this.entries.has(entry.clientId)) {
      if (typeof entry.attempt !== "number") entry.attempt = 0;
      this.entries.set(entry.clientId, entry);
    }
    return this.entries.get(entry.clientId);
  }

  get size() {
    return this.entries.size;
  }

  /** The entry to send now, or null (one in flight, held, empty, or offline). */
  next(connected) {
    if (this.inFlight || !connected || this.entries.size === 0) return null;
    if (this.now() < this.holdUntil) return null;
    return this.entries.values().next().value;
  }

  /** Milliseconds until the hold ends (0 when not held). */
  heldFor() {
    return Math.max(0, this.holdUntil - this.now());
  }

  hold(ms) {
    this.holdUntil = Math.max(this.holdUntil, this.now() + ms);
  }

  /** Mark `entry` as sent; returns the attempt number to check the answer against. */
  start(entry) {
    this.inFlight = entry;
    entry.attempt += 1;
    return entry.attempt;
  }

  /** The answer belongs to the attempt still in flight (not a stale one). */
  isCurrent(entry, attempt) {
    return this.inFlight === entry && entry.attempt === attempt;
  }

  /** It left the queue (stored, or refused for good). */
  settle(clientId) {
    const entry = this.entries.get(clientId);
    this.entries.delete(clientId);
    if (entry && this.inFlight === entry) this.inFlight = null;
    return entry || null;
  }

  /** The connection dropped: whatever was in flight gets no answer now. */
  lost() {
    this.inFlight = null;
  }
}

/**
 * The sending loop around the queue: the oldest entry goes out when connected
 * and nothing is in flight, and every answer is acted on as `decide` says.
 * The page (chat/main.js) and the fault-injection driver
 * (tests/e2e/node/replica_client.mjs) both run this one; what is theirs comes in as hooks:
 * @param o.queue        a Queue
 * @param o.connected    () => boolean
 * @param o.emit         (payload, (err, ack) => void): `message:send` with a SEND_TIMEOUT_MS timeout
 * @param o.join         (roomId) => Promise: room:join, answered or not
 * @param o.publicRoom   (roomId) => boolean
 * @param o.stored       (entry, message): the server stored it (settle the entry, apply the message)
 * @param o.failed       (entry, reason): refused for good (settle it, give the text back)
 * @param o.status       (entry, text): what to show on the pending entry (optional)
 * @returns {{pump(): void}}
 */
export function createSender(o) {
  const { queue } = o;
  const status = o.status || (() => {});
  let holdTimer = null;

  function hold(ms) {
    queue.hold(ms);
    clearTimeout(holdTimer);
    holdTimer = setTimeout(pump, queue.heldFor() + 10);
  }

  /** Send the oldest pending message, if connected and nothing is in flight. */
  function pump() {
    const next = queue.next(o.connected());
    if (next) transmit(next);
    else if (!queue.inFlight && o.connected() && queue.size && queue.heldFor() > 0) hold(0);
  }

  function transmit(p) {
    const attempt = queue.start(p);
    status(p, attempt > 1 ? t("sending again…") : t("sending…"));
    o.emit({ room: p.room, text: p.text, client_id: p.clientId }, (err, ack) => {
      const current = queue.isCurrent(p, attempt);
      const what = decide(err, ack, { joinTried: !!p.joinTried, publicRoom: o.publicRoom(p.room), failures: queue.failures });
      if (what.action === "stored") {
        // Stored (now or by an earlier attempt): even a late answer settles it.
        o.stored(p, what.message);
        if (current) queue.failures = 0;
        pump();
        return;
      }
      if (!current || !queue.entries.has(p.clientId)) return; // a newer attempt is under way
      queue.inFlight = null;
      if (what.action === "resend") {
        // No answer in time, or the connection dropped: it may or may not be
        // stored. The same client_id again is safe: now if still connected
        // (the server may be slow), else on the next connect.
        status(p, o.connected() ? t("sending again…") : t("waiting for connection…"));
        pump();
      } else if (what.action === "join") {
        // Posting in a public room needs room:join first (e.g. a room picked
        // from the saved list while offline): join once, then send again.
        p.joinTried = true;
        const joining = queue.start(p); // a reconnect meanwhile sends again: then this join is stale
        Promise.resolve(o.join(p.room)).then(() => {
          if (queue.isCurrent(p, joining)) queue.inFlight = null;
          pump();
        });
      } else if (what.action === "fail") {
        o.failed(p, what.reason);
        pump();
      } else {
        // Rate limited, or a server fault (or a session being renewed): keep it, retry later.
        if (what.retryable) queue.failures += 1;
        status(p, what.status);
        hold(what.ms);
      }
    });
  }

  return { pump };
}
