"""Two gunicorn processes on one PostgreSQL database both run the timers every second: each
reminder and escalation still fires exactly once, and reaches a socket on either process once."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from .conftest import QUEUE_URL, require_redis
from .live_server import base_env, new_asset, start_server, submit_assign, wait_until

pytestmark = pytest.mark.timeout(180)
PASSES = 3  # seconds of further passes by both processes after the first firing


def test_two_processes_fire_each_timer_exactly_once(databases, tmp_path, probes):
    require_redis()
    url = databases.create("timers")
    env = base_env(url, "eventlet", TIMER_SECONDS="1", SOCKETIO_MESSAGE_QUEUE=QUEUE_URL,
                   SOCKETIO_CHANNEL=f"assetflow-timers-{os.getpid()}")
    servers = [start_server(env, tmp_path, "a"), start_server(env, tmp_path, "b")]
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        a, b = servers
        alice, admin = a.login("alice"), a.login("admin")
        req = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
        with engine.connect() as conn:
            deciders = list(conn.scalars(sa.text(
                "SELECT user_id FROM request_step_deciders WHERE request_id = :id AND step = 1"), {"id": req["id"]}))
            names = dict(conn.execute(sa.text("SELECT id, username FROM users")).all())
        # Each decider's socket on one process or the other, alternately.
        sockets = [probes(servers[n % 2], servers[n % 2].login(names[user])) for n, user in enumerate(deciders)]

        with engine.begin() as conn:  # the first step has waited 100 hours
            conn.execute(sa.text(
                "UPDATE request_steps SET started_at = started_at - interval '100 hours', remind_after_hours = 1,"
                " escalate_after_hours = 2, escalate_to = 'admin' WHERE request_id = :id AND step = 1"),
                {"id": req["id"]})

        def fired() -> bool:
            with engine.connect() as conn:
                return conn.execute(sa.text(
                    "SELECT reminded_at IS NOT NULL AND escalated_at IS NOT NULL FROM request_steps"
                    " WHERE request_id = :id AND step = 1"), {"id": req["id"]}).scalar()

        assert wait_until(fired), "the timers did not fire within 30 s"
        time.sleep(PASSES)

        with engine.connect() as conn:
            reminders = conn.execute(sa.text(
                "SELECT user_id, count(*) FROM notifications WHERE type = 'approval_reminder'"
                " AND CAST(payload AS jsonb) ->> 'request_id' = :id GROUP BY user_id"), {"id": str(req["id"])}).all()
            actions = list(conn.scalars(sa.text(
                "SELECT action FROM request_events WHERE request_id = :id ORDER BY id"), {"id": req["id"]}))
            escalated = list(conn.scalars(sa.text(
                "SELECT user_id FROM request_step_deciders WHERE request_id = :id AND via = 'escalation'"),
                {"id": req["id"]}))
        assert deciders and dict(reminders) == {user: 1 for user in deciders}
        assert actions == ["submit", "remind", "escalate"]
        assert escalated and set(escalated).isdisjoint(deciders)
        for socket in sockets:
            assert [r["request_id"] for r in socket.wait_for("approval_reminder")] == [req["id"]]
        time.sleep(0.5)
        assert all(len(socket.named("approval_reminder")) == 1 for socket in sockets)
    finally:
        engine.dispose()
        for server in servers:
            server.stop()
