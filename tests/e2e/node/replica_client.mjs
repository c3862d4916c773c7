// A chat client for the fault-injection tests that runs the page's own
// delivery code: static/js/chat/sync.js (rev/gap bookkeeping, sync paging)
// and static/js/chat/outbox.js (the queue and the sending loop, client_id
// retries), over socket.io-client under Node, the library the page uses.
//
// What the page adds around those modules (chat/main.js: the connect handler;
// chat/messages.js: applying events, the gap timer; chat/composer.js: the
// outbox hooks) is repeated here in a few lines each, and only that: on
// every connect, pump the outbox, then join the room and sync it (the first
// connect loads its history instead); live `message`, `message:edited`,
// `message:deleted` are applied by id and their rev noted; a gap still open
// after GAP_WAIT_MS is synced; a stored message that arrives by any path
// settles its outbox entry; edits and deletes are retried until answered,
// as a person would retry them. lib/connection.js is not used (it needs a
// window): its two retries (a refused connect, a close by the server) are
// repeated below.
//
// Usage: node replica_client.mjs '<json config>'
//   config: {
//     url:         "http://127.0.0.1:PORT"   (through the chaos proxy or nginx)
//     origin:      what a page served by the app sends as Origin (default: url)
//     cookie:      "session=...; sbnode=node1" (the session cookie, as the page
//                  authenticates) or token: "<from POST /api/token>"
//     name:        the username (its own messages settle its outbox entries)
//     room:        the room id to keep (public: joined on the first connect)
//     transports:  ["websocket"] | ["polling"] | ["polling", "websocket"]
//     messages:    how many to send after "start"; burst: how many are typed
//                  at once (queued together); pace_ms: pause between bursts
//     edit: [indexes], delete: [indexes]: of the messages sent, done once stored
//     reconnection_delay_ms, reconnection_delay_max_ms: socket.io-client's
//     timeout_ms:  hard limit for the whole run (exit 2 when reached)
//   }
// stdin, one command a line: "start" (send the workload), "state" (print the
// state now), "quit" (disconnect, exit 0).
// stdout, one JSON object a line, each with "event":
//   ready {room, synced_rev}             the room is loaded (first connect)
//   connect {n, transport}, disconnect {reason}, connect_error {message, data}
//   stored {index, client_id, id, seq}   an outbox entry settled as stored
//   edited {index, id}, deleted {index, id}
//   done {}                              every message stored, every edit and delete answered
//   state {messages: [[id, seq, rev, text, deleted, client_id], ...] in seq order,
//          synced_rev, gap, pending, transport, and counts: connects, syncs,
//          gap_syncs, live (events), resends (same client_id again), duplicate_acks}
//   error {stage, error}                 then exit 1 (2: timed out, 3: no socket.io-client)
//
// socket.io-client is resolved from the repository root (node_modules there,
// installed by `npm ci`), not from this directory.
import { createRequire } from "node:module";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { roomSync, noteRev, hasGap, advance, applyById, syncRooms } from "../../../static/js/chat/sync.js";
import { Queue, createSender, SEND_TIMEOUT_MS } from "../../../static/js/chat/outbox.js";
import { caller, isLost } from "../../../static/js/lib/rpc.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.SWITCHBOARD_ROOT || path.resolve(here, "..", "..", "..");

const GAP_WAIT_MS = 600; // as chat/messages.js: a gap may only be late
const PAGE_SIZE = 100;
const CALL_TIMEOUT_MS = 10000;

let stage = "start";
let socket = null;

function out(event, fields = {}) {
  process.stdout.write(JSON.stringify({ event, ...fields }) + "\n");
}

function exit(code) {
  try {
    if (socket) socket.disconnect();
  } catch (_) {
    // exiting anyway
  }
  // Let stdout drain before the process ends.
  process.stdout.write("", () => process.exit(code));
}

function fail(error, code = 1) {
  out("error", { stage, error: String(error && error.stack ? error.stack : error) });
  exit(code);
}

let config;
try {
  config = JSON.parse(process.argv[2] || "");
} catch (err) {
  fail(`the first argument must be the JSON config: ${err}`);
}

setTimeout(() => fail(`timed out after ${config.timeout_ms} ms`, 2), config.timeout_ms || 60000).unref();

let io;
try {
  const require = createRequire(path.join(root, "package.json"));
  ({ io } = require("socket.io-client"));
} catch (err) {
  fail(`socket.io-client is not installed under ${root}/node_modules (run npm ci): ${err}`, 3);
}

const roomId = config.room;
const headers = { Origin: config.origin || config.url };
// The session cookie, as the page authenticates; and nginx's sticky cookie.
if (config.cookie) headers.Cookie = config.cookie;

