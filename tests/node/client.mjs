// Drives the official socket.io-client against a running AssetFlow server, for tests/test_server.py.
// Usage: node client.mjs URL TOKEN LAST_SEQ
// Prints one JSON line per step; waits for "reconnect" on stdin before connecting again.
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const [url, token, startSeq] = process.argv.slice(2);
const say = (what, data = {}) => console.log(JSON.stringify({ what, ...data }));
const lines = createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once("line", resolve));
setTimeout(() => { say("timeout"); process.exit(2); }, 60_000).unref();

function open(lastSeq) {
  // Default transports: long-polling first, then the upgrade to WebSocket, as in a browser.
  const socket = io(url, { auth: { token, last_seq: lastSeq }, reconnection: false });
  socket.on("connect_error", (error) => { say("connect_error", { message: error.message }); process.exit(1); });
  return socket;
}

let lastSeq = Number(startSeq);
const first = open(lastSeq);
first.on("connect", () => say("connected", { transport: first.io.engine.transport.name }));
first.on("approval_update", (event) => {
  lastSeq = event.seq;
  say("approval_update", { event });
  first.disconnect();
});
first.on("disconnect", async () => {
  say("disconnected");
  await nextLine();
  const second = open(lastSeq);
  const replayed = [];
  second.on("approval_update", (event) => replayed.push(event));
  second.on("connect", () => {
    // Replayed events arrive before CONNECT and are buffered by the client until now.
    setTimeout(() => {
      say("replayed", { events: replayed });
      second.disconnect();
      process.exit(0);
    }, 500);
  });
});
