"""Socket.IO in process (threading mode): connect auth, rooms, after-commit emits, replay, sync."""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask_jwt_extended import create_access_token, create_refresh_token, decode_token
from prometheus_client import REGISTRY

from assetflow import events
from assetflow.extensions import db, socketio
from assetflow.models import Notification, Request
from assetflow.realtime import emitter

from .actions import approve, submit
from .factories import make_asset, make_user


def connect(app, access_token: str | None, last_seq: int = 0):
    auth = None if access_token is None else {"token": access_token, "last_seq": last_seq}
    return socketio.test_client(app, auth=auth)


def received(client, name: str = "approval_update") -> list[dict]:
    return [message["args"][0] for message in client.get_received() if message["name"] == name]


def server_rooms(client) -> set[str]:
    manager = socketio.server.manager
    sid = manager.sid_from_eio_sid(client.eio_sid, "/")
    return set(manager.get_rooms(sid, "/"))


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_connect_joins_user_role_and_token_rooms(app, people):
    alice = people["alice"]
    sio = connect(app, alice.token)
    assert sio.is_connected()
    jti = decode_token(alice.token)["jti"]
    sid = socketio.server.manager.sid_from_eio_sid(sio.eio_sid, "/")
    assert server_rooms(sio) == {sid, f"user:{alice.id}", "role:employee", f"token:{jti}"}


def _bad_tokens(people) -> dict[str, object]:
    alice = people["alice"]
    inactive = make_user(active=False)
    return {
        "missing": None,
        "not a dict": "token",
        "empty": "",
        "garbage": "a.b.c",
        "refresh": create_refresh_token(identity=str(alice.id)),
        "expired": create_access_token(identity=str(alice.id), expires_delta=timedelta(seconds=-5)),
        "unknown user": create_access_token(identity="424242"),
        "inactive user": create_access_token(identity=str(inactive.id)),
        "bad subject": create_access_token(identity="not-a-number"),
    }


def test_connect_refuses_bad_tokens_and_logs_no_token(app, people, caplog):
    caplog.set_level(logging.INFO, logger="assetflow.realtime.sockets")
    for name, value in _bad_tokens(people).items():
        auth = value if name == "not a dict" else (None if value is None else {"token": value})
        sio = socketio.test_client(app, auth=auth)
        assert not sio.is_connected(), name
    assert caplog.text.count("socket refused") == 9
    assert "eyJ" not in caplog.text


def test_revoked_token_is_refused_and_logout_drops_its_sockets(app, client, people):
    alice = people["alice"]
    first, second = connect(app, alice.token), connect(app, alice.token)
    other_login = client.post("/api/auth/login", json={"username": "alice", "password": "correct horse battery"})
    other = connect(app, other_login.get_json()["access_token"])
    assert client.post("/api/auth/logout", headers=alice.headers, json={}).status_code == 200
    assert not first.is_connected() and not second.is_connected()
    assert other.is_connected()
    assert not connect(app, alice.token).is_connected()


def test_client_events_cannot_change_rooms(app, people):
    alice = people["alice"]
    sio = connect(app, people["erin"].token)
    before = server_rooms(sio)
    for event in ("join", "join_room", "enter_room", "leave", "leave_room", "subscribe"):
        sio.emit(event, {"room": f"user:{alice.id}"})
        sio.emit(event, "role:admin")
    assert server_rooms(sio) == before


def test_a_user_never_receives_another_users_update(app, client, people):
    erin = connect(app, people["erin"].token)
    alice = connect(app, people["alice"].token)
    bob = connect(app, people["bob"].token)
    req = submit(client, people["alice"])
    approve(client, people["carol"], req["id"])
    alice_events = alice.get_received()
    # Her own submission reaches her other tabs as a non-durable request_changed, not an inbox row.
    assert [(m["name"], m["args"][0]["request_id"], m["args"][0]["action"]) for m in alice_events] == [
        ("request_changed", req["id"], "submit"), ("approval_update", req["id"], "approve")]
    assert [(e["request_id"], e["action"]) for e in received(bob)] == [(req["id"], "submit")]
    assert received(erin, "approval_update") == [] and erin.get_received() == []


def test_dashboards_get_queue_updates(app, client, people):
    # product.md "Who sees what": queue_update reaches only those who may decide before or after the
    # change, never a whole role; an admin's queue changes only when an admin step is involved.
    bob, admin = (connect(app, people[name].token) for name in ("bob", "admin"))
    employee = connect(app, people["erin"].token)
    req = submit(client, people["alice"], asset_id=make_asset(value=20000).id)  # approver, then admin
    assert received(bob, "queue_update") == [
        {"request_id": req["id"], "state": "pending", "step": 1, "action": "submit"}]
    assert received(admin, "queue_update") == []
    approve(client, people["carol"], req["id"])
    assert received(bob, "queue_update") == [
        {"request_id": req["id"], "state": "pending", "step": 2, "action": "advance"}]
    assert received(admin, "queue_update") == [
        {"request_id": req["id"], "state": "pending", "step": 2, "action": "advance"}]
    assert received(employee, "queue_update") == []


