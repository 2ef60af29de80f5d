// The clients of the reconnect-storm benchmark (bench/reconnect_storm.py): thousands of official
// socket.io-client sockets in one Node process that come back after their server restarts exactly as
// the SPA does — its backoff, its answer to `going_away` and to a paced refusal, all imported from
// frontend/src/services/reconnect.js — and that record every durable event they receive.
// Driven by one JSON command per stdin line, one JSON answer per stdout line:
//
//   {"cmd": "open", "url": "...", "clients": [{"auth": {...}}], "concurrency": 100, "timeout_ms": N,
//    "backoff_max_ms": N (optional: another cap than the SPA's, for a comparison run)}
//       connect every client (each keeps reconnecting by itself from then on); when all are connected
//   {"cmd": "mark"}          start of a restart: later disconnects and reconnects are timed from here
//   {"cmd": "wait", "timeout_ms": N}   until every client has been dropped and is connected again
//   {"cmd": "events"}        every client's durable events [notification_id, seq, replayed, ms since mark]
//   {"cmd": "quit"}
//
// An AssetFlow client's auth is {token, last_seq}: like the SPA it reconnects with the highest seq it
// applied. A hard limit (argv[2] seconds, default 900) ends the process whatever happens.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";
import { BACKOFF, goingAwayBackoff, jitteredDelay, pacedDelay } from "../../frontend/src/services/reconnect.js";

const HARD_LIMIT_S = Number(process.argv[2] || 900);
setTimeout(() => { say({ error: "hard time limit" }); process.exit(3); }, HARD_LIMIT_S * 1000).unref();
const DURABLE = ["approval_update", "approval_reminder", "request_comment"];
const now = () => performance.now();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

let clients = [];
let markedAt = null;
// The SPA's backoff, unless a comparison run asks for another cap ("backoff_max_ms" of the first open).
const backoff = { ...BACKOFF };

class Client {
  constructor(url, auth) {
    this.auth = { ...auth };
    this.events = [];
    this.connectedAt = null;
    this.droppedAt = null; // first disconnect after the mark
    this.backAt = null; // first connect after that disconnect
    this.counts = { connects: 0, refused_paced: 0, refused_other: 0, transport_errors: 0, going_away: 0 };
    this.movingAway = false;
    this.socket = io(url, {
      transports: ["websocket"], autoConnect: false, ...backoff,
      // As the SPA: the current last_seq on every attempt.
      auth: (cb) => cb(this.auth),
    });
    this.socket.on("connect", () => this.onConnect());
    this.socket.on("disconnect", () => {
      if (markedAt !== null && this.droppedAt === null) this.droppedAt = now();
    });
    this.socket.on("connect_error", (err) => this.onConnectError(err));
    this.socket.on("going_away", (payload) => {
      // frontend/src/services/socket.js onGoingAway
      this.counts.going_away += 1;
      this.movingAway = true;
      const { reconnectionDelay, randomizationFactor } = goingAwayBackoff(payload);
      this.socket.io.reconnectionDelay(reconnectionDelay);
      this.socket.io.randomizationFactor(randomizationFactor);
    });
    for (const name of DURABLE) this.socket.on(name, (event) => this.receive(event));
    this.manualRetries = 0;
  }

  onConnect() {
    this.counts.connects += 1;
    this.manualRetries = 0;
    this.connectedAt = now();
    if (this.movingAway) {
      this.movingAway = false;
      this.socket.io.reconnectionDelay(backoff.reconnectionDelay);
      this.socket.io.randomizationFactor(backoff.randomizationFactor);
    }
    if (markedAt !== null && this.droppedAt !== null && this.backAt === null) this.backAt = this.connectedAt;
    if (this.onceConnected) this.onceConnected();
  }

  onConnectError(err) {
    // frontend/src/services/socket.js onConnectError, less the token refresh (bench tokens outlive the run).
    const paced = pacedDelay(err);
    if (paced !== null) {
      this.counts.refused_paced += 1;
      setTimeout(() => this.socket.connect(), paced);
      return;
    }
    if (this.socket.active) { this.counts.transport_errors += 1; return; } // socket.io-client retries itself
    this.counts.refused_other += 1;
    setTimeout(() => this.socket.connect(), jitteredDelay(this.manualRetries++));
  }

  receive(event) {
    const at = markedAt === null ? 0 : now() - markedAt;
    this.events.push([event.notification_id, event.seq, Boolean(event.replayed), Math.round(at)]);
    if (typeof event.seq === "number" && event.seq > (this.auth.last_seq ?? 0)) this.auth.last_seq = event.seq;
  }

  connect(timeoutMs) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.onceConnected = null; resolve(false); }, timeoutMs);
      this.onceConnected = () => { clearTimeout(timer); this.onceConnected = null; resolve(true); };
      this.socket.connect();
    });
  }
}

async function open({ url, clients: specs, concurrency = 100, timeout_ms: timeoutMs = 60000, backoff_max_ms: max }) {
  if (max) backoff.reconnectionDelayMax = max;
  const started = now();
  const mine = specs.map((spec) => new Client(url, spec.auth));
  clients = clients.concat(mine);
  let next = 0;
  let opened = 0;
  async function worker() {
    while (next < mine.length) {
      const client = mine[next++];
      if (await client.connect(timeoutMs)) opened += 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, mine.length) }, worker));
  const wall = (now() - started) / 1000;
  return { opened, failed: mine.length - opened, wall_s: wall, connects_per_s: opened / wall };
}

function mark() {
  markedAt = now();
  for (const client of clients) {
    client.droppedAt = null;
    client.backAt = null;
    client.counts = Object.fromEntries(Object.keys(client.counts).map((k) => [k, 0]));
  }
  return { clients: clients.length };
}

async function wait({ timeout_ms: timeoutMs = 60000 }) {
  const deadline = now() + timeoutMs;
  const pending = () => clients.some((c) => c.backAt === null);
  while (pending() && now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const rel = (t) => (t === null ? null : Math.round((t - markedAt) * 10) / 10);
  const counts = {};
  for (const client of clients) for (const [k, v] of Object.entries(client.counts)) counts[k] = (counts[k] || 0) + v;
  return { clients: clients.length, back: clients.filter((c) => c.backAt !== null).length,
           connected: clients.filter((c) => c.socket.connected).length, counts,
           dropped_ms: clients.map((c) => rel(c.droppedAt)), back_ms: clients.map((c) => rel(c.backAt)) };
}

function events() {
  return { events: clients.map((c) => c.events) };
}

const commands = { open, mark, wait, events };
const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    const message = JSON.parse(line);
    if (message.cmd === "quit") {
      for (const client of clients) { client.socket.io.reconnection(false); client.socket.close(); }
      say({ ok: true });
      setTimeout(() => process.exit(0), 100);
      return;
    }
    try {
      say({ ok: true, ...(await commands[message.cmd](message)) });
    } catch (error) {
      say({ ok: false, error: String(error && error.stack || error) });
    }
  });
});
lines.on("close", () => process.exit(0));
