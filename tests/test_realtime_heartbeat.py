"""Heartbeats in process: a client that stops answering pings is dropped and leaves its rooms.

The app runs on a real threaded WSGI server, so Engine.IO's own ping loop and its client monitor
do the work; the client is driven by hand over long-polling, so it can simply stop.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from flask_jwt_extended import create_access_token
from werkzeug.serving import make_server

from assetflow.extensions import db, socketio

from .conftest import build_app
from .factories import make_user

pytestmark = pytest.mark.timeout(60)
RECORD_SEPARATOR = "\x1e"


@pytest.fixture
def live_app():
    app = build_app(PING_INTERVAL=1, PING_TIMEOUT=1)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield app, f"http://127.0.0.1:{server.server_port}/socket.io/?EIO=4&transport=polling"
        db.session.remove()
    server.shutdown()
    thread.join(timeout=5)


def _members(room: str) -> list[str]:
    return [sid for sid, _ in socketio.server.manager.get_participants("/", room)]


def test_silent_client_is_dropped_and_leaves_its_rooms(live_app):
    app, url = live_app
    user = make_user("approver")
    token = create_access_token(identity=str(user.id))

    opened = requests.get(url, timeout=5).text
    handshake = json.loads(opened[opened.index("{"):])
    assert (handshake["pingInterval"], handshake["pingTimeout"]) == (1000, 1000)
    session = f"{url}&sid={handshake['sid']}"
    assert requests.post(session, data="40" + json.dumps({"token": token}), timeout=5).text.lower() == "ok"
    packets = requests.get(session, timeout=5).text.split(RECORD_SEPARATOR)
    assert packets[0].startswith("40{"), packets
    sid = json.loads(packets[0][2:])["sid"]
    assert _members(f"user:{user.id}") == [sid] and _members("role:approver") == [sid]

    # Stop polling: the ping the server queues after 1 s is never answered.
    deadline = time.monotonic() + 10
    while _members(f"user:{user.id}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _members(f"user:{user.id}") == [] and _members("role:approver") == []
    assert not socketio.server.manager.is_connected(sid, "/")
