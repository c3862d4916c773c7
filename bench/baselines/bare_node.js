#!/usr/bin/env node
/*
 * Baseline: a bare Node socket.io 4.x server doing Switchboard's broadcast
 * and nothing else: no auth, no validation, no storage.
 *
 * Same namespace (/chat), event names and ack shapes as Switchboard
 * (PROTOCOL.md section 4) so one load generator drives all servers:
 *   room:create {name, kind}         -> {ok, room}
 *   room:join   {room}               -> {ok, room, online: []}
 *   message:send {room, text, client_id} -> {ok, message}; `message` to the room
 * The broadcast payload has Switchboard's Message shape, so frames are the
 * same size. GET /healthz answers 200 for the harness's readiness check.
 *
 * Usage: node bench/baselines/bare_node.js --port 5001 [--host 127.0.0.1]
 * socket.io's own defaults are kept (perMessageDeflate off, TCP_NODELAY on).
 */
'use strict';

const http = require('http');
const { Server } = require('socket.io');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '5001'));

const httpServer = http.createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"ok"}');
    return;
  }
  res.writeHead(404);
  res.end();
});

const io = new Server(httpServer, { cors: { origin: '*' } });
const chat = io.of('/chat');

let nextRoom = 1;
let nextMessage = 1;
const lastSeq = new Map();
const AUTHOR = { id: 0, username: 'anonymous' };

function roomView(id, name) {
  return { id, name: name || `room ${id}`, kind: 'public', last_seq: lastSeq.get(id) || 0, unread: 0 };
}

chat.on('connection', (socket) => {
  socket.on('room:create', (data, ack) => {
    const id = nextRoom++;
    lastSeq.set(id, 0);
    socket.join(`room:${id}`);
    if (typeof ack === 'function') ack({ ok: true, room: roomView(id, data && data.name) });
  });

  socket.on('room:join', (data, ack) => {
    const id = data && data.room;
    socket.join(`room:${id}`);
    if (typeof ack === 'function') ack({ ok: true, room: roomView(id), online: [] });
  });

  socket.on('message:send', (data, ack) => {
    const room = data && data.room;
    const seq = (lastSeq.get(room) || 0) + 1;
    lastSeq.set(room, seq);
    const message = {
      id: nextMessage++,
      room,
      seq,
      rev: seq,
      author: AUTHOR,
      text: data && data.text,
      ts: new Date().toISOString(),
      client_id: data && data.client_id,
      edited_ts: null,
      deleted: false,
    };
    // Broadcast first, then ack: the order Switchboard uses.
    chat.to(`room:${room}`).emit('message', message);
    if (typeof ack === 'function') ack({ ok: true, message });
  });
});

httpServer.listen(port, host, () => {
  process.stderr.write(`bare_node: socket.io ${require('socket.io/package.json').version} on http://${host}:${port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0));
}
