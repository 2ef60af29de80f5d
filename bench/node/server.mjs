// The Node baseline of the scale benchmark: a bare socket.io 4 server doing the same pushes as
// bench/bare_app.py (no database, no auth). Usage: node server.mjs PORT [HARD_LIMIT_S]
//   connect auth {user, role}  -> rooms user:<user> and role:<role>
//   POST /push {room, event, data} -> io.to(room).emit(event, data)
//   GET /healthz
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2]);
setTimeout(() => process.exit(3), Number(process.argv[3] || 900) * 1000).unref();

const http = createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  if (req.method === "POST" && req.url === "/push") {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const { room, event, data } = JSON.parse(Buffer.concat(chunks).toString());
      io.to(room).emit(event, data);
      res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    });
    return;
  }
  res.writeHead(404).end();
});
// The same heartbeat as AssetFlow's defaults (PING_INTERVAL 25 s, PING_TIMEOUT 20 s).
const io = new Server(http, { transports: ["websocket"], pingInterval: 25000, pingTimeout: 20000 });
io.on("connection", (socket) => {
  const auth = socket.handshake.auth || {};
  socket.join(`user:${auth.user ?? 0}`);
  socket.join(`role:${auth.role ?? "employee"}`);
});
http.listen(port, "127.0.0.1");
