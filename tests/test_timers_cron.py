"""`flask --app wsgi run-timers` from cron, beside a server whose own timer loop is off
(TIMER_SECONDS=0): with a message queue its reminders are pushed live to sockets on the server;
without one they wait in the inbox, replayed on the next connect."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from .conftest import QUEUE_URL, require_redis
from .live_server import ROOT, Probe, base_env, by_seq, current_seq, new_asset, start_server, submit_assign

pytestmark = pytest.mark.timeout(180)


def cron_run_timers(env: dict[str, str]) -> str:
    """`flask --app wsgi run-timers` as cron runs it: the servers' environment, ASYNC_MODE included; its output."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "run-timers"], cwd=ROOT, env=env,
                            check=True, timeout=120, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return result.stdout


def make_reminder_due(url: str, request_id: int) -> list[int]:
    """Step 1 of the request has waited 100 hours, past its 1-hour reminder; its deciders' user ids."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE request_steps SET started_at = started_at - interval '100 hours', remind_after_hours = 1,"
                " escalate_after_hours = NULL"
                " WHERE request_id = :id AND step = 1"), {"id": request_id})
            return list(conn.scalars(sa.text(
                "SELECT user_id FROM request_step_deciders WHERE request_id = :id AND step = 1 ORDER BY user_id"),
                {"id": request_id}))
    finally:
        engine.dispose()


def reminder_seq(url: str, user_id: int, request_id: int) -> int:
    """The seq of the user's one stored reminder for the request."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT seq FROM notifications WHERE user_id = :user AND type = 'approval_reminder'"
                " AND CAST(payload AS jsonb) ->> 'request_id' = :id"),
                {"user": user_id, "id": str(request_id)}).scalar_one()
    finally:
        engine.dispose()


def approver_login(server, url: str, user_id: int) -> dict:
    """Log the decider in (demo users share one password)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            username = conn.execute(sa.text("SELECT username FROM users WHERE id = :id"), {"id": user_id}).scalar_one()
    finally:
        engine.dispose()
    return server.login(username)


def test_run_timers_pushes_live_through_the_message_queue(databases, tmp_path, probes):
    require_redis()
    url = databases.create("cron_queue")
    env = base_env(url, "eventlet", TIMER_SECONDS="0", SOCKETIO_MESSAGE_QUEUE=QUEUE_URL,
                   SOCKETIO_CHANNEL=f"assetflow-cron-{os.getpid()}")
    server = start_server(env, tmp_path, "server")
    try:
        alice, admin = server.login("alice"), server.login("admin")
        req = submit_assign(server, alice["access_token"], new_asset(server, admin["access_token"])["id"])
        deciders = make_reminder_due(url, req["id"])
        sockets = {user: probes(server, approver_login(server, url, user)) for user in deciders}

        output = cron_run_timers(env)  # its own process: same database, same queue

        assert "run-timers: 1 reminded, 0 escalated" in output and "pushed live" not in output, output
        assert deciders
        for user, socket in sockets.items():
            [pushed] = socket.wait_for("approval_reminder")
            assert pushed["request_id"] == req["id"] and pushed["replayed"] is False
            assert pushed["seq"] == reminder_seq(url, user, req["id"])
    finally:
        server.stop()


def test_run_timers_without_a_queue_stores_the_reminder_for_replay(databases, tmp_path, probes):
    url = databases.create("cron_local")
    env = base_env(url, "eventlet", TIMER_SECONDS="0")
    server = start_server(env, tmp_path, "server")
    try:
        alice, admin = server.login("alice"), server.login("admin")
        req = submit_assign(server, alice["access_token"], new_asset(server, admin["access_token"])["id"])
        user = make_reminder_due(url, req["id"])[0]
        login = approver_login(server, url, user)
        before = current_seq(server, login["access_token"])
        socket = probes(server, login, last_seq=before)

        output = cron_run_timers(env)

        assert "run-timers: 1 reminded, 0 escalated" in output, output
        assert "no SOCKETIO_MESSAGE_QUEUE, so nothing was pushed live" in output
        seq = reminder_seq(url, user, req["id"])
        assert seq == before + 1
        # A live event sent after the run: delivery to one socket is ordered, so had the reminder
        # been pushed it would be here by now.
        response = server.api("POST", f"/api/requests/{req['id']}/comments", alice["access_token"],
                              json={"body": "any news?"})
        assert response.status_code == 201, response.text
        socket.wait_for("request_comment")
        assert socket.named("approval_reminder") == []

        # Replayed on the next connect from where the client left off, and listed on a page load.
        again = Probe(server.url, login["access_token"], last_seq=before).connect()
        try:
            replayed = by_seq(again.wait_for("approval_reminder") + again.wait_for("request_comment"))
        finally:
            again.close()
        assert [(e["event"], e["seq"], e["replayed"]) for e in replayed] == [
            ("approval_reminder", seq, True), ("request_comment", seq + 1, True)]
        inbox = server.api("GET", "/api/notifications", login["access_token"]).json()
        assert any(n["seq"] == seq and n["type"] == "approval_reminder" for n in inbox["items"]), inbox
    finally:
        server.stop()