socket = io(`${config.url}/chat`, {
  transports: config.transports,
  auth: config.token ? { token: config.token } : undefined,
  forceNew: true,
  reconnection: true,
  reconnectionDelay: config.reconnection_delay_ms ?? 500,
  reconnectionDelayMax: config.reconnection_delay_max_ms ?? 5000,
  timeout: 10000,
  // Node sends no Origin or Cookie by itself; a page does, on both transports.
  extraHeaders: headers,
});
const call = caller(socket, CALL_TIMEOUT_MS);

// ---------------------------------------------------------------------------
// The room: messages by id and the sync state of chat/sync.js
// ---------------------------------------------------------------------------
const messages = new Map();
const state = roomSync(0);
let loaded = false;
let joinRev = 0;
let syncing = 0;
let gapTimer = null;
const counts = { connects: 0, syncs: 0, gap_syncs: 0, live: 0, resends: 0, duplicate_acks: 0 };

function apply(message) {
  if (!message || message.room !== roomId) return;
  settleFor(message);
  applyById(messages, message);
}

function onLive(message) {
  if (!message || typeof message.room !== "number" || message.room !== roomId) return;
  counts.live += 1;
  apply(message);
  // While history is loading only note it: syncedRev starts at the join rev.
  noteRev(state, message.rev, loaded);
  if (loaded) checkGap();
}
for (const event of ["message", "message:edited", "message:deleted"]) socket.on(event, onLive);

function checkGap() {
  if (!loaded || !hasGap(state) || gapTimer || syncing) return;
  gapTimer = setTimeout(() => {
    gapTimer = null;
    if (!hasGap(state) || syncing) return;
    if (socket.connected) {
      counts.gap_syncs += 1;
      syncRoom();
    }
  }, GAP_WAIT_MS);
}

async function syncRoom() {
  if (!loaded) return;
  syncing += 1;
  counts.syncs += 1;
  let outcome;
  try {
    outcome = await syncRooms(call, new Map([[roomId, state]]), apply);
  } finally {
    syncing -= 1;
  }
  if (outcome.status === "refused") fail(`sync refused: ${JSON.stringify(outcome.ack)}`);
  if (outcome.status === "complete") checkGap();
}

async function join() {
  const ack = await call("room:join", { room: roomId });
  if (!ack.ok) {
    if (!isLost(ack)) fail(`room:join refused: ${JSON.stringify(ack)}`);
    return false;
  }
  if (!loaded && ack.room && typeof ack.room.last_rev === "number") joinRev = ack.room.last_rev;
  return true;
}

/** The first load: join, then the history, every page of it (the page scrolls up for older ones). */
async function openRoom() {
  if (!(await join())) return;
  let ack = await call("history", { room: roomId, limit: PAGE_SIZE });
  const pages = [];
  while (ack.ok) {
    pages.push(ack);
    if (!ack.has_more || !ack.messages.length) break;
    ack = await call("history", { room: roomId, before_seq: ack.messages[0].seq, limit: PAGE_SIZE });
  }
  if (!ack.ok) {
    if (!isLost(ack)) fail(`history refused: ${JSON.stringify(ack)}`);
    return; // the next connect loads it
  }
  if (loaded) return;
  // History was read after room:join answered: every change up to the
  // room's rev at join time is in it; later ones come live.
  state.syncedRev = Math.max(state.syncedRev, joinRev);
  for (const page of pages) for (const m of page.messages) apply(m);
  loaded = true;
  advance(state);
  checkGap();
  out("ready", { room: roomId, synced_rev: state.syncedRev });
}

// ---------------------------------------------------------------------------
// The outbox of chat/outbox.js
// ---------------------------------------------------------------------------
const queue = new Queue();
const settled = new Map(); // client_id -> stored message
const waiting = new Map(); // client_id -> resolve
const indexOf = new Map(); // client_id -> index typed
const sentOnce = new Set(); // client_ids sent at least once

function settle(entry, message) {
  queue.settle(entry.clientId);
  if (settled.has(entry.clientId)) return;
  settled.set(entry.clientId, message);
  out("stored", { index: indexOf.get(entry.clientId), client_id: entry.clientId, id: message.id, seq: message.seq });
  const resolve = waiting.get(entry.clientId);
  waiting.delete(entry.clientId);
  if (resolve) resolve(message);
}

/** A stored message of ours arrived (ack, live event, sync): its entry is done (as chat/composer.js). */
function settleFor(message) {
  if (!message.client_id || !message.author || message.author.username !== config.name) return;
  const entry = queue.entries.get(message.client_id);
  if (entry) settle(entry, message);
}

