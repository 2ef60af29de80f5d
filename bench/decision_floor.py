"""The floor under a decision: what the customer's stack costs for the least an approve must do.

    .venv/bin/python bench/decision_floor.py [-n 100] [--rounds 6]

An approve must verify the token and check that it is not revoked, read the request and whether the
user may decide its step, change it under optimistic locking, write the decision, its audit row and
the applicant's inbox row with the next seq, commit, push, and answer. The floor app does exactly
that and nothing more, on the stack AssetFlow is built on: Flask, Flask-JWT-Extended (with
AssetFlow's verify-once manager), SQLAlchemy Core statements through a Flask-SQLAlchemy session,
Flask-SocketIO's emit. No workflow library, no schemas, no ORM objects, no delegation, no
dashboards, no webhooks, no asset effects.

AssetFlow's approve and the floor's run in one process (threading mode, Flask's test client, as
bench/profile_decision.py) against one PostgreSQL database, on requests submitted through AssetFlow, with the
garbage collector tuned as gunicorn.conf.py tunes a served worker's. They take turns one approve at a time (the
order flipped each pair), each approve's CPU time counted to its app, so both see the same machine: on 2 shared
cores a batch of one and then a batch of the other moved the ratio by +-0.3 between runs. Prints, for each:
CPU per approve (median of the rounds), Python calls and SQL statements per approve; then AssetFlow / floor per
round and their median, the number of record.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import runpy
import statistics
import sys
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, g, jsonify
from flask_jwt_extended import current_user, decode_token, jwt_required
from flask_socketio import SocketIO, join_room
from flask_sqlalchemy import SQLAlchemy

sys.path.insert(0, str(Path(__file__).resolve().parent))
from profile_decision import ROOT, InProcess, with_database  # bench/ is not a package

sys.path.insert(0, str(ROOT))


def floor_app(url: str, secret: str, async_mode: str = "threading") -> Flask:
    """The least an approve can do on AssetFlow's tables, on the same stack (bench/floor_wsgi.py serves it)."""
    from assetflow.auth.manager import VerifyOnceJWTManager
    from assetflow.models import Decision, Notification, Request, RequestEvent, RevokedToken, StepDecider, User
    from assetflow.models.base import utcnow

    users, requests, named = User.__table__, Request.__table__, StepDecider.__table__
    decisions, events, inbox = Decision.__table__, RequestEvent.__table__, Notification.__table__
    app = Flask("floor")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, JWT_SECRET_KEY=secret)
    db = SQLAlchemy(app)
    jwt = VerifyOnceJWTManager(app)  # AssetFlow's: each token verified once
    socketio = SocketIO(app, async_mode=async_mode)

    @socketio.on("connect")
    def connect(auth: dict | None = None) -> bool:
        # Live (bench/capacity.py), a socket needs only its user's room: a valid token, nothing read or replayed.
        try:
            join_room(f"user:{decode_token((auth or {}).get('token') or '')['sub']}")
        except Exception:
            return False
        return True

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok"}

    @jwt.token_in_blocklist_loader
    def revoked(header: dict, claims: dict) -> bool:
        # The user and the blocklist in one query, as AssetFlow reads them.
        g.user = db.session.execute(
            sa.select(users.c.id, users.c.active, users.c.token_generation,
                      sa.exists().where(RevokedToken.__table__.c.jti == claims["jti"]).label("revoked"))
            .where(users.c.id == int(claims["sub"]))).first()
        return g.user is None or g.user.revoked

    @jwt.user_lookup_loader
    def user(header: dict, claims: dict):
        ok = g.user.active and g.user.token_generation == claims.get("gen", 0)
        return g.user if ok else None

    @app.post("/api/requests/<int:request_id>/approve")
    @jwt_required()
    def approve(request_id: int):
        me, now = current_user.id, utcnow()
        may_decide = sa.and_(
            sa.exists().where(named.c.request_id == requests.c.id, named.c.step == requests.c.step,
                              named.c.user_id == me),
            ~sa.exists().where(decisions.c.request_id == requests.c.id, decisions.c.approver_id == me),
            requests.c.applicant_id != me)
        req = db.session.execute(
            sa.select(requests.c.id, requests.c.state, requests.c.step, requests.c.steps_total,
                      requests.c.version, requests.c.applicant_id, requests.c.kind, may_decide.label("may"))
            .where(requests.c.id == request_id)).first()
        if req is None or not req.may or req.state != "pending":
            return jsonify(error="may not decide"), 403
        last = req.step >= req.steps_total
        state, step = ("approved", req.step) if last else ("pending", req.step + 1)
        changed = db.session.execute(
            requests.update().where(requests.c.id == request_id, requests.c.version == req.version)
            .values(state=state, step=step, version=req.version + 1, updated_at=now,
                    decided_at=now if last else None))
        if changed.rowcount != 1:
            db.session.rollback()
            return jsonify(error="changed by someone else"), 409
        db.session.execute(decisions.insert().values(request_id=request_id, step=req.step, approver_id=me,
                                                     outcome="approved", comment="", created_at=now))
        db.session.execute(events.insert().values(request_id=request_id, actor_id=me, action="approve",
                                                  from_state="pending", to_state=state, step=req.step,
                                                  comment="", created_at=now))
        seq = db.session.execute(
            users.update().where(users.c.id == req.applicant_id)
            .values(notification_seq=users.c.notification_seq + 1).returning(users.c.notification_seq)).scalar_one()
        payload = {"event": "approval_update", "request_id": request_id, "status": state, "step": step,
                   "seq": seq, "at": now.isoformat()}
        db.session.execute(inbox.insert().values(user_id=req.applicant_id, seq=seq, type="approval_update",
                                                 payload=payload, created_at=now))
        db.session.commit()
        socketio.emit("approval_update", payload, to=f"user:{req.applicant_id}")
        return jsonify(id=request_id, kind=req.kind, state=state, step=step, version=req.version + 1)

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100, help="approvals of each app per round")
    parser.add_argument("--rounds", type=int, default=6, help="rounds, each its own ratio")
    args = parser.parse_args()
    with_database("postgres", lambda url: compare(args, url))
    return 0


