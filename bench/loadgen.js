#!/usr/bin/env node
/*
 * Switchboard load generator: socket.io-client (the client browsers use),
 * one process, driven by bench/run.py.
 *
 *   node bench/loadgen.js CONFIG.json RESULT.json
 *
 * CONFIG names the server URL, the server's PID (read from /proc to measure
 * its CPU and RSS over exactly the measured windows), the accounts to log in
 * with (POST /api/token; "none" for the bare baselines), and one scenario:
 *
 *   ramp     N clients in one room; a ladder of send rates, each step
 *            measured on its own (fan-out)
 *   rooms    N clients in rooms of G, sending `rate` messages/s in all
 *            (small rooms; polling only with transport "polling")
 *   idle     connect up to each of `levels` idle connections; RSS and connect rate
 *   deflate  the same fixed fan-out load twice: client not offering
 *            permessage-deflate, then offering it as browsers do
 *
 * Latency is measured in this process with one clock: ack = send -> ack
 * callback at the sender; delivery = send -> `message` event at each receiver
 * of the room (the sender's own copy included, as the server sends it).
 * Every load is bounded: rates, counts and durations come from CONFIG, and a
 * watchdog ends the process at `deadline_s` whatever happens.
 */
'use strict';

const fs = require('fs');
const http = require('http');
const { io } = require('socket.io-client');

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const outPath = process.argv[3];
const CLK_TCK = cfg.clk_tck || 100;
const TRANSPORT_DEFAULT = 'websocket';
// Pause after forming rooms, before measuring (join broadcasts settle).
const SETTLE_MS = (cfg.settle_s === undefined ? 0.5 : cfg.settle_s) * 1000;

const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (x, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? x : Number(x.toFixed(d)));

function log(...parts) {
  process.stderr.write(`[loadgen ${cfg.label || ''}] ${parts.join(' ')}\n`);
}

// -- the watchdog: whatever happens, this process ends ----------------------
const watchdog = setTimeout(() => {
  log(`deadline of ${cfg.deadline_s}s reached; giving up`);
  writeResult({ ok: false, error: `generator deadline of ${cfg.deadline_s}s reached` });
  process.exit(3);
}, (cfg.deadline_s || 600) * 1000);
watchdog.unref();

function writeResult(result) {
  fs.writeFileSync(outPath, JSON.stringify(result, null, 1));
}

// -- latency histogram: log buckets of 1 %, 1 us .. ~27 min -------------------
class Hist {
  constructor() {
    this.counts = new Float64Array(2200);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  add(ms) {
    const v = ms < 0.001 ? 0.001 : ms;
    const i = Math.min(this.counts.length - 1, Math.floor(Math.log(v / 0.001) / Math.log(1.01)));
    this.counts[i] += 1;
    this.n += 1;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  quantile(p) {
    if (this.n === 0) return null;
    const target = p * this.n;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.max, 0.001 * Math.pow(1.01, i + 0.5));
    }
    return this.max;
  }

  summary() {
    return {
      count: this.n,
      p50_ms: round(this.quantile(0.5), 3),
      p90_ms: round(this.quantile(0.9), 3),
      p99_ms: round(this.quantile(0.99), 3),
      max_ms: round(this.n ? this.max : null, 3),
      mean_ms: round(this.n ? this.sum / this.n : null, 3),
    };
  }
}

// -- the server process, from /proc -------------------------------------------
function serverTicks() {
  try {
    const stat = fs.readFileSync(`/proc/${cfg.server_pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch (e) {
    return NaN;
  }
}

function serverRssKiB() {
  try {
    const status = fs.readFileSync(`/proc/${cfg.server_pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) : NaN;
  } catch (e) {
    return NaN;
  }
}

/** Busy ticks per core (cpu0, cpu1, ...) from /proc/stat: everything but idle and iowait. */
function coreBusyTicks() {
  try {
    const out = [];
    for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const v = m[2].trim().split(/\s+/).map(Number);
      const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
      out[Number(m[1])] = total - v[3] - v[4];
    }
    return out;
  } catch (e) {
    return [];
  }
}

