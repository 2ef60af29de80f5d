"""The real server as users deploy it: any port and host name, production settings, 1,000+ sockets.

Servers run the repo's gunicorn.conf.py (as `make run` and docs/deploy.md do) with CORS_ORIGINS
unset, on a free port that is never 5000.
"""

from __future__ import annotations

import resource
import time

import pytest
import requests
import socketio
import websocket

from .live_server import (
    NodeProcess,
    Probe,
    base_env,
    current_seq,
    decide,
    metric,
    new_asset,
    sqlite_copy,
    sqlite_template,
    start_server,
    submit_assign,
)

pytestmark = pytest.mark.timeout(240)
CROWD = 1200  # more than gunicorn's default worker_connections (1000)
PROMPT = 2.0  # seconds: "still answers" on a shared 2-core machine; an idle server answers in ms


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    directory = tmp_path_factory.mktemp("capacity")
    return directory, sqlite_template(directory)


def _start(template, mode: str, name: str = "", preexec_fn=None, **env: str):
    directory, path = template
    name = name or f"{mode}-{env.get('FLASK_ENV', 'development')}"
    # The product's heartbeats: the harness's 1 s / 2 s would have a loaded machine's clients give
    # up on sockets the server still holds, and add 1,200 pings a second.
    settings = base_env(sqlite_copy(path, directory, name), mode, CORS_ORIGINS="", PING_INTERVAL="25",
                        PING_TIMEOUT="20", **env)
    return start_server(settings, directory, name, preexec_fn=preexec_fn)


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, template):
    live = _start(template, request.param)
    yield live
    live.stop()


def _connect(url: str, token: str, **kwargs) -> Probe:
    probe = Probe(url, token, **kwargs)
    try:
        return probe.connect()
    finally:
        probe.close()


def test_the_pages_own_origin_connects_on_a_non_default_port(server):
    assert not server.url.endswith(":5000")
    token = server.login("alice")["access_token"]
    port = server.url.rsplit(":", 1)[1]
    for url in (server.url, f"http://localhost:{port}"):  # two names of one machine, as on a LAN
        _connect(url, token, transports=["websocket"])  # websocket-client sends Origin: <url> itself
        _connect(url, token, transports=["polling"], headers={"Origin": url})


def _websocket_handshake(url: str, origin: str) -> str:
    """The first Engine.IO frame of a raw WebSocket sent with `origin`, or the refusal."""
    try:
        ws = websocket.create_connection(url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
                                         origin=origin, timeout=10)
    except websocket.WebSocketBadStatusException as refused:
        return f"refused {refused.status_code}"
    try:
        return ws.recv()[:1]
    finally:
        ws.close()


def test_a_foreign_origin_is_refused(server):
    token = server.login("alice")["access_token"]
    port = server.url.rsplit(":", 1)[1]
    for origin in ("http://evil.example", f"http://localhost:{port}", "http://127.0.0.1:5000"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            _connect(server.url, token, transports=["polling"], headers={"Origin": origin})
        assert _websocket_handshake(server.url, origin) == "refused 400"
    assert _websocket_handshake(server.url, server.url) == "0"  # Engine.IO OPEN


def test_production_settings_check_the_origin_too(template):
    live = _start(template, "gevent", FLASK_ENV="production")
    try:
        token = live.login("alice")["access_token"]
        _connect(live.url, token, transports=["polling"], headers={"Origin": live.url})
        _connect(live.url, token, transports=["websocket"])
        with pytest.raises(socketio.exceptions.ConnectionError):
            _connect(live.url, token, transports=["polling"], headers={"Origin": "http://evil.example"})
        assert _websocket_handshake(live.url, "http://evil.example") == "refused 400"
    finally:
        live.stop()


def _timed_get(url: str, token: str | None = None) -> tuple[int, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = requests.get(url, headers=headers, timeout=30)
    return response.status_code, time.perf_counter() - started


def test_more_sockets_than_gunicorns_default_and_http_still_answers(server, node_client):
    alice = server.login("alice")["access_token"]
    admin = server.login("admin")["access_token"]
    crowd = NodeProcess(node_client, "crowd.mjs", server.url, alice, str(current_seq(server, alice)), str(CROWD))
    try:
        held = crowd.expect("connected", timeout=120)
        assert (held["count"], held["failed"]) == (CROWD, 0), held
        assert metric(server, "assetflow_sockets_connected") >= CROWD

        for path, token in (("/healthz", None), ("/api/auth/me", alice), ("/api/requests?scope=mine", alice)):
            status, seconds = _timed_get(server.url + path, token)
            assert status == 200 and seconds < PROMPT, (path, status, seconds)

        request = submit_assign(server, alice, new_asset(server, admin)["id"])
        # Nobody is notified of their own submission: Bob's decision is what reaches her sockets.
        decide(server, server.login("bob")["access_token"], request["id"], "reject", "crowd")
        crowd.send(f"expect {request['id']}")
        delivered = crowd.expect("delivered", timeout=60)
        assert delivered["sockets"] == CROWD, delivered
        crowd.send("close")
        crowd.expect("closed")
    finally:
        crowd.close()


def test_start_up_warns_when_the_open_file_limit_is_too_low(template):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 2048))

    live = _start(template, "eventlet", "low-limit", preexec_fn=low_limit)
    try:
        assert "ulimit -n is 2048 but worker_connections=12000 needs" in live.log_text()
        assert requests.get(live.url + "/healthz", timeout=5).status_code == 200
    finally:
        live.stop()

