// A /chat client on socket.io-client under Node: the library the browser pages use.
//
// Usage: node chat_client.mjs '<json config>'
//   config: {
//     url:         "http://127.0.0.1:PORT",
//     token:       "<from POST /api/token>",
//     transports:  ["websocket"] | ["polling"] | ["polling", "websocket"],
//     mode:        "chat" (default) | "refused",
//     room:        "general",                  // chat: the room to join, by name
//     text:        "...", client_id: "...",    // chat: the message to send
//     expect_text: "...", expect_author: "...", // chat: the message to wait for
//     expect_upgrade: false,                   // chat: wait until upgraded to websocket
//     insecure_tls: false,                     // https://: accept a self-signed certificate
//     timeout_ms:  15000
//   }
// Prints one JSON object on stdout: {"ok": true, ...results} and exits 0, or
// {"ok": false, "stage", "error", ...} and exits non-zero (1: failed, 2: timed
// out, 3: socket.io-client is not installed).
//
// socket.io-client is resolved from the repository root (node_modules there,
// installed by `npm ci`, which `make setup` runs), not from this directory.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.SWITCHBOARD_ROOT || path.resolve(here, "..", "..", "..");

let stage = "start";
let socket = null;

function finish(code, result) {
  process.stdout.write(JSON.stringify(result) + "\n");
  try {
    if (socket) socket.disconnect();
  } catch (_) {
    // exiting anyway
  }
  process.exit(code);
}

function fail(error, extra = {}, code = 1) {
  finish(code, { ok: false, stage, error: String(error), ...extra });
}

let config;
try {
  config = JSON.parse(process.argv[2] || "");
} catch (err) {
  fail(`the first argument must be the JSON config: ${err}`);
}

const timeoutMs = config.timeout_ms || 15000;
// Hard limit: whatever hangs, the process ends and says where it was.
setTimeout(() => fail(`timed out after ${timeoutMs} ms`, {}, 2), timeoutMs);

let io;
try {
  const require = createRequire(path.join(root, "package.json"));
  ({ io } = require("socket.io-client"));
} catch (err) {
  fail(`socket.io-client is not installed under ${root}/node_modules (run npm ci): ${err}`, {}, 3);
}

function call(event, payload) {
  return socket.timeout(10000).emitWithAck(event, payload);
}

async function main() {
  stage = "connect";
  socket = io(`${config.url}/chat`, {
    transports: config.transports,
    auth: { token: config.token },
    reconnection: false,
    forceNew: true,
    timeout: 10000,
    // What a page served by the app sends (Node does not add it by itself).
    extraHeaders: { Origin: config.url },
    rejectUnauthorized: !config.insecure_tls,
  });

  const received = [];
  const errors = [];
  let expected = null;
  let onExpected = null;
  socket.on("message", (msg) => {
    received.push(msg);
    if (msg && msg.text === config.expect_text && msg.author &&
        msg.author.username === config.expect_author) {
      expected = msg;
      if (onExpected) onExpected(msg);
    }
  });
  socket.on("error", (err) => errors.push(err));

  const outcome = await new Promise((resolve) => {
    socket.once("connect", () => resolve({ connected: true }));
    socket.once("connect_error", (err) =>
      resolve({ connected: false, message: err.message, data: err.data ?? null }));
  });

  if (config.mode === "refused") {
    if (outcome.connected) fail("connected although the token is not valid");
    finish(0, { ok: true, refused: true, connect_error: outcome });
  }
  if (!outcome.connected) fail("connection refused", { connect_error: outcome });

  stage = "rooms:list";
  const rooms = await call("rooms:list", {});
  if (!rooms || rooms.ok !== true) fail("rooms:list failed", { ack: rooms });
  const room = rooms.rooms.find((r) => r.name === config.room);
  if (!room) fail(`no room named ${config.room}`, { ack: rooms });

  stage = "room:join";
  const joined = await call("room:join", { room: room.id });
  if (!joined || joined.ok !== true) fail("room:join failed", { ack: joined });

  stage = "message:send";
  const sent = await call("message:send", {
    room: room.id, text: config.text, client_id: config.client_id,
  });
  if (!sent || sent.ok !== true) fail("message:send failed", { ack: sent });

  stage = "wait for the python client's message";
  const reply = expected || await new Promise((resolve) => { onExpected = resolve; });

  if (config.expect_upgrade && socket.io.engine.transport.name !== "websocket") {
    stage = "wait for the upgrade to websocket";
    await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
  }

  finish(0, {
    ok: true,
    transport: socket.io.engine.transport.name,
    room: room.id,
    joined,
    sent,
    received: reply,
    own_echo: received.find((m) => m.client_id === config.client_id) || null,
    errors,
  });
}

main().catch((err) => fail(err && err.stack ? err.stack : err));