/**
 * CPU over a window, in % of one core: the server's, this generator's, and
 * what every other process on the machine used (busy time of all cores minus
 * the two of us). The machine may be shared: a window where others used
 * much CPU is flagged in the report instead of silently skewing a figure.
 */
function meter() {
  const t0 = now();
  const s0 = serverTicks();
  const g0 = process.cpuUsage();
  const c0 = coreBusyTicks();
  return () => {
    const seconds = (now() - t0) / 1000;
    const g = process.cpuUsage(g0);
    const c1 = coreBusyTicks();
    const serverPct = ((serverTicks() - s0) / CLK_TCK / seconds) * 100;
    const genPct = ((g.user + g.system) / 1e6 / seconds) * 100;
    let busyPct = 0;
    for (let i = 0; i < c1.length; i++) busyPct += (((c1[i] || 0) - (c0[i] || 0)) / CLK_TCK / seconds) * 100;
    return {
      wall_s: round(seconds, 3),
      server_cpu_pct: round(serverPct, 1),
      gen_cpu_pct: round(genPct, 1),
      other_cpu_pct: round(Math.max(0, busyPct - serverPct - genPct), 1),
      server_rss_kib: serverRssKiB(),
    };
  };
}

// -- logging in -----------------------------------------------------------------
async function fetchTokens(count) {
  if (cfg.auth === 'none') return Array.from({ length: count }, () => 'none');
  const tokens = new Array(count);
  let next = 0;
  const started = now();
  async function worker() {
    while (next < count) {
      const i = next++;
      const username = `${cfg.users.prefix}${String(i + 1).padStart(5, '0')}`;
      const res = await fetch(`${cfg.url}/api/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: cfg.users.password }),
      });
      if (res.status !== 200) throw new Error(`/api/token for ${username}: HTTP ${res.status} ${await res.text()}`);
      tokens[i] = (await res.json()).token;
    }
  }
  await Promise.all(Array.from({ length: Math.min(8, count) }, worker));
  log(`${count} tokens in ${((now() - started) / 1000).toFixed(1)}s`);
  return tokens;
}

// -- connecting -----------------------------------------------------------------
function connectOne(token, opts = {}) {
  const transport = opts.transport || TRANSPORT_DEFAULT;
  const options = {
    transports: [transport],
    auth: { token },
    forceNew: true,
    reconnection: false,
    timeout: 30000,
    // Browsers always offer permessage-deflate; the Node client does too by
    // default ({threshold: 1024}). The main scenarios turn the offer off (see
    // docs/performance.md); the deflate scenario measures both.
    perMessageDeflate: opts.deflate ? { threshold: 1024 } : false,
  };
  if (transport === 'polling') {
    // A browser tab keeps its polling connections alive (GET + POST); the Node
    // client would open a new TCP connection per request without an agent.
    options.agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  }
  return new Promise((resolve, reject) => {
    const socket = io(`${cfg.url}/chat`, options);
    const fail = (err) => {
      socket.close();
      const code = (err && err.data && err.data.code) || (err && err.message) || 'connect_error';
      reject(new Error(String(code)));
    };
    socket.once('connect_error', fail);
    socket.once('connect', () => {
      socket.off('connect_error', fail);
      resolve(socket);
    });
  });
}

/** Connect `count` sockets, `concurrency` at a time; tokens are reused round-robin. */
async function connectMany(count, tokens, opts = {}, into = []) {
  const errors = {};
  let next = 0;
  const concurrency = opts.concurrency || 50;
  async function worker() {
    while (next < count) {
      const i = next++;
      try {
        into.push(await connectOne(tokens[i % tokens.length], opts));
      } catch (e) {
        errors[e.message] = (errors[e.message] || 0) + 1;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return { sockets: into, errors };
}

function ack(socket, event, payload, timeoutMs = 120000) {
  return new Promise((resolve, reject) => {
    socket.timeout(timeoutMs).emit(event, payload, (err, res) => {
      if (err) reject(new Error(`${event}: no ack in ${timeoutMs} ms`));
      else if (!res || !res.ok) reject(new Error(`${event}: ${JSON.stringify(res && res.error)}`));
      else resolve(res);
    });
  });
}

async function pool(items, concurrency, fn) {
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

/**
 * Put clients in rooms of `group`: the first of each group creates a public
 * room (room:create), the others join it (room:join), as PROTOCOL.md asks
 * before anyone may post.
 */
async function formRooms(clients, group, tag) {
  const groups = [];
  for (let i = 0; i < clients.length; i += group) groups.push(clients.slice(i, i + group));
  await pool(groups, 20, async (members, g) => {
    const res = await ack(members[0].socket, 'room:create', { name: `${tag}-${g}`, kind: 'public' });
    for (const m of members) m.room = res.room.id;
  });
  const joiners = groups.flatMap((members) => members.slice(1));
  await pool(joiners, 50, async (m) => {
    await ack(m.socket, 'room:join', { room: m.room });
  });
  return groups.length;
}

// -- sending and receiving --------------------------------------------------------
const TEXT_BASE = 'Quarterly numbers look fine; shipping the release after lunch, ping me if the build breaks';
const RUN_TAG = `${process.pid.toString(36)}${Date.now().toString(36)}`;
let batches = 0;
const sentAt = new Map(); // client_id -> record of a message sent in a measured window
let current = null; // the window being measured

function newWindow(groupSize) {
  return {
    groupSize,
    start: Infinity,
    end: Infinity,
    sent: 0,
    acked: 0,
    acksInWindow: 0,
    pendingAcks: 0,
    errors: {},
    received: 0,
    expected: 0,
    delivered: 0,
    ack: new Hist(),
    delivery: new Hist(),
  };
}

function attachReceiver(client) {
  client.socket.on('message', (m) => {
    const t = now();
    const w = current;
    if (w === null) return;
    if (t >= w.start && t < w.end) w.received += 1;
    const rec = sentAt.get(m.client_id);
    if (rec !== undefined) {
      w.delivery.add(t - rec.t);
      w.delivered += 1;
    }
  });
}

function sendOne(client, w) {
  // Unique per run, batch of clients, client and message: Switchboard refuses a
  // repeated (user, client_id) as a duplicate and would not broadcast it.
  const clientId = `${RUN_TAG}.${client.batch}.${client.index}.${client.seq++}`;
  const t = now();
  const inWindow = t >= w.start && t < w.end;
  if (inWindow) {
    sentAt.set(clientId, { t });
    w.sent += 1;
    w.expected += w.groupSize;
  }
  w.pendingAcks += 1;
  const text = `${TEXT_BASE} #${client.seq}`;
  client.socket.emit('message:send', { room: client.room, text, client_id: clientId }, (res) => {
    const ta = now();
    w.pendingAcks -= 1;
    if (res && res.ok && res.duplicate) {
      w.errors.duplicate = (w.errors.duplicate || 0) + 1;
    } else if (res && res.ok) {
      if (ta >= w.start && ta < w.end) w.acksInWindow += 1;
      if (inWindow) {
        w.acked += 1;
        w.ack.add(ta - t);
      }
    } else {
      const code = (res && res.error && res.error.code) || 'no_reply';
      w.errors[code] = (w.errors[code] || 0) + 1;
    }
  });
}

/**
 * Open-loop load: `rate` messages/s in all, spread round-robin over `senders`
 * (so each sends rate/len(senders) per second) on a fixed schedule that does
 * not wait for acks. Measured over [warmup, warmup + duration]; then waits up
 * to `drain_s` for the window's acks and deliveries.
 */
async function runLoad({ senders, groupSize, rate, warmup_s, duration_s, drain_s }) {
  const w = newWindow(groupSize);
  current = w;
  sentAt.clear();
  const t0 = now();
  w.start = t0 + warmup_s * 1000;
  w.end = w.start + duration_s * 1000;
  let sent = 0;
  let rr = 0;
  let stop = null;
  const maxPending = Math.max(2000, rate * 3);
  let throttled = false;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const t = now();
      if (stop === null && t >= w.start) stop = meter();
      if (t >= w.end) {
        clearInterval(timer);
        resolve();
        return;
      }
      const due = Math.floor(((t - t0) / 1000) * rate) - sent;
      for (let k = 0; k < due; k++) {
        if (w.pendingAcks >= maxPending) {
          throttled = true; // bounded: never more than `maxPending` unanswered messages
          sent += due - k;
          break;
        }
        sendOne(senders[rr], w);
        rr = (rr + 1) % senders.length;
        sent += 1;
      }
    }, 2);
  });
  const usage = stop ? stop() : meter()();
  const drainStart = now();
  while (now() - drainStart < drain_s * 1000 && (w.pendingAcks > 0 || w.delivered < w.expected)) {
    await sleep(20);
  }
  const drained = w.pendingAcks === 0 && w.delivered >= w.expected;
  current = null;
  sentAt.clear();
  return {
    offered_msgs_per_s: rate,
    senders: senders.length,
    group_size: groupSize,
    duration_s,
    sent_msgs_per_s: round(w.sent / duration_s, 1),
    acked_msgs_per_s: round(w.acksInWindow / duration_s, 1),
    deliveries_per_s: round(w.received / duration_s, 1),
    offered_deliveries_per_s: rate * groupSize,
    ack: w.ack.summary(),
    delivery: w.delivery.summary(),
    sent: w.sent,
    acked: w.acked,
    unacked: w.sent - w.acked,
    expected_deliveries: w.expected,
    missing_deliveries: Math.max(0, w.expected - w.delivered),
    drained,
    throttled,
    errors: w.errors,
    ...usage,
  };
}

