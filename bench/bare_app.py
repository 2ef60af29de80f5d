"""The bare Python baseline of the scale benchmark: Flask-SocketIO with no database and no auth.

    ASYNC_MODE=gevent gunicorn -k gevent -w 1 --pythonpath bench bare_app:app

Same async mode, worker and heartbeat as AssetFlow; the same pushes as bench/node/server.mjs:
connect auth {user, role} joins `user:<user>` and `role:<role>`; POST /push {room, event, data}
emits. What AssetFlow costs beyond this is the app (database, auth, replay, notifications).
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room

app = Flask(__name__)
socketio = SocketIO(app, async_mode=os.environ.get("ASYNC_MODE", "eventlet"), cors_allowed_origins="*",
                    ping_interval=int(os.environ.get("PING_INTERVAL", 25)),
                    ping_timeout=int(os.environ.get("PING_TIMEOUT", 20)))


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Join the rooms the client names (the bare app trusts its clients)."""
    auth = auth if isinstance(auth, dict) else {}
    join_room(f"user:{auth.get('user', 0)}")
    join_room(f"role:{auth.get('role', 'employee')}")


@app.post("/push")
def push() -> dict:
    """Emit one event to one room, as AssetFlow's emitter does after a commit."""
    body = request.get_json()
    socketio.emit(body["event"], body["data"], to=body["room"])
    return {"ok": True}


@app.get("/healthz")
def healthz() -> dict:
    """Liveness, for the benchmark's start-up wait."""
    return {"status": "ok"}


if os.environ.get("WEBSOCKET_COMPRESSION") != "1":
    # The same WebSocket layer as AssetFlow's: permessage-deflate declined (its default).
    from assetflow.realtime.compression import DeclineWebSocketCompression

    app.wsgi_app = DeclineWebSocketCompression(app.wsgi_app)

if os.environ.get("BENCH_INTROSPECT"):
    from introspect import install

    install(app)
