// Holds COUNT sockets of one user open with the official socket.io-client (WebSocket transport),
// for tests/test_capacity.py. Usage: node crowd.mjs URL TOKEN LAST_SEQ COUNT
// Prints one JSON line per step. Reads commands on stdin:
//   "expect REQUEST_ID"  wait until every socket has an approval_update for that request
//   "close"              disconnect everything and exit 0
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const [url, token, lastSeq, countArg] = process.argv.slice(2);
const COUNT = Number(countArg);
const BATCH = 100; // connects in flight at once: a burst larger than the listen backlog only adds retries
const WAIT_MS = 30_000;
const say = (what, data = {}) => console.log(JSON.stringify({ what, ...data }));
setTimeout(() => { say("timeout"); process.exit(2); }, 170_000).unref();

const sockets = [];
const seen = []; // per socket: the request ids it received an approval_update for
let failed = 0;

function connectOne(index) {
  return new Promise((resolve) => {
    const socket = io(url, {
      auth: { token, last_seq: Number(lastSeq) },
      transports: ["websocket"],
      reconnection: false,
      timeout: WAIT_MS,
      forceNew: true, // one Engine.IO connection per socket, as separate browser tabs have
    });
    seen[index] = new Set();
    socket.on("approval_update", (event) => seen[index].add(event.request_id));
    socket.once("connect", () => resolve(true));
    socket.once("connect_error", () => { failed += 1; resolve(false); });
    sockets.push(socket);
  });
}

const started = Date.now();
for (let first = 0; first < COUNT; first += BATCH) {
  const batch = [];
  for (let i = first; i < Math.min(first + BATCH, COUNT); i += 1) batch.push(connectOne(i));
  await Promise.all(batch);
}
say("connected", { count: sockets.filter((s) => s.connected).length, failed, ms: Date.now() - started });

async function expectEverywhere(requestId) {
  const since = Date.now();
  const delivered = () => seen.filter((ids) => ids.has(requestId)).length;
  while (delivered() < COUNT && Date.now() - since < WAIT_MS) {
    await new Promise((r) => setTimeout(r, 10));
  }
  say("delivered", { sockets: delivered(), ms: Date.now() - since });
}

for await (const line of createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(" ");
  if (command === "expect") await expectEverywhere(Number(arg));
  if (command === "close") {
    sockets.forEach((s) => s.disconnect());
    say("closed");
    process.exit(0);
  }
}