def test_rollback_after_queueing_emits_nothing(app, people):
    alice = people["alice"]
    sio = connect(app, alice.token)
    emitter.queue("approval_update", {"probe": 1}, emitter.user_room(alice.id))
    db.session.rollback()
    db.session.commit()
    assert sio.get_received() == []
    emitter.queue("approval_update", {"probe": 2}, emitter.user_room(alice.id))
    assert sio.get_received() == []  # not before the commit
    db.session.commit()
    assert received(sio) == [{"probe": 2}]


def test_a_failure_after_the_notifications_were_queued_stores_and_emits_nothing(app, client, people, monkeypatch):
    sio = connect(app, people["alice"].token)
    dashboard = connect(app, people["bob"].token)

    def fail(change):
        raise RuntimeError("disk full")

    # A channel after the inbox and the push (e.g. the outbox's disk) fails inside the transaction.
    monkeypatch.setattr(events, "_subscribers", [*events._subscribers, (events.RequestChange, fail)])
    response = client.post("/api/requests", headers=people["alice"].headers,
                           json={"kind": "assign", "asset_id": make_asset().id, "reason": "x"})
    assert response.status_code == 500
    assert sio.get_received() == [] and dashboard.get_received() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Request)) == 0


def test_replay_sends_missed_notifications_in_order(app, client, people):
    alice = people["alice"]
    reqs = [submit(client, alice) for _ in range(4)]
    for req in reqs:
        approve(client, people["bob"], req["id"])
    sio = connect(app, alice.token, last_seq=1)
    events = received(sio)
    assert [e["seq"] for e in events] == [2, 3, 4]
    assert [e["request_id"] for e in events] == [r["id"] for r in reqs[1:]]
    assert all(e["replayed"] and e["status"] == "approved" for e in events)
    assert not received(connect(app, alice.token, last_seq=4))


def test_more_missed_than_the_limit_asks_for_a_resync(app, client, people):
    app.config["REPLAY_LIMIT"] = 2
    for _ in range(3):
        submit(client, people["alice"])
    bob = people["bob"]
    sio = connect(app, bob.token, last_seq=0)
    messages = sio.get_received()
    assert [m["name"] for m in messages] == ["resync_required"]
    assert messages[0]["args"][0] == {"last_seq": 3}
    assert [e["seq"] for e in received(connect(app, bob.token, last_seq=1))] == [2, 3]
    ack = connect(app, bob.token, last_seq=3).emit("sync", {"after_seq": 0}, callback=True)
    assert ack == {"resync_required": True, "items": [], "last_seq": 3}


def test_sync_acks_the_missing_items(app, client, people):
    for _ in range(3):
        submit(client, people["alice"])
    sio = connect(app, people["bob"].token, last_seq=3)
    ack = sio.emit("sync", {"after_seq": 1}, callback=True)
    assert [item["seq"] for item in ack["items"]] == [2, 3] and ack["last_seq"] == 3
    assert all(item["replayed"] and item["event"] == "approval_update" for item in ack["items"])


def test_connects_and_disconnects_are_logged_with_the_user_id(app, people, caplog):
    caplog.set_level(logging.INFO, logger="assetflow.realtime.sockets")
    alice = people["alice"]
    sio = connect(app, alice.token)
    sio.disconnect()
    assert f"socket connected user={alice.id} role=employee" in caplog.text
    assert f"socket disconnected user={alice.id} " in caplog.text
    assert alice.token not in caplog.text and "eyJ" not in caplog.text


def test_metrics_count_sockets_events_decisions_and_latency(app, client, people):
    before = {
        "sockets": sample("assetflow_sockets_connected"),
        "emitted": sample("assetflow_events_emitted_total", event="approval_update"),
        "queue": sample("assetflow_events_emitted_total", event="queue_update"),
        "changed": sample("assetflow_events_emitted_total", event="request_changed"),
        "approved": sample("assetflow_decisions_total", outcome="approved"),
        "submitted": sample("assetflow_decisions_total", outcome="submitted"),
        "timed": sample("assetflow_commit_to_emit_seconds_count"),
    }
    sio = connect(app, people["alice"].token)
    assert sample("assetflow_sockets_connected") == before["sockets"] + 1
    req = submit(client, people["alice"])
    approve(client, people["bob"], req["id"])
    sio.disconnect()
    assert sample("assetflow_sockets_connected") == before["sockets"]
    # submit: bob, carol; approve: alice. Plus two dashboard updates and two request_changed to the actors.
    assert sample("assetflow_events_emitted_total", event="approval_update") == before["emitted"] + 3
    assert sample("assetflow_events_emitted_total", event="queue_update") == before["queue"] + 2
    assert sample("assetflow_events_emitted_total", event="request_changed") == before["changed"] + 2
    assert sample("assetflow_decisions_total", outcome="submitted") == before["submitted"] + 1
    assert sample("assetflow_decisions_total", outcome="approved") == before["approved"] + 1
    assert sample("assetflow_commit_to_emit_seconds_count") == before["timed"] + 7
    text = client.get("/metrics").get_data(as_text=True)
    for name in ("assetflow_sockets_connected", "assetflow_events_emitted_total",
                 "assetflow_decisions_total", "assetflow_commit_to_emit_seconds_bucket"):
        assert name in text