// -- scenarios ---------------------------------------------------------------------
async function makeClients(count, { transport, deflate, concurrency } = {}) {
  const tokens = await fetchTokens(Math.min(count, cfg.users.count));
  const started = now();
  const { sockets, errors } = await connectMany(count, tokens, { transport, deflate, concurrency });
  if (sockets.length < count) {
    throw new Error(`only ${sockets.length}/${count} clients connected: ${JSON.stringify(errors)}`);
  }
  log(`${count} ${transport || TRANSPORT_DEFAULT} clients connected in ${((now() - started) / 1000).toFixed(1)}s`);
  const batch = batches++;
  return sockets.map((socket, index) => ({ socket, index, batch, seq: 0, room: null }));
}

function closeAll(clients) {
  for (const c of clients) c.socket.close();
}

/** Fan-out: N clients in one room; step up the send rate until ack p99 passes `stop_p99_ms`. */
async function scenarioRamp(p) {
  const clients = await makeClients(p.clients);
  await formRooms(clients, clients.length, `fanout-${RUN_TAG}`);
  clients.forEach(attachReceiver);
  await sleep(SETTLE_MS);
  const steps = [];
  for (const rate of p.rates) {
    const senderCount = Math.min(clients.length, Math.max(1, Math.ceil(rate / p.per_sender_rate)));
    const step = await runLoad({
      senders: clients.slice(0, senderCount), groupSize: clients.length, rate,
      warmup_s: p.warmup_s, duration_s: p.step_s, drain_s: p.drain_s,
    });
    steps.push(step);
    log(`rate ${rate}/s x ${clients.length}: ${step.deliveries_per_s} deliveries/s, ack p99 ${step.ack.p99_ms} ms, ` +
        `delivery p99 ${step.delivery.p99_ms} ms, server ${step.server_cpu_pct}% gen ${step.gen_cpu_pct}%`);
    const p99 = step.ack.p99_ms;
    if (p99 === null || p99 > p.stop_p99_ms || !step.drained) break;
    await sleep(p.pause_s * 1000);
  }
  closeAll(clients);
  return { steps };
}

