"""What a client may send over its socket (in process): no reserved names, a bounded event rate,
validated input with the HTTP error shape, and log lines it cannot forge."""

from __future__ import annotations

import logging

import pytest

from assetflow.extensions import socketio
from assetflow.realtime.guard import Budget, library_logger

from .actions import submit
from .conftest import Auth, build_app
from .factories import make_user
from .test_realtime import connect, received, sample, server_rooms

MAX_SEQ = 2**63 - 1


def test_a_client_connect_event_does_not_run_the_connect_handler(app, people):
    alice = people["alice"]
    sio = connect(app, people["erin"].token)
    before_rooms, before_gauge = server_rooms(sio), sample("assetflow_sockets_connected")
    # As python-socketio calls the real handler: (environ, auth). A client can mimic the shape.
    sio.emit("connect", {}, {"token": alice.token, "last_seq": 0})
    sio.emit("connect", {"token": alice.token})
    assert server_rooms(sio) == before_rooms
    assert f"user:{alice.id}" not in server_rooms(sio)
    assert sample("assetflow_sockets_connected") == before_gauge


def test_a_client_disconnect_event_does_not_run_the_disconnect_handler(app, people, caplog):
    caplog.set_level(logging.INFO, logger="assetflow.realtime.sockets")
    sio = connect(app, people["alice"].token)
    before = sample("assetflow_sockets_connected")
    sio.emit("disconnect", "x\nsocket disconnected user=1 sid=forged")
    assert sample("assetflow_sockets_connected") == before
    assert sio.is_connected()
    assert "forged" not in caplog.text and "socket disconnected" not in caplog.text


def test_the_reserved_names_still_work_for_the_real_lifecycle(app, people, caplog):
    caplog.set_level(logging.INFO, logger="assetflow.realtime.sockets")
    alice = people["alice"]
    before = sample("assetflow_sockets_connected")
    sio = connect(app, alice.token)
    assert sample("assetflow_sockets_connected") == before + 1
    sio.disconnect()
    assert sample("assetflow_sockets_connected") == before
    assert f"socket disconnected user={alice.id} " in caplog.text


def test_the_budget_drops_then_cuts_and_refills_at_its_rate():
    budget = Budget(rate=2, burst=3, overflow=4, stamp=100.0)
    assert [budget.spend(100.0) for _ in range(8)] == ["ok"] * 3 + ["drop"] * 4 + ["cut"]
    slow = Budget(rate=2, burst=3, overflow=4, stamp=100.0)
    assert [slow.spend(100.0) for _ in range(7)] == ["ok"] * 3 + ["drop"] * 4
    assert slow.spend(101.0) == "drop"  # 2 tokens back at 2/s, 1 spent: still 3 in debt
    # 3.5 s later the debt is paid and the burst full again (never more than the burst).
    assert [slow.spend(104.5) for _ in range(4)] == ["ok"] * 3 + ["drop"]
    # A client that stays under the rate is never dropped, however long it keeps going.
    steady = Budget(rate=2, burst=3, overflow=4, stamp=0.0)
    assert {steady.spend(t * 0.5) for t in range(1, 1000)} == {"ok"}


@pytest.fixture
def tight_app():
    """An app with a small event budget: 5 saved up, no refill (so no timing), 10 over before the cut."""
    app = build_app(SOCKET_EVENTS_PER_SECOND=0, SOCKET_EVENT_BURST=5, SOCKET_EVENT_OVERFLOW=10)
    with app.app_context():
        yield app


def test_events_over_the_budget_are_dropped_then_the_socket_is_cut(tight_app, caplog):
    caplog.set_level(logging.INFO, logger="assetflow.realtime")
    user = make_user("employee", "flood")
    sio = connect(tight_app, Auth(tight_app.test_client()).login(user)["access_token"])  # CONNECT takes one
    dropped_before = sample("assetflow_socket_events_dropped_total")
    acks = [sio.emit("sync", {"after_seq": 0}, callback=True) for _ in range(4)]
    assert all(ack == {"items": [], "last_seq": 0} for ack in acks)
    assert [sio.emit("sync", {"after_seq": 0}, callback=True) for _ in range(10)] == [None] * 10
    assert sio.is_connected()
    assert sample("assetflow_socket_events_dropped_total") == dropped_before + 10
    sio.emit("sync", {"after_seq": 0}, callback=True)  # one over the overflow: cut off
    assert not sio.is_connected()
    assert f"socket cut off user={user.id} " in caplog.text


