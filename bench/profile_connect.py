"""What one socket connect costs in the connect handler, and where it goes (cProfile).

    .venv/bin/python bench/profile_connect.py [--db postgres|sqlite] [-n 500] [--missed 2] [--top 25]

Runs the real app in this process (threading async mode) against a migrated, seeded database created
for the run, with `n` users who each have `missed` notifications they have not received. Each connect
goes through Flask-SocketIO's test client: python-socketio's CONNECT handling, AssetFlow's connect handler
(token check, user and blocklist, rooms, replay of the missed notifications), the emits; not Engine.IO's
handshake or the WebSocket (bench/reconnect_storm.py measures those live, beside the bare app).
Prints the CPU per connect without the profiler (median of 3 batches), the SQL statements one connect
sends, the Python calls per connect, and the cumulative CPU of each part of the handler; then the cProfile
table sorted by own time. Like bench/profile_decision.py, whose helpers it uses.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from profile_decision import InProcess, print_by_package, with_database  # noqa: E402

# Parts of the connect handler: a function of each, by file and name (cumulative CPU per connect).
PARTS = (
    ("python-socketio's CONNECT (handler included)", "socketio/server.py", "_handle_connect"),
    ("the whole handler", "sockets.py", "on_connect"),
    ("  the line (pacing)", "pacing.py", "read"),
    ("  token: decode and verify", "sockets.py", "_verified_claims"),
    ("    PyJWT's decode (verify-once cache: a new token each)", "jwt/api_jwt.py", "decode_complete"),
    ("  user + blocklist + replay: one query for the line", "notify.py", "connect_states"),
    ("  (before: blocklist check)", "tokens.py", "is_revoked"),
    ("  (before: user load)", "tokens.py", "load_user"),
    ("  (before: replay query)", "notify.py", "after_seq"),
    ("  auth fields (marshmallow)", "sockets.py", "_connect_args"),
    ("  rooms (join_room x3)", "flask_socketio/__init__.py", "join_room"),
    ("  replayed events' emits", "flask_socketio/__init__.py", "emit"),
    ("session teardown (rollback, connection back to the pool)", "flask_sqlalchemy/session.py", "_app_ctx_id"),
)


def seed_missed(app, users: list[dict], missed: int) -> None:
    """Give each user `missed` notifications (seqs 1..missed) that a socket at last_seq 0 has not had."""
    import sqlalchemy as sa

    from assetflow.extensions import db
    from assetflow.models import Notification, User

    with app.app_context():
        payload = {"request_id": 1, "asset_id": None, "asset_tag": None, "kind": "acquire", "status": "approved",
                   "step": 1, "steps_total": 1, "required_role": None, "actor": {"id": 1, "name": "Bob"},
                   "action": "approve", "comment": "", "at": "2026-12-07T00:00:00+00:00"}
        db.session.add_all(Notification(user_id=u["id"], seq=seq, type="approval_update", payload=payload)
                           for u in users for seq in range(1, missed + 1))
        db.session.execute(sa.update(User).where(User.id.in_([u["id"] for u in users]))
                           .values(notification_seq=missed))
        db.session.commit()


def connect_all(app, users: list[dict], missed: int) -> float:
    """Connect one socket per user with last_seq 0 (each gets `missed` replayed); CPU ms per connect."""
    from assetflow.extensions import socketio

    clients = []
    started = time.process_time()
    for user in users:
        client = socketio.test_client(app, auth={"token": user["token"], "last_seq": 0})
        clients.append(client)
    cpu = (time.process_time() - started) * 1000 / len(users)
    for client in clients:
        received = client.get_received()
        assert client.is_connected() and len(received) == missed, received
        client.disconnect()
    return cpu


def statements(app, action) -> list[str]:
    import sqlalchemy as sa

    from assetflow.extensions import db

    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(" ".join(statement.split())[:200])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return seen


def part_times(stats: pstats.Stats, n: int) -> list[tuple[str, float, float]]:
    """(part, cumulative CPU ms per connect, calls per connect) for each part found in the profile."""
    out = []
    for label, filename, name in PARTS:
        hits = [(ct, nc) for (file, _, func), (_, nc, _, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
                if func == name and file.endswith(filename)]
        if hits:
            out.append((label, sum(h[0] for h in hits) * 1000 / n, sum(h[1] for h in hits) / n))
    return out


def profile(args: argparse.Namespace, url: str) -> None:
    from mint_users import mint

    bench = InProcess.on(url, approvers=1)
    app = bench.app
    batches = [mint(app, f"conn{b}-", args.n, "employee") for b in range(5)]
    for users in batches:
        seed_missed(app, users, args.missed)
    connect_all(app, batches[0][:50], args.missed)  # warm-up: imports, caches, the pool
    per_connect = [connect_all(app, users, args.missed) for users in batches[1:4]]
    print(f"CPU per connect (handler, test client): median {statistics.median(per_connect):.3f} ms of "
          f"{[round(c, 3) for c in per_connect]} ({args.n} connects per batch, {args.db}, {args.missed} replayed each)")
    one = statements(app, lambda: connect_all(app, batches[0][50:51], args.missed))
    print(f"SQL statements per connect: {len(one)}")
    for number, text in enumerate(one, 1):
        print(f"{number:3} {text}")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    connect_all(app, batches[4], args.missed)
    profiler.disable()
    stats = pstats.Stats(profiler)
    calls = sum(stat[1] for stat in stats.stats.values())  # type: ignore[attr-defined]
    print(f"Python function calls per connect (test client included): {calls / args.n:.0f}")
    print("cumulative CPU per connect, by part (with the profiler's overhead):")
    for label, ms, count in part_times(stats, args.n):
        print(f"  {label:58} {ms:7.3f} ms  {count:5.1f} calls")
    print_by_package(stats, args.n)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime").print_stats(args.top)
    print(out.getvalue().split("\n", 4)[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("-n", type=int, default=500, help="connects per batch")
    parser.add_argument("--missed", type=int, default=2, help="notifications each connect replays")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    print(f"load average {open('/proc/loadavg').read().split()[:3]}")
    with_database(args.db, lambda url: profile(args, url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
