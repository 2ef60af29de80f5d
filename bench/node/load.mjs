// Load generator of the scale benchmark: thousands of official socket.io-client sockets in one
// Node process (WebSocket transport only), plus the HTTP calls whose pushes they time.
// Driven by bench/scale.py: one JSON command per stdin line, one JSON answer per stdout line.
//
//   {"cmd": "open", "group": "g", "urls": [...], "auths": [{...}, ...], "concurrency": 100}
//   {"cmd": "push", "jobs": [{url, method, headers, body, watch: {group, index, key}}],
//    "rate": 100 | null, "concurrency": 8, "timeout_ms": 10000}
//   {"cmd": "fanout", "job": {...}, "group": "dash", "key": "...", "timeout_ms": 10000}
//   {"cmd": "count", "group": "g"}       sockets of the group still connected
//   {"cmd": "close", "group": "g"}
//   {"cmd": "quit"}
//
// Every event is keyed `${event}|${request_id}|${status or state}`; the first arrival time and
// the number of arrivals are kept per socket and key, so misses and duplicates are counted.
// A hard limit (argv[2] seconds, default 900) ends the process whatever happens.
import { createInterface } from "node:readline";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { io } from "socket.io-client";
import { Agent, fetch } from "undici";

const HARD_LIMIT_S = Number(process.argv[2] || 900);
setTimeout(() => { say({ error: "hard time limit" }); process.exit(3); }, HARD_LIMIT_S * 1000).unref();

// gunicorn closes a kept-alive connection after 2 s idle (gunicorn.conf.py's keepalive), and a call sent on it
// as it closes is reset (ECONNRESET). A busy worker's timer can fire late, with the call already unread in the
// connection, so idle here is shorter (1 s) and each command starts on new connections (fresh()).
const newAgent = () => new Agent({ keepAliveTimeout: 1000, keepAliveMaxTimeout: 1000 });
let dispatcher = newAgent();

async function fresh() {
  const old = dispatcher;
  dispatcher = newAgent();
  await old.close();
}

const groups = new Map(); // group -> [{socket, url, arrivals: Map(key -> {first, count})}]
const waiters = new Map(); // `${group}/${index}|${key}` -> resolve
const now = () => performance.now();
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function keyOf(event, data) {
  const status = data && (data.status ?? data.state);
  return `${event}|${data && data.request_id}|${status}`;
}

function record(group, index, entry, event, data) {
  const key = keyOf(event, data);
  const seen = entry.arrivals.get(key);
  if (seen) { seen.count += 1; return; }
  entry.arrivals.set(key, { first: now(), count: 1 });
  const waiter = waiters.get(`${group}/${index}|${key}`);
  if (waiter) waiter();
}

function arrival(group, index, key, timeoutMs) {
  const entry = groups.get(group)[index];
  const seen = entry.arrivals.get(key);
  if (seen) return Promise.resolve(seen.first);
  const id = `${group}/${index}|${key}`;
  return new Promise((resolve) => {
    const timer = setTimeout(() => { waiters.delete(id); resolve(null); }, timeoutMs);
    waiters.set(id, () => { clearTimeout(timer); waiters.delete(id); resolve(entry.arrivals.get(key).first); });
  });
}

function openOne(group, index, url, auth) {
  return new Promise((resolve) => {
    const started = now();
    const socket = io(url, { auth, transports: ["websocket"], reconnection: false, forceNew: true, timeout: 20000 });
    const entry = { socket, url, arrivals: new Map() };
    socket.onAny((event, data) => record(group, index, entry, event, data));
    // A namespace CONNECT the server never answers has no client-side timeout: give up after 30 s.
    const timer = setTimeout(() => { socket.close(); resolve({ entry: null, error: "no CONNECT within 30 s" }); }, 30000);
    socket.once("connect", () => { clearTimeout(timer); resolve({ entry, ms: now() - started }); });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      socket.close();
      resolve({ entry: null, error: String(error.message) });
    });
  });
}

async function open({ group, urls, auths, concurrency = 100 }) {
  const list = groups.get(group) || [];
  groups.set(group, list);
  const base = list.length;
  const started = now();
  const times = [];
  const errors = {};
  let next = 0;
  async function worker() {
    while (next < auths.length) {
      const i = next++;
      const { entry, ms, error } = await openOne(group, base + i, urls[i % urls.length], auths[i]);
      list[base + i] = entry || { socket: null, url: urls[i % urls.length], arrivals: new Map() };
      if (entry) times.push(ms); else errors[error] = (errors[error] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, auths.length) }, worker));
  const wall = (now() - started) / 1000;
  return { opened: times.length, failed: auths.length - times.length, errors, wall_s: wall,
           connects_per_s: times.length / wall, connect_ms: times };
}