/** Rooms of G, everyone sending: small rooms (websocket) and polling only. */
async function scenarioRooms(p) {
  const clients = await makeClients(p.clients, { transport: p.transport });
  const rooms = await formRooms(clients, p.group, `rooms-${p.transport}-${RUN_TAG}`);
  clients.forEach(attachReceiver);
  await sleep(SETTLE_MS);
  const result = await runLoad({
    senders: clients, groupSize: p.group, rate: p.rate,
    warmup_s: p.warmup_s, duration_s: p.duration_s, drain_s: p.drain_s,
  });
  closeAll(clients);
  return { rooms, transport: p.transport, ...result };
}

/** Idle connections: RSS per connection and connect rate at each level. */
async function scenarioIdle(p) {
  const tokens = await fetchTokens(Math.min(cfg.users.count, Math.ceil(p.levels[p.levels.length - 1] / p.per_user)));
  // Warm the server up with one connection (first-connect imports, background
  // task), close it, and take the RSS base line after that.
  const warm = await connectOne(tokens[0]);
  await sleep(300);
  warm.close();
  await sleep(p.settle_s * 1000);
  const baseRss = serverRssKiB();
  const sockets = [];
  const levels = [];
  let offset = 0;
  for (const level of p.levels) {
    const add = level - sockets.length;
    const stop = meter();
    const started = now();
    const rotated = tokens.slice(offset % tokens.length).concat(tokens.slice(0, offset % tokens.length));
    const { errors } = await connectMany(add, rotated, { concurrency: p.concurrency }, sockets);
    const seconds = (now() - started) / 1000;
    const usage = stop();
    offset += add;
    await sleep(p.settle_s * 1000);
    const rss = serverRssKiB();
    const entry = {
      level,
      connected: sockets.length,
      connect_errors: errors,
      connect_seconds: round(seconds, 2),
      connects_per_s: round(add / seconds, 1),
      server_cpu_pct_connecting: usage.server_cpu_pct,
      gen_cpu_pct: usage.gen_cpu_pct,
      other_cpu_pct: usage.other_cpu_pct,
      base_rss_kib: baseRss,
      rss_kib: rss,
      rss_per_connection_kib: round((rss - baseRss) / Math.max(1, sockets.length), 2),
    };
    levels.push(entry);
    log(`${sockets.length} idle: ${entry.connects_per_s} connects/s, ` +
        `${entry.rss_per_connection_kib} KiB each (RSS ${rss} KiB, base ${baseRss} KiB)`);
    if (sockets.length < level) break;
  }
  for (const s of sockets) s.close();
  return { levels };
}

