"""The WebSocket layer under Engine.IO, on the real server in both async modes.

Declining permessage-deflate is what keeps a socket small: the zlib state of one compressed
WebSocket is ~260 KiB allocated (~200 KiB resident) in eventlet.websocket and in wsproto alike
(bench/socket_memory.py), for events of a few hundred bytes. Browsers and socket.io-client always
offer it; RFC 6455 lets the server decline, and the client then sends plain frames.
"""

from __future__ import annotations

import base64
import os
import socket

import pytest

from assetflow.realtime.compression import DeclineWebSocketCompression

from .conftest import build_app
from .live_server import base_env, sqlite_copy, sqlite_template, start_server

pytestmark = pytest.mark.timeout(120)
OFFER = "permessage-deflate; client_max_window_bits"


@pytest.fixture(scope="module", params=["eventlet", "gevent"])
def server(request, tmp_path_factory):
    directory = tmp_path_factory.mktemp("wsstack")
    mode = request.param
    live = start_server(base_env(sqlite_copy(sqlite_template(directory), directory, mode), mode), directory, mode)
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