async function send(job) {
  const sent = now();
  try {
    const response = await fetch(job.url, {
      dispatcher,
      method: job.method || "POST",
      headers: { "content-type": "application/json", ...(job.headers || {}) },
      body: JSON.stringify(job.body || {}),
    });
    const text = await response.text();
    let id = null;
    try { id = JSON.parse(text).id ?? null; } catch { /* not JSON: no id */ }
    return { sent, answered: now(), status: response.status, id };
  } catch (error) {
    return { sent, answered: now(), status: `error ${error.cause?.code || error.message}` };
  }
}

async function runJob(job, timeoutMs) {
  const { sent, answered, status, id } = await send(job);
  if (!job.watch) return { status, http_ms: answered - sent, sent, id };
  const { group, index, key } = job.watch;
  const first = status === 200 || status === 201 ? await arrival(group, index, key, timeoutMs) : null;
  return { status, http_ms: answered - sent, sent, push_ms: first === null ? null : first - sent,
           same_url: groups.get(group)[index].url === new URL(job.url).origin };
}

async function push({ jobs, rate = null, concurrency = 8, timeout_ms = 10000 }) {
  await fresh();
  // This process's own stalls (its GC, 5,000 sockets' pings) delay the arrivals it stamps: reported beside them.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const answer = await pushAll(jobs, rate, concurrency, timeout_ms);
  loopDelay.disable();
  return { ...answer, loop_delay_ms: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 } };
}

async function pushAll(jobs, rate, concurrency, timeout_ms) {
  const started = now();
  const results = new Array(jobs.length);
  if (rate) {
    // Open loop: job i leaves at started + i / rate whatever the answers do.
    const pending = jobs.map((job, i) => new Promise((resolve) => {
      setTimeout(() => runJob(job, timeout_ms).then((r) => { results[i] = r; resolve(); }),
                 Math.max(0, started + (i * 1000) / rate - now()));
    }));
    await Promise.all(pending);
  } else {
    // Closed loop: `concurrency` callers, each sending its next job when the last one answered.
    let next = 0;
    const answeredAt = [];
    async function caller() {
      while (next < jobs.length) {
        const i = next++;
        const { sent, answered, status, id } = await send(jobs[i]);
        answeredAt.push(answered);
        results[i] = { status, http_ms: answered - sent, sent, id };
      }
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, caller));
    const httpWall = (Math.max(...answeredAt) - started) / 1000;
    // The pushes are awaited after the clock of the throughput run stopped.
    await Promise.all(jobs.map(async (job, i) => {
      if (!job.watch) return;
      const { group, index, key } = job.watch;
      const first = await arrival(group, index, key, timeout_ms);
      const entry = groups.get(group)[index];
      results[i].push_ms = first === null ? null : first - results[i].sent;
      results[i].same_url = entry.url === new URL(job.url).origin;
    }));
    return finish(jobs, results, started, { http_wall_s: httpWall });
  }
  return finish(jobs, results, started, {});
}

function finish(jobs, results, started, extra) {
  // Duplicates: a watched key that arrived more than once on its socket.
  let duplicates = 0;
  jobs.forEach((job) => {
    if (!job.watch) return;
    const seen = groups.get(job.watch.group)[job.watch.index].arrivals.get(job.watch.key);
    if (seen && seen.count > 1) duplicates += seen.count - 1;
  });
  const statuses = {};
  results.forEach((r) => { statuses[r.status] = (statuses[r.status] || 0) + 1; });
  return { wall_s: (now() - started) / 1000, statuses, duplicates,
           push_ms: results.map((r) => r.push_ms), http_ms: results.map((r) => r.http_ms),
           // When each job left, from the start: where in the run a slow one fell.
           sent_ms: results.map((r) => Math.round(r.sent - started)),
           same_url: results.map((r) => r.same_url), ids: results.map((r) => r.id ?? null), ...extra };
}

async function fanout({ job, group, key, timeout_ms = 10000 }) {
  await fresh();
  const list = groups.get(group).filter((entry) => entry.socket);
  const { sent, answered, status } = await send(job);
  const deadline = sent + timeout_ms;
  while (now() < deadline && list.some((entry) => !entry.arrivals.has(key))) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const arrivals = list.map((entry) => entry.arrivals.get(key));
  const times = arrivals.filter(Boolean).map((seen) => seen.first - sent);
  return { status, http_ms: answered - sent, sockets: list.length, received: times.length,
           missed: list.length - times.length,
           duplicates: arrivals.filter(Boolean).reduce((n, seen) => n + seen.count - 1, 0), arrival_ms: times };
}

function count({ group }) {
  const list = groups.get(group) || [];
  return { connected: list.filter((entry) => entry.socket && entry.socket.connected).length };
}

function close({ group }) {
  const list = groups.get(group) || [];
  list.forEach((entry) => entry.socket && entry.socket.close());
  groups.delete(group);
  return { closed: list.length };
}

const commands = { open, push, fanout, count, close };
const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  queue = queue.then(async () => {
    const message = JSON.parse(line);
    if (message.cmd === "quit") {
      for (const group of [...groups.keys()]) close({ group });
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