/** The same fixed fan-out load with and without permessage-deflate offered. */
async function scenarioDeflate(p) {
  const variants = {};
  for (const offer of [false, true]) {
    const clients = await makeClients(p.clients, { deflate: offer });
    await formRooms(clients, clients.length, `deflate-${offer}-${RUN_TAG}`);
    clients.forEach(attachReceiver);
    const ext = clients[0].socket.io.engine.transport.ws;
    const negotiated = Boolean(ext && ext.extensions && ext.extensions.includes('permessage-deflate'));
    await sleep(SETTLE_MS);
    const r = await runLoad({
      senders: clients, groupSize: clients.length, rate: p.rate,
      warmup_s: p.warmup_s, duration_s: p.duration_s, drain_s: p.drain_s,
    });
    closeAll(clients);
    const perDelivery = r.deliveries_per_s > 0 ? ((r.server_cpu_pct / 100) * 1e6) / r.deliveries_per_s : null;
    variants[offer ? 'offered' : 'not_offered'] = {
      negotiated,
      server_cpu_us_per_delivery: round(perDelivery, 3),
      ...r,
    };
    log(`deflate ${offer ? 'offered' : 'not offered'} (negotiated: ${negotiated}): ` +
        `${r.deliveries_per_s} deliveries/s, server ${r.server_cpu_pct}%, ack p99 ${r.ack.p99_ms} ms`);
    await sleep(SETTLE_MS);
  }
  return variants;
}

const SCENARIOS = { ramp: scenarioRamp, rooms: scenarioRooms, idle: scenarioIdle, deflate: scenarioDeflate };

async function main() {
  const fn = SCENARIOS[cfg.scenario];
  if (!fn) throw new Error(`unknown scenario ${cfg.scenario}`);
  const started = now();
  const gen0 = process.cpuUsage();
  const result = await fn(cfg.params);
  const g = process.cpuUsage(gen0);
  writeResult({
    ok: true,
    scenario: cfg.scenario,
    elapsed_s: round((now() - started) / 1000, 2),
    gen_cpu_total_s: round((g.user + g.system) / 1e6, 2),
    node: process.version,
    client: `socket.io-client ${require('socket.io-client/package.json').version}`,
    result,
  });
}

main().then(
  () => process.exit(0),
  (err) => {
    log(`failed: ${err && err.stack ? err.stack : err}`);
    writeResult({ ok: false, error: String(err && err.message ? err.message : err) });
    process.exit(1);
  },
);