def compare(args: argparse.Namespace, url: str) -> None:
    from config import database_url

    bench = InProcess.on(url)
    apps = {"AssetFlow": bench.app, "floor": floor_app(database_url(url), bench.app.config["JWT_SECRET_KEY"])}
    clients = {name: app.test_client() for name, app in apps.items()}
    for name in apps:
        bench.approve(clients[name], bench.submit(20))  # warm-up
    runpy.run_path(str(ROOT / "gunicorn.conf.py"))["tune_gc"]()  # as in a served worker
    cpu: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(args.rounds):
        for name, ms in paired_round(bench, clients, args.n).items():
            cpu[name].append(ms)
    quarter = max(1, args.n // 4)
    calls = {name: python_calls(partial(bench.approve, clients[name], bench.submit(quarter)), quarter)
             for name in apps}
    statements = {name: count_statements(apps[name], partial(bench.approve, clients[name], bench.submit(1)))
                  for name in apps}
    print(f"{'per approve':28} {'CPU ms (median)':>16} {'Python calls':>13} {'statements':>11}   rounds")
    for name in apps:
        runs = ", ".join(f"{ms:.2f}" for ms in cpu[name])
        print(f"{name:28} {statistics.median(cpu[name]):16.2f} {calls[name]:13.0f} {statements[name]:11}   {runs}")
    ratios = [mine / least for mine, least in zip(cpu["AssetFlow"], cpu["floor"], strict=True)]
    print(f"AssetFlow / floor per round: {', '.join(f'{r:.2f}' for r in ratios)}")
    print(f"AssetFlow / floor: {statistics.median(ratios):.2f} x CPU (median of {args.rounds} rounds of {args.n} "
          f"approves each, taking turns)")


def paired_round(bench: InProcess, clients: dict, n: int) -> dict[str, float]:
    """`n` approves of each app, one at a time in turns (the first of each pair alternating): CPU ms per approve."""
    ids = {name: bench.submit(n) for name in clients}
    spent = dict.fromkeys(clients, 0.0)
    names = list(clients)
    for i in range(n):
        for name in names if i % 2 == 0 else names[::-1]:
            spent[name] += bench.approve(clients[name], [ids[name][i]], turn=i)
    return {name: ms / n for name, ms in spent.items()}


def python_calls(action, approvals: int) -> float:
    """Python function calls per approve: steady on a shared machine, where CPU times move by +-20 %."""
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    return sum(stat[1] for stat in pstats.Stats(profiler).stats.values()) / approvals


def count_statements(app: Flask, action) -> int:
    """How many SQL statements the app's engine runs during `action` (one approve)."""
    with app.app_context():
        engine = app.extensions["sqlalchemy"].engine
    seen: list[str] = []

    def record(*args) -> None:
        seen.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return len(seen)


if __name__ == "__main__":
    sys.exit(main())
