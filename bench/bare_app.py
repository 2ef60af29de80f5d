"""The bare Python baseline of the scale benchmark: Flask-SocketIO with no database and no auth.

    ASYNC_MODE=gevent gunicorn -k gevent -w 1 --pythonpath bench bare_app:app

Same async mode, worker and heartbeat as AssetFlow; the same pushes as bench/node/server.mjs:
connect auth {user, role} joins `user:<user>` and `role:<role>`; POST /push {room, event, data}
emits. What AssetFlow costs beyond this is the app (database, auth, replay, notifications).

With BARE_DATABASE_URL (PostgreSQL), GET /api/requests stands in for AssetFlow's request list: as many
round trips to the database through a SQLAlchemy pool as AssetFlow's makes (the pool's ping, which begins
a transaction, QUERIES statements, the rollback), each a `SELECT 1`: the least such a call can wait for on
this stack, for bench/reconnect_storm.py's API latency during a storm.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, request
from flask_socketio import SocketIO, join_room

# GET /api/requests?scope=inbox&per_page=20 on AssetFlow: the token, the count, the page, its decisions,
# deciders and department, the due times (bench/reconnect_storm.py's probe).
QUERIES = 7

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


if os.environ.get("BARE_DATABASE_URL"):
    import sqlalchemy as sa

    if socketio.async_mode == "gevent":  # as wsgi.py does: gevent leaves psycopg2 blocking by itself
        import psycogreen.gevent

        psycogreen.gevent.patch_psycopg()
    engine = sa.create_engine(os.environ["BARE_DATABASE_URL"], pool_pre_ping=True)

    @app.get("/api/requests")
    def requests_stand_in() -> dict:
        """AssetFlow's request list's round trips to the database, and nothing else."""
        with engine.connect() as connection:
            for _ in range(QUERIES):
                connection.execute(sa.text("SELECT 1"))
        return {"items": [], "total": 0}


if os.environ.get("WEBSOCKET_COMPRESSION") != "1":
    # The same WebSocket layer as AssetFlow's: permessage-deflate declined (its default).
    from assetflow.realtime.compression import DeclineWebSocketCompression

    app.wsgi_app = DeclineWebSocketCompression(app.wsgi_app)

if os.environ.get("BENCH_INTROSPECT"):
    from introspect import install

    install(app)
