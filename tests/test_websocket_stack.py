"""The WebSocket layer under Engine.IO, on the real server in both async modes.

Declining permessage-deflate is what keeps a socket small: the zlib state of one compressed
WebSocket is ~260 KiB allocated (~200 KiB resident) in eventlet.websocket and in wsproto alike
(bench/socket_memory.py), for events of a few hundred bytes. Browsers and socket.io-client always
offer it; RFC 6455 lets the server decline, and the client then sends plain frames.

Green threads are the other part: each one that ran Python keeps its own frame chunk and saved stack,
so a socket holds 3 in both modes (the request's, reading; Engine.IO's writer; its ping task), not
simple-websocket's 4 (assetflow/realtime/internals.py). The servers here serve wsgi:app with
bench/introspect.py's /_bench/ routes (bench/introspect_app.py), which count the live greenlets.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import struct
import time

import pytest
import requests
import websocket

from assetflow.realtime.compression import DeclineWebSocketCompression
from assetflow.realtime.internals import SocketInput

from .conftest import build_app
from .live_server import Probe, base_env, sqlite_copy, sqlite_template, start_server, wait_until

pytestmark = pytest.mark.timeout(120)
OFFER = "permessage-deflate; client_max_window_bits"


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("wsstack")
    mode = request.param
    live = start_server(base_env(sqlite_copy(sqlite_template(directory), directory, mode), mode), directory, mode,
                        app="introspect_app:app")
    yield live
    live.stop()


def _handshake(url: str, extensions: str) -> tuple[str, dict[str, str]]:
    """A raw WebSocket upgrade to the Engine.IO endpoint; the status line and response headers."""
    host, port = url.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1].strip() for line in head[1:] if ":" in line}
    return head[0], headers


def test_server_declines_websocket_compression(server):
    status, headers = _handshake(server.url, OFFER)
    assert " 101 " in status, status
    assert "sec-websocket-extensions" not in headers, headers


def test_compression_setting_leaves_the_offer_to_the_websocket_server():
    assert isinstance(build_app().wsgi_app, DeclineWebSocketCompression)
    assert not isinstance(build_app(WEBSOCKET_COMPRESSION=True).wsgi_app, DeclineWebSocketCompression)


def _greenlets(url: str) -> dict:
    """The server's live greenlets: total, and grouped by the innermost frames they are parked in."""
    return requests.get(url + "/_bench/memory", params={"top": 1, "ids": 1}, timeout=30).json()["green"]


def test_a_websocket_holds_three_green_threads_and_no_reader_thread(server):
    # The request's (reading the socket), Engine.IO's writer and its ping task; simple-websocket's
    # reader thread (parked in ws.py:_thread) would make it 4 under gevent.
    sockets = 10
    token = server.login("alice")["access_token"]
    # Greenlets that are new by the second count, not a difference of totals: those of sockets that earlier
    # tests closed end meanwhile (a closed socket's ping task sleeps out its interval first).
    before = set(_greenlets(server.url)["ids"])
    probes = []
    try:
        for _ in range(sockets):
            probes.append(Probe(server.url, token).connect())
        time.sleep(0.5)  # the connect handlers' own green threads end
        after = _greenlets(server.url)
    finally:
        for probe in probes:
            probe.close()
    assert not [place for place, _ in after["by_parking_place"] if "ws.py:_thread" in place], after
    new = len(set(after.pop("ids")) - before)
    # +2: the odd request or heartbeat green thread that happens to be alive at the second count.
    assert 2 * sockets < new <= 3 * sockets + 2, (new, after)


def test_gevent_worker_keeps_no_greenlet_spawn_tree(server):
    # gunicorn.conf.py sets GEVENT_TRACK_GREENLET_TREE=0 before the worker imports gevent.
    expected = {"gevent": False, "eventlet": None}[server.async_mode]  # None: no gevent in the process
    assert _greenlets(server.url)["gevent_track_greenlet_tree"] is expected


def _memory(url: str) -> dict:
    return requests.get(url + "/_bench/memory", params={"top": 400}, timeout=30).json()


def test_requests_share_one_socket_input_class():
    # python-engineio's own middleware defines a class per request for environ["eventlet.input"].
    app = build_app()
    seen = []
    app.wsgi_app.wsgi_app.wsgi_app.wsgi_app = lambda environ, start_response: seen.append(environ) or []
    for _ in range(2):
        app.wsgi_app({"PATH_INFO": "/healthz", "gunicorn.socket": "the socket"}, lambda *a: None)
    assert [type(environ["eventlet.input"]) for environ in seen] == [SocketInput, SocketInput]
    assert seen[1]["eventlet.input"].get_socket().socket == "the socket"
    assert seen[1]["flask.app"] is app


