"""Scale-out: two gunicorn processes, one PostgreSQL database, Redis as the Socket.IO queue.

Run once per async mode. Also shows that PostgreSQL queries are green: a request stuck behind a
row lock inside PostgreSQL does not stall the other requests or sockets of its process.
"""

from __future__ import annotations

import os
import threading
import time

import psycopg2
import pytest

from .conftest import QUEUE_URL, require_redis
from .live_server import (
    base_env,
    by_seq,
    decide,
    flask_cli,
    metric,
    new_asset,
    start_server,
    submit_assign,
)

pytestmark = pytest.mark.timeout(180)
LOCK_SECONDS = 3.0


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def cluster(request, databases, tmp_path_factory):
    """Processes A and B of one deployment: same database, same queue channel."""
    require_redis()
    mode = request.param
    env = base_env(databases.create(mode), mode, SOCKETIO_MESSAGE_QUEUE=QUEUE_URL,
                   SOCKETIO_CHANNEL=f"assetflow-test-{os.getpid()}-{mode}")
    directory = tmp_path_factory.mktemp(f"cluster-{mode}")
    servers = []
    try:
        servers.append(start_server(env, directory, "a"))
        servers.append(start_server(env, directory, "b"))
        yield tuple(servers)
    finally:
        for server in servers:
            server.stop()


def test_event_from_one_process_reaches_sockets_on_the_other(cluster, probes):
    a, b = cluster
    alice, bob, admin = a.login("alice"), b.login("bob"), a.login("admin")
    alice_on_a, bob_on_b = probes(a, alice), probes(b, bob)
    req = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
    assert bob_on_b.wait_for("approval_update")[0]["request_id"] == req["id"]
    assert bob_on_b.wait_for("queue_update")[0]["request_id"] == req["id"]

    other = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
    decide(b, bob["access_token"], req["id"], "approve")
    decide(b, bob["access_token"], other["id"], "reject", "no")
    updates = by_seq(alice_on_a.wait_for("approval_update", 2))
    assert [(u["action"], u["status"]) for u in updates] == [("approve", "approved"), ("reject", "rejected")]
    time.sleep(0.5)
    assert len(alice_on_a.named("approval_update")) == 2  # once, not once per process

    # Replay on the other process, through the queue-backed manager: the same two, once.
    replay = probes(b, alice, last_seq=updates[0]["seq"] - 1)
    replayed = replay.wait_for("approval_update", 2)
    time.sleep(0.5)
    assert [u["notification_id"] for u in by_seq(replay.named("approval_update"))] == [
        u["notification_id"] for u in updates]
    assert all(u["replayed"] for u in replayed)


def test_logout_on_one_process_disconnects_sockets_on_the_other(cluster, probes):
    a, b = cluster
    login, other = a.login("alice"), a.login("alice")
    on_a, on_b, kept = probes(a, login), probes(b, login, transports=["polling"]), probes(a, other)
    response = b.api("POST", "/api/auth/logout", login["access_token"], json={})
    assert response.status_code == 200
    assert on_a.wait(lambda: on_a.disconnects, 10), "socket on the other process was not disconnected"
    assert on_b.wait(lambda: on_b.disconnects, 10)
    time.sleep(0.5)
    assert kept.client.connected


