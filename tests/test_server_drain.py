"""A graceful stop under gunicorn, once per async mode: SIGTERM tells every socket to reconnect now.

The master gets SIGTERM, as systemd and a rolling restart send it. Every socket, WebSocket and
long-polling alike, must receive `going_away` and be closed at once, and the process must be gone
long before its graceful timeout (30 s here), which is what it waited out before (and under eventlet,
past that, the heartbeat timeout of every socket it had closed: assetflow/realtime/internals.py).
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from assetflow.realtime import drain

from .conftest import build_app
from .live_server import base_env, sqlite_copy, sqlite_template, start_server

pytestmark = pytest.mark.timeout(120)
GRACEFUL_TIMEOUT = 30


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("drain")
    return directory, sqlite_template(directory)


@pytest.mark.parametrize("mode", ["eventlet", "gevent"])
def test_sigterm_tells_every_socket_to_reconnect_and_exits_long_before_the_graceful_timeout(
        mode, template, probes):
    directory, path = template
    # The production heartbeats: a socket nobody wakes would hold its worker for their 45 s.
    env = base_env(sqlite_copy(path, directory, mode), mode, PING_INTERVAL="25", PING_TIMEOUT="20")
    server = start_server(env, directory, mode, graceful_timeout=GRACEFUL_TIMEOUT)
    try:
        logins = [server.login(name) for name in ("alice", "bob", "carol", "admin")]
        sockets = [probes(server, login) for login in logins]
        sockets += [probes(server, logins[0], transports=["polling"]), probes(server, logins[1])]

        stopped = time.monotonic()
        os.kill(server.process.pid, signal.SIGTERM)  # the master, as systemd's KillMode=mixed does
        for probe in sockets:
            assert probe.wait(lambda p=probe: p.disconnects, 5), f"a socket was not closed: {probe.events}"
        closed_within = time.monotonic() - stopped
        server.process.wait(timeout=GRACEFUL_TIMEOUT)
        exited_within = time.monotonic() - stopped
    finally:
        server.stop()

    assert [probe.named("going_away") for probe in sockets] == [[{"reconnect_within_ms": 1000}]] * len(sockets)
    assert closed_within < 2, closed_within
    # A second of refusing new work (drain.LEAVE_SECONDS), then gunicorn's worker sees its stop flag
    # within a second and nothing holds it.
    assert exited_within < 4, exited_within
    assert server.process.returncode == 0
    assert f"graceful stop: told {len(sockets)} sockets to reconnect" in server.log_text()
    assert "Worker graceful timeout" not in server.log_text()


def test_a_stopping_process_refuses_new_work_with_retry_after_and_still_serves_its_sessions():
    app = build_app()
    client = app.test_client()
    handshake = "/socket.io/?EIO=4&transport=polling"
    assert client.get(handshake).status_code == 200  # open while serving
    assert client.get("/readyz").status_code == 200

    app.extensions[drain.KEY] = True  # what drain.start sets, without its background work
    for method, path in (("GET", handshake), ("GET", "/socket.io/?EIO=4&transport=websocket"), ("GET", "/readyz"),
                         ("GET", "/api/auth/me"), ("POST", "/api/auth/login"), ("GET", "/")):
        response = client.open(path, method=method, json={} if method == "POST" else None)
        assert response.status_code == 503, path
        assert response.headers["Retry-After"] == "1"
        assert response.get_json()["error"] == {"code": "unavailable", "message": "This server process is stopping; "
                                                "try again", "details": {"retry_after": 1}}
    # A session's own polls (an unknown sid is Engine.IO's 400), health and metrics are still served.
    assert client.get("/socket.io/?EIO=4&transport=polling&sid=unknown").status_code == 400
    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_the_reconnect_window_grows_with_the_sockets_held():
    assert drain.window_ms(0) == drain.window_ms(1000) == 1000
    assert drain.window_ms(5000) == 5000