def test_an_open_websocket_keeps_no_class_of_its_own(server):
    # Each open socket's request used to keep python-engineio's per-request `Input` class alive (~3 KiB).
    sockets = 20
    token = server.login("alice")["access_token"]
    types = dict(_memory(server.url)["objects"]).get("builtins.type", 0)
    probes = []
    try:
        for _ in range(sockets):
            probes.append(Probe(server.url, token).connect())
        grown = dict(_memory(server.url)["objects"]).get("builtins.type", 0) - types
    finally:
        for probe in probes:
            probe.close()
    assert grown < sockets // 4, grown


def test_the_worker_freezes_the_loaded_app_and_collects_young_objects_less_often(server):
    """gunicorn.conf.py's tune_gc: what the app loaded is out of every later collection, and the youngest
    generation is collected every 10,000 allocations instead of 700 (bench/tail_latency.py measures why)."""
    report = requests.get(server.url + "/_bench/gc", timeout=30).json()
    assert report["threshold"][0] == 10_000
    assert report["frozen"] > 50_000, report  # the app as loaded: ~180,000 objects
    assert report["tracked"] < report["frozen"], report


def test_the_socket_input_shuts_both_halves_and_leaves_the_close_to_gunicorn():
    # eventlet.websocket's close() asks for shutdown(True), the writing half only, then closes.
    class Recorder:
        def __init__(self):
            self.calls = []

        def shutdown(self, how):
            self.calls.append(("shutdown", how))

        def close(self):
            self.calls.append(("close",))

        def fileno(self):
            return 7

    sock = Recorder()
    stand_in = SocketInput(sock).get_socket()
    stand_in.shutdown(True)
    stand_in.close()
    assert sock.calls == [("shutdown", socket.SHUT_RDWR)]
    assert stand_in.fileno() == 7  # everything else is the socket's own


def _raw_websocket(url: str, token: str) -> websocket.WebSocket:
    """A hand-driven Engine.IO WebSocket with the Socket.IO namespace connected."""
    ws = websocket.create_connection(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                     timeout=10, suppress_origin=True)
    assert ws.recv().startswith("0")  # Engine.IO OPEN
    ws.send("40" + json.dumps({"token": token, "last_seq": 10**9}))
    assert ws.recv().startswith("40")  # Socket.IO CONNECT
    return ws


def _reset(ws: websocket.WebSocket) -> None:
    """Drop the TCP connection with a RST, as a crashed browser or a dead NAT entry does."""
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.sock.close()


# Each way a socket ends: the WebSocket close frame (a browser leaving the page), Engine.IO's close
# packet (socket.io-client's disconnect()), the connection simply closed or reset, and the server's
# own disconnect (a logout, which revokes the token and closes its sockets).
ENDINGS = {
    "close frame": lambda ws: ws.close(),
    "engine.io close": lambda ws: ws.send("1"),
    "tcp close": lambda ws: ws.sock.close(),
    "tcp reset": _reset,
}
LOG_RECORD = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")  # a record starts with one (gunicorn's after a "[")


def test_sockets_that_end_every_way_leave_no_shutdown_error_in_the_log(server):
    """Issue 20: a client's close frame made eventlet.websocket close the descriptor, Engine.IO's writer
    closed it again and eventlet wrote "socket shutdown error: [Errno 9] Bad file descriptor" to the error
    log with no newline, glued to the next record. SocketInput leaves the close to gunicorn."""
    login = server.login("alice")
    logged_out = server.login("alice")
    start = len(server.log_text())
    sockets = [(ending, _raw_websocket(server.url, login["access_token"])) for ending in ENDINGS for _ in range(3)]
    revoked = [_raw_websocket(server.url, logged_out["access_token"]) for _ in range(3)]
    for ending, ws in sockets:
        ENDINGS[ending](ws)
    assert server.api("POST", "/api/auth/logout", logged_out["access_token"], json={}).status_code == 200
    ended = len(sockets) + len(revoked)
    assert wait_until(lambda: server.log_text()[start:].count("socket disconnected user=") >= ended, timeout=20)
    for ws in revoked:
        ws.close()
    time.sleep(0.5)  # the writers' close() comes after the disconnect's log line
    log = server.log_text()[start:]
    assert "shutdown error" not in log, log
    glued = [line for line in log.splitlines() if any(m.start() > 1 for m in LOG_RECORD.finditer(line))]
    assert glued == [], glued