def test_readyz_checks_database_and_queue(cluster):
    for server in cluster:
        response = server.api("GET", "/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {"database": "ok", "message_queue": "ok"}


def test_a_slow_query_does_not_stall_the_process(cluster, databases, probes):
    a, _ = cluster
    alice, bob, admin = a.login("alice"), a.login("bob"), a.login("admin")
    bob_socket = probes(a, bob)  # answers pings every 1 s; dropped after 2 s of silence
    req = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
    bob_socket.wait_for("approval_update")

    # Hold the request's row lock outside the app: the approve below waits inside PostgreSQL.
    url = databases.url(f"{databases.prefix}_{a.async_mode}")
    locker = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    cursor = locker.cursor()
    cursor.execute("SELECT id FROM requests WHERE id = %s FOR UPDATE", (req["id"],))
    slow: dict = {}

    def approve() -> None:
        started = time.monotonic()
        slow["response"] = a.api("POST", f"/api/requests/{req['id']}/approve", bob["access_token"], json={})
        slow["seconds"] = time.monotonic() - started

    locked_at = time.monotonic()
    worker = threading.Thread(target=approve)
    worker.start()
    latencies: list[float] = []
    other = None
    try:
        time.sleep(0.3)  # the approve is now waiting for the lock
        while time.monotonic() - locked_at < LOCK_SECONDS - 0.5:
            started = time.monotonic()
            assert a.api("GET", "/api/auth/me", alice["access_token"]).status_code == 200
            latencies.append(time.monotonic() - started)
            if other is None:  # a second request that writes, commits and emits meanwhile
                other = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
            time.sleep(0.1)
        assert worker.is_alive(), "the approve was not blocked by the lock"
        delivered = bob_socket.wait(lambda: any(e["request_id"] == other["id"]
                                                for e in bob_socket.named("approval_update")), 1)
    finally:
        time.sleep(max(0.0, LOCK_SECONDS - (time.monotonic() - locked_at)))
        locker.rollback()
        locker.close()
        worker.join(timeout=20)

    assert delivered, "an event committed during the slow query did not reach the socket"
    assert max(latencies) < 1.0, latencies
    assert slow["response"].status_code == 200 and slow["seconds"] >= LOCK_SECONDS - 0.5
    assert bob_socket.client.connected and bob_socket.disconnects == []  # pings kept flowing


def test_deactivating_a_user_drops_their_sockets_on_every_process_at_once(cluster, probes):
    a, b = cluster
    carol, bob, alice, admin = a.login("carol"), a.login("bob"), a.login("alice"), a.login("admin")
    carol_sockets = [probes(a, carol), probes(b, carol), probes(b, carol, transports=["polling"])]
    bob_on_b = probes(b, bob)  # another approver: what he receives, carol would have received
    try:
        flask_cli(a.env, "deactivate-user", "carol")  # a third process: it reaches A and B through Redis
        committed = time.monotonic()  # the CLI has committed and published the disconnect
        for probe in carol_sockets:
            assert probe.wait(lambda p=probe: p.disconnects, 10), "a socket of the deactivated user stayed up"
        dropped_within = time.monotonic() - committed
        events_then = [len(p.events) for p in carol_sockets]
        req = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
        assert bob_on_b.wait(lambda: any(e["request_id"] == req["id"] for e in bob_on_b.named("queue_update")))
        assert [len(p.events) for p in carol_sockets] == events_then  # nothing after the drop
        assert a.api("GET", "/api/auth/me", carol["access_token"]).status_code == 401
        assert dropped_within < 2, dropped_within
    finally:
        flask_cli(a.env, "activate-user", "carol")
    assert a.login("carol")["user"]["username"] == "carol"


def test_deactivating_through_the_admin_api_drops_the_sockets_on_the_other_process(cluster, probes):
    a, b = cluster
    carol, admin = a.login("carol"), a.login("admin")
    on_b = probes(b, carol)
    path = f"/api/users/{carol['user']['id']}"
    try:
        response = a.api("PATCH", path, admin["access_token"], json={"active": False})
        assert response.status_code == 200 and response.json()["active"] is False
        assert on_b.wait(lambda: on_b.disconnects, 10), "process B kept the socket of a user deactivated on A"
        assert b.api("GET", "/api/auth/me", carol["access_token"]).status_code == 401
    finally:
        a.api("PATCH", path, admin["access_token"], json={"active": True})
    assert a.login("carol")["user"]["username"] == "carol"


def test_a_process_drops_emits_for_sockets_it_does_not_hold_and_the_holder_delivers_them(cluster, probes):
    a, b = cluster
    alice, bob, admin = a.login("alice"), a.login("bob"), a.login("admin")
    alice_on_a = probes(a, alice)  # alice's only socket; bob has none
    req = submit_assign(a, alice["access_token"], new_asset(a, admin["access_token"])["id"])
    dropped = {s.url: metric(s, "assetflow_queue_emits_not_here_total", event="approval_update") for s in cluster}
    decide(b, bob["access_token"], req["id"], "approve")  # one approval_update, to alice's room, published by B
    update = alice_on_a.wait_for("approval_update")[0]
    assert update["request_id"] == req["id"] and update["status"] == "approved"
    time.sleep(0.5)  # anything doubled would be here by now
    assert len(alice_on_a.named("approval_update")) == 1
    # B held no socket in alice's room: it dropped the emit before encoding it; A, which holds her socket, did not.
    assert metric(b, "assetflow_queue_emits_not_here_total", event="approval_update") == dropped[b.url] + 1
    assert metric(a, "assetflow_queue_emits_not_here_total", event="approval_update") == dropped[a.url]