def test_one_socket_over_its_budget_does_not_touch_another(tight_app):
    auth = Auth(tight_app.test_client())
    tokens = [auth.login(make_user("employee", name))["access_token"] for name in ("flood2", "quiet")]
    flooder, quiet = connect(tight_app, tokens[0]), connect(tight_app, tokens[1])
    for _ in range(30):
        if flooder.is_connected():
            flooder.emit("sync", {"after_seq": 0})
    assert not flooder.is_connected()
    assert quiet.emit("sync", {"after_seq": 0}, callback=True) == {"items": [], "last_seq": 0}


@pytest.mark.parametrize("last_seq", [MAX_SEQ + 1, 2**64, -1, "3", True, None, 2.5, [1]])
def test_a_bad_last_seq_refuses_the_connect_with_the_http_error_shape(app, people, last_seq):
    refused = _connect_error(app, {"token": people["alice"].token, "last_seq": last_seq})
    assert refused["message"] == "validation_error"
    assert refused["data"]["error"]["code"] == "validation_error"
    assert list(refused["data"]["error"]["details"]["fields"]) == ["last_seq"]


def test_connect_refuses_unknown_auth_fields_after_the_token(app, people):
    alice_token = people["alice"].token
    unknown = _connect_error(app, {"token": alice_token, "room": "role:admin"})
    assert unknown["data"]["error"]["details"]["fields"] == {"room": ["Unknown field."]}
    # The token is checked first: a bad token with a bad last_seq is still "unauthorized".
    assert _connect_error(app, {"token": "a.b.c", "last_seq": "x"}) == {"message": "unauthorized"}


def _connect_error(app, auth: dict) -> dict:
    """The CONNECT_ERROR payload the server sent for this auth."""
    sio = socketio.test_client(app, auth=None)  # refused; installs the test client's packet hook
    sent: list = []
    server = socketio.server
    hook = server._send_packet

    def capture(eio_sid, pkt):
        sent.append(pkt)
        return hook(eio_sid, pkt)

    server._send_packet = capture
    try:
        sio.connect(auth=auth)
    finally:
        server._send_packet = hook
    assert not sio.is_connected()
    errors = [pkt.data for pkt in sent if pkt.packet_type == 4]  # CONNECT_ERROR
    assert len(errors) == 1, sent
    return errors[0]


@pytest.mark.parametrize("last_seq", [0, MAX_SEQ])
def test_last_seq_at_the_edges_of_the_range_connects(app, client, people, last_seq):
    submit(client, people["alice"])
    sio = connect(app, people["bob"].token, last_seq=last_seq)  # a decider hears of it
    assert sio.is_connected()
    assert [e["seq"] for e in received(sio)] == ([1] if last_seq == 0 else [])


@pytest.mark.parametrize("data, field", [
    ({"after_seq": MAX_SEQ + 1}, "after_seq"), ({"after_seq": 2**64}, "after_seq"),
    ({"after_seq": 1.5}, "after_seq"), ({"after_seq": True}, "after_seq"),
    ({"after_seq": None}, "after_seq"), ({}, "after_seq"),
    ({"after_seq": 1, "room": "role:admin"}, "room"), ([1], "_schema"), ("1", "_schema"),
])
def test_sync_refuses_bad_input_with_the_http_error_shape(app, people, data, field):
    sio = connect(app, people["alice"].token)
    ack = sio.emit("sync", data, callback=True)
    assert ack["error"]["code"] == "validation_error" and ack["error"]["message"]
    assert field in ack["error"]["details"]["fields"], ack
    assert sio.is_connected()


def test_sync_at_the_top_of_the_range_answers(app, people):
    sio = connect(app, people["alice"].token)
    assert sio.emit("sync", {"after_seq": MAX_SEQ}, callback=True) == {"items": [], "last_seq": 0}


def test_socket_library_logs_escape_line_breaks(caplog):
    caplog.set_level(logging.ERROR, logger="assetflow.engineio")
    logger = library_logger("engineio")  # what python-engineio is given
    logger.error("Invalid session " + "x\r\n2026-11-27 ERROR forged\u2028line")
    assert caplog.messages == ["Invalid session x\\r\\n2026-11-27 ERROR forged\\u2028line"]
    assert library_logger("engineio").filters == logger.filters  # one filter, however often built
    assert logger.getEffectiveLevel() == logging.ERROR


def test_simple_websocket_is_told_the_message_size_limit(app):
    eio = socketio.server.eio
    assert eio.max_http_buffer_size == app.config["SOCKET_MAX_PAYLOAD"] == 16 * 1024
    websocket = eio._async["websocket"](lambda ws: None, eio)  # the threading (and gevent) driver
    assert websocket.server_args["max_message_size"] == 16 * 1024
