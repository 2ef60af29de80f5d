"""Connect pacing under gunicorn, once per async mode: a connect that finds no place is refused at once with
`unavailable` and a time to come back, and is let in when it comes back (assetflow/realtime/pacing.py).

The one place is held by a connect whose query waits inside PostgreSQL behind a lock this test holds on
`users`, so which connect holds it is certain, not a matter of timing.
"""

from __future__ import annotations

import threading
import time

import psycopg2
import pytest
import socketio

from .live_server import base_env, metric, start_server, wait_until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, databases, tmp_path_factory):
    mode = request.param
    env = base_env(databases.create(f"pacing_{mode}"), mode, SOCKET_CONNECT_CONCURRENCY="1",
                   SOCKET_CONNECT_WAIT="0")
    live = start_server(env, tmp_path_factory.mktemp(f"pacing-{mode}"), mode)
    yield live
    live.stop()


def waiting_on_a_lock(url: str) -> int:
    with psycopg2.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
                       "(SELECT oid FROM pg_database WHERE datname = current_database())")
        return cursor.fetchone()[0]


def test_a_connect_without_a_place_is_told_when_to_come_back_and_is_let_in_then(server, probes):
    alice, bob = server.login("alice"), server.login("bob")
    url = server.env["DATABASE_URL"].replace("postgresql+psycopg2://", "postgresql://")
    paced_before = metric(server, "assetflow_socket_connects_paced_total")
    locker = psycopg2.connect(url)
    cursor = locker.cursor()
    cursor.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    first: dict = {}

    def connect_first() -> None:
        try:
            first["probe"] = probes(server, alice, last_seq=0)
        except Exception as error:  # reported by the assertion below
            first["error"] = error

    holder = threading.Thread(target=connect_first)
    try:
        holder.start()
        # The first connect's query now waits for the lock, holding the process's one place.
        assert wait_until(lambda: waiting_on_a_lock(url) > 0, 10), "the first connect never reached its query"
        second = socketio.Client(reconnection=False)
        errors: list = []
        second.on("connect_error", errors.append)
        refused_at = time.monotonic()
        with pytest.raises(socketio.exceptions.ConnectionError):
            second.connect(server.url, auth={"token": bob["access_token"], "last_seq": 0}, transports=["websocket"],
                           wait_timeout=10)
        refused_within = time.monotonic() - refused_at
    finally:
        locker.rollback()
        locker.close()
        holder.join(timeout=20)
    assert errors and errors[0]["message"] == "unavailable", errors
    error = errors[0]["data"]["error"]
    assert error["code"] == "unavailable" and error["message"] == "Too many connections at once; try again"
    assert 500 <= error["details"]["retry_after_ms"] <= 15_000
    assert refused_within < 2, refused_within  # at once, not after the first connect's wait
    assert "probe" in first and first["probe"].client.connected, first
    assert metric(server, "assetflow_socket_connects_paced_total") == paced_before + 1
    # Coming back later, the place is free.
    again = probes(server, bob, last_seq=0)
    assert again.client.connected
    second.shutdown()
