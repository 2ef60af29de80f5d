// Many clients that follow docs/realtime.md's recovery rules, for bench/chaos.py.
// Usage: node chaos.mjs SPEC.json   where SPEC = {"clients": [{"url", "token", "user_id", "last_seq"}],
//        "http": [base URLs to refetch from], "sync_every_ms": N, "deadline_ms": N, "report_path"}
// Prints JSON lines: {"what": "connected", "count"} once all are up, "progress" now and then, and
// after "finish" on stdin writes every client's applied inbox to report_path, then says "report".
import { readFileSync, writeFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const say = (what, data = {}) => console.log(JSON.stringify({ what, ...data }));
setTimeout(() => { say("timeout"); process.exit(2); }, spec.deadline_ms).unref();
const SYNC_TIMEOUT_MS = 5000;
const BACKOFF = { reconnectionDelay: 1000, randomizationFactor: 0.5 }; // socket.io-client's defaults
const PAGE = 500;

class Client {
  constructor({ url, token, user_id: userId, last_seq: lastSeq }) {
    Object.assign(this, { url, token, userId, lastSeq });
    this.seen = new Set();
    this.applied = []; // [seq, notification_id] in the order shown on screen
    this.held = new Map(); // seq -> event that arrived ahead of a gap
    this.syncing = false;
    this.refetching = false;
    this.counts = { live: 0, replayed: 0, sync: 0, http: 0, duplicates_dropped: 0, stale_dropped: 0,
      gaps: 0, resyncs: 0, reconnects: 0, sync_failures: 0, connect_errors: 0, going_away: 0,
      http_5xx: 0, http_503_retry_after: 0 };
    this.movingAway = false;
    this.socket = io(url, {
      transports: ["websocket"], // two processes, no sticky sessions: WebSocket only
      auth: (cb) => cb({ token: this.token, last_seq: this.lastSeq }), // re-read on every reconnect
    });
    this.socket.on("connect", () => {
      this.counts.reconnects += 1;
      if (this.movingAway) this.backoff(BACKOFF.reconnectionDelay, BACKOFF.randomizationFactor);
      this.movingAway = false;
    });
    // A stopping process sends going_away, then closes: as the SPA does (frontend/src/services/socket.js),
    // the first reconnect comes at a random moment of the window it names, not after the usual backoff.
    this.socket.on("going_away", (payload) => {
      this.counts.going_away += 1;
      this.movingAway = true;
      this.backoff((payload?.reconnect_within_ms ?? 0) / 2, 1);
    });
    this.socket.on("connect_error", () => { this.counts.connect_errors += 1; });
    this.socket.on("approval_update", (event) => this.receive(event, event.replayed ? "replayed" : "live"));
    this.socket.on("resync_required", () => this.refetch());
  }

  backoff(delay, randomization) {
    this.socket.io.reconnectionDelay(delay);
    this.socket.io.randomizationFactor(randomization);
  }

  // Rule 3 of docs/realtime.md: drop seen ids and stale seqs, apply the next, hold what is ahead.
  receive(event, via) {
    if (this.seen.has(event.notification_id)) { this.counts.duplicates_dropped += 1; return; }
    if (event.seq <= this.lastSeq) { this.counts.stale_dropped += 1; return; }
    if (event.seq === this.lastSeq + 1) {
      this.apply(event, via);
      this.drainHeld();
      return;
    }
    if (!this.held.has(event.seq)) this.held.set(event.seq, { event, via });
    this.counts.gaps += 1;
    this.sync();
  }

  apply(event, via) {
    this.seen.add(event.notification_id);
    this.applied.push([event.seq, event.notification_id]);
    this.lastSeq = event.seq;
    this.counts[via] += 1;
  }

  drainHeld() {
    for (const seq of [...this.held.keys()]) if (seq <= this.lastSeq) this.held.delete(seq);
    while (this.held.has(this.lastSeq + 1)) {
      const { event, via } = this.held.get(this.lastSeq + 1);
      this.held.delete(this.lastSeq + 1);
      if (this.seen.has(event.notification_id)) this.counts.duplicates_dropped += 1;
      else this.apply(event, via);
    }
  }

  // Gap repair: sync({after_seq}); its items in order, then what was held. Resolves to whether
  // an answer arrived (false: not connected, already syncing, timed out or refused).
  sync() {
    if (this.syncing || this.refetching || !this.socket.connected) return Promise.resolve(false);
    this.syncing = true;
    return new Promise((resolve) => {
      this.socket.timeout(SYNC_TIMEOUT_MS).emit("sync", { after_seq: this.lastSeq }, (err, ack) => {
        this.syncing = false;
        if (err || !ack || ack.error) {
          this.counts.sync_failures += 1;
          resolve(false);
          return;
        }
        if (ack.resync_required) {
          this.refetch();
        } else {
          for (const item of ack.items) this.receive(item, "sync");
          this.drainHeld();
        }
        resolve(true);
      });
    });
  }

  // resync_required: refetch the inbox over HTTP, page by page after lastSeq.
  async refetch() {
    if (this.refetching) return;
    this.refetching = true;
    this.counts.resyncs += 1;
    try {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const base = spec.http[attempt % spec.http.length];
        try {
          const response = await fetch(`${base}/api/notifications?after_seq=${this.lastSeq}&limit=${PAGE}`,
            { headers: { Authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(10000) });
          if (response.status >= 500) {
            // A 503 with Retry-After is the documented "try again"; any other 5xx is a failure.
            if (response.status === 503 && response.headers.get("retry-after")) this.counts.http_503_retry_after += 1;
            else this.counts.http_5xx += 1;
          }
          if (!response.ok) throw new Error(`HTTP ${response.status}`);
          const body = await response.json();
          for (const row of body.items) {
            this.receive({ ...row.payload, seq: row.seq, notification_id: row.id }, "http");
          }
          if (body.items.length < PAGE) return;
          attempt = -1; // a full page: there is more, keep going on the same server
        } catch {
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    } finally {
      this.refetching = false;
      this.drainHeld();
    }
  }

  report() {
    return { user_id: this.userId, last_seq: this.lastSeq, applied: this.applied, held: this.held.size,
      connected: this.socket.connected, counts: this.counts };
  }
}

const clients = spec.clients.map((c) => new Client(c));

// Rule 5: a push lost with nothing after it (e.g. while the message queue restarts) shows no gap,
// so every client also syncs now and then.
const ticker = setInterval(() => {
  const now = Date.now();
  for (const [index, client] of clients.entries()) {
    if ((now + index * 97) % spec.sync_every_ms < 1000) client.sync();
  }
}, 1000);

const allConnected = () => clients.every((c) => c.socket.connected);
const waitFor = async (predicate, ms) => {
  const end = Date.now() + ms;
  while (!predicate() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return predicate();
};

await waitFor(allConnected, 60_000);
say("connected", { count: clients.filter((c) => c.socket.connected).length });
const progress = setInterval(() => {
  say("progress", { connected: clients.filter((c) => c.socket.connected).length,
    applied: clients.reduce((n, c) => n + c.applied.length, 0) });
}, 5000);

const lines = createInterface({ input: process.stdin });
lines.on("line", async (line) => {
  if (line.trim() !== "finish") return;
  clearInterval(ticker);
  clearInterval(progress);
  // The run is over: let every client reconnect, then one last sync each (rule 5).
  const connected = await waitFor(allConnected, 60_000);
  let pending = clients;
  for (let round = 0; round < 10 && pending.length; round += 1) {
    await waitFor(() => pending.every((c) => !c.syncing && !c.refetching), 30_000);
    const answered = await Promise.all(pending.map((c) => c.sync()));
    await waitFor(() => pending.every((c) => !c.refetching), 30_000);
    pending = pending.filter((c, i) => !answered[i] || c.held.size > 0);
  }
  // A file, not stdout: a process that exits right after a large write to a pipe can cut it short.
  writeFileSync(spec.report_path, JSON.stringify({ all_connected: connected, clients: clients.map((c) => c.report()) }));
  say("report");
  for (const c of clients) c.socket.disconnect();
  process.exit(0);
});
