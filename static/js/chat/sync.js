/* The rev/gap bookkeeping of the chat page (docs/protocol.md section 19).
 *
 * Per loaded room: `syncedRev`, the rev up to which every change has been
 * seen. It is NOT simply the highest rev seen: broadcasts of concurrent
 * changes may arrive out of rev order, and after a reconnect the first live
 * event can be newer than what was missed. Live revs above syncedRev + 1 wait
 * in `seenRevs` until the revs below them arrive; a gap that stays open is
 * filled by `sync` from syncedRev. Messages are kept by id; a change replaces
 * what is there unless it is older (a lower rev).
 *
 * No DOM, no socket: tests/js/sync.test.js runs it under `node --test`.
 */
import { isLost } from "../lib/rpc.js";

/** The sync state of one room, starting at the rev its first page was loaded at. */
export function roomSync(syncedRev = 0) {
  return { syncedRev, seenRevs: new Set() };
}

/** Move syncedRev over every consecutive rev seen; forget revs at or below it. */
export function advance(state) {
  while (state.seenRevs.has(state.syncedRev + 1)) {
    state.syncedRev += 1;
    state.seenRevs.delete(state.syncedRev);
  }
  for (const rev of state.seenRevs) if (rev <= state.syncedRev) state.seenRevs.delete(rev);
  return state;
}

/** Note a rev seen (live event); with `apply` false it is only recorded (history still loading). */
export function noteRev(state, rev, apply = true) {
  if (typeof rev !== "number" || !Number.isInteger(rev)) return false;
  if (rev > state.syncedRev) state.seenRevs.add(rev);
  if (apply) advance(state);
  return hasGap(state);
}

/** Revs above syncedRev were seen while one below them was not: a gap (maybe only late). */
export function hasGap(state) {
  return state.seenRevs.size > 0;
}

/** A complete sync (has_more false) returned up to `highest`: every change up to it is seen. */
export function completeSync(state, highest) {
  if (typeof highest === "number" && highest > state.syncedRev) state.syncedRev = highest;
  return advance(state);
}

/**
 * Apply one message by id into `messages` (a Map id -> message): replaced
 * unless the stored copy has a higher rev. Returns true when it was applied.
 */
export function applyById(messages, message) {
  if (!message || typeof message.id !== "number") return false;
  const existing = messages.get(message.id);
  if (existing && typeof existing.rev === "number" && typeof message.rev === "number" && existing.rev > message.rev) {
    return false;
  }
  messages.set(message.id, message);
  return true;
}

/**
 * The paging of one `sync` call over several rooms: `request()` is the
 * payload, `take(ack)` records the messages of one page and returns whether
 * to ask again (has_more), from the highest rev returned per room.
 */
export class SyncRounds {
  /** @param {Map<number, number>|Object} from room id -> syncedRev */
  constructor(from) {
    this.want = {};
    this.highest = {};
    const entries = from instanceof Map ? from.entries() : Object.entries(from);
    for (const [id, rev] of entries) {
      this.want[String(id)] = rev;
      this.highest[String(id)] = rev;
    }
  }

  rooms() {
    return Object.keys(this.want).map(Number);
  }

  request() {
    return { rooms: { ...this.want } };
  }

  /** One page's messages; true when another page must be asked for. */
  take(ack) {
    for (const message of (ack && ack.messages) || []) {
      const key = String(message.room);
      if (key in this.highest && typeof message.rev === "number" && message.rev > this.highest[key]) {
        this.highest[key] = message.rev;
      }
    }
    if (!(ack && ack.has_more)) return false;
    for (const key of Object.keys(this.want)) this.want[key] = Math.max(this.want[key], this.highest[key]);
    return true;
  }

  /** The highest rev returned for a room (its syncedRev before, when nothing came). */
  highestFor(roomId) {
    return this.highest[String(roomId)];
  }
}

/**
 * One `sync` of several rooms, page by page, FROM EACH ROOM'S syncedRev (not
 * the highest rev seen: what was missed lies below that), until has_more is
 * false; then every change up to the highest rev returned is seen
 * (completeSync). The page (chat/main.js) and the fault-injection driver
 * (tests/e2e/node/replica_client.mjs) both run this one.
 * @param call    (event, payload) => Promise<envelope> (lib/rpc.js)
 * @param states  Map room id -> sync state ({syncedRev, seenRevs}, e.g. the page's room cache)
 * @param apply   (message) => void, for every message returned
 * @returns {Promise<{status: "complete"} | {status: "lost"} | {status: "refused", ack}>}
 *          lost: no answer (the next connect syncs again); refused: the server said no
 */
export async function syncRooms(call, states, apply, maxRounds = 100) {
  const from = new Map();
  for (const [id, state] of states) from.set(id, state.syncedRev);
  const rounds = new SyncRounds(from);
  for (let round = 0; round < maxRounds; round += 1) {
    const ack = await call("sync", rounds.request());
    if (isLost(ack)) return { status: "lost" };
    if (!ack || !ack.ok) return { status: "refused", ack };
    for (const message of ack.messages || []) apply(message);
    if (!rounds.take(ack)) break;
  }
  // Complete: every change up to the highest rev returned has been seen.
  for (const [id, state] of states) completeSync(state, rounds.highestFor(id));
  return { status: "complete" };
}