const sender = createSender({
  queue,
  connected: () => socket.connected,
  emit: (payload, answer) => {
    // Counted only (the figures say the retry path was taken): what to do is the module's.
    if (sentOnce.has(payload.client_id)) counts.resends += 1;
    sentOnce.add(payload.client_id);
    socket.timeout(SEND_TIMEOUT_MS).emit("message:send", payload, (err, ack) => {
      if (!err && ack && ack.duplicate) counts.duplicate_acks += 1;
      answer(err, ack);
    });
  },
  join: (room) => call("room:join", { room }),
  publicRoom: (room) => room === roomId,
  stored: (entry, message) => {
    settle(entry, message);
    apply(message);
  },
  failed: (entry, reason) => fail(`message ${entry.clientId} refused for good: ${reason}`),
});

// ---------------------------------------------------------------------------
// The connection
// ---------------------------------------------------------------------------
let connectedWaiters = [];

function whenConnected() {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve) => connectedWaiters.push(resolve));
}

socket.on("connect", async () => {
  counts.connects += 1;
  out("connect", { n: counts.connects, transport: socket.io.engine.transport.name });
  const waiters = connectedWaiters;
  connectedWaiters = [];
  for (const resolve of waiters) resolve();
  sender.pump(); // unsent messages go first; their client_id makes resending safe
  stage = "connect";
  if (!loaded) {
    await openRoom();
  } else if (await join()) {
    await syncRoom();
  }
});

socket.on("disconnect", (reason) => {
  out("disconnect", { reason });
  // Whatever was in flight gets no answer now: the next connect sends it again.
  queue.lost();
  // A close by the server itself is not retried by socket.io-client (lib/connection.js retries it).
  if (reason === "io server disconnect") setTimeout(() => socket.connect(), 500);
});

socket.on("connect_error", (err) => {
  const data = (err && err.data) || {};
  out("connect_error", { message: String((err && err.message) || ""), data });
  if (data.code === "unauthorized") fail(`refused: ${JSON.stringify(data)}`);
  // A refusal (not a network error) is not retried by socket.io-client: as lib/connection.js.
  if (!socket.active) setTimeout(() => socket.connect(), 1000 * Math.max(1, Number(data.retry_after) || 1));
});

// ---------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------
/** An edit or delete, retried until answered (after reconnects too). */
async function untilAnswered(event, payload, doneCodes = []) {
  for (;;) {
    await whenConnected();
    const ack = await call(event, payload);
    if (ack.ok || doneCodes.includes(ack.error.code)) return ack;
    if (isLost(ack)) continue;
    if (ack.error.code === "rate_limited") {
      await new Promise((r) => setTimeout(r, 1000 * Math.max(1, Number(ack.error.retry_after) || 1)));
      continue;
    }
    throw new Error(`${event} refused: ${JSON.stringify(ack)}`);
  }
}

function typed(index) {
  const clientId = `${config.name}-${index}`;
  indexOf.set(clientId, index);
  const entry = { clientId, room: roomId, roomName: "", text: `${config.name} #${index}`, ts: new Date().toISOString() };
  const stored = new Promise((resolve) => waiting.set(clientId, resolve));
  queue.add(entry);
  return stored;
}

async function work() {
  stage = "work";
  const total = config.messages || 0;
  const burst = Math.max(1, config.burst || 1);
  const edits = new Set(config.edit || []);
  const deletes = new Set(config.delete || []);
  for (let first = 0; first < total; first += burst) {
    const indexes = [];
    for (let i = first; i < Math.min(total, first + burst); i += 1) indexes.push(i);
    const stored = indexes.map(typed);
    sender.pump();
    const done = await Promise.all(stored);
    for (const [k, index] of indexes.entries()) {
      const message = done[k];
      if (edits.has(index)) {
        const ack = await untilAnswered("message:edit", { id: message.id, text: `${message.text} (edited)` });
        apply(ack.message);
        out("edited", { index, id: message.id });
      }
      if (deletes.has(index)) {
        // A retried delete of an already deleted message answers not_found: done.
        await untilAnswered("message:delete", { id: message.id }, ["not_found"]);
        out("deleted", { index, id: message.id });
      }
    }
    if (config.pace_ms) await new Promise((r) => setTimeout(r, config.pace_ms));
  }
  out("done", {});
}

function report() {
  const list = Array.from(messages.values()).sort((a, b) => a.seq - b.seq);
  out("state", {
    messages: list.map((m) => [m.id, m.seq, m.rev, m.text, !!m.deleted, m.client_id || null]),
    synced_rev: state.syncedRev,
    gap: hasGap(state),
    pending: queue.size,
    transport: socket.connected ? socket.io.engine.transport.name : null,
    ...counts,
  });
}

let started = false;
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim();
  if (command === "start" && !started) {
    started = true;
    work().catch((err) => fail(err));
  } else if (command === "state") {
    report();
  } else if (command === "quit") {
    exit(0);
  } else if (command) {
    fail(`unknown command ${JSON.stringify(command)}`);
  }
}).on("close", () => exit(0));
