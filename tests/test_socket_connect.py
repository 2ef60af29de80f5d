"""A socket's connect on SQLite and PostgreSQL: one statement (user, blocklist, replay), its refusals, the
pacing of a burst, and the rooms python-socketio keeps for it (realtime/sockets.py, pacing.py, internals.py)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from flask_jwt_extended import create_access_token, decode_token
from prometheus_client import REGISTRY

from assetflow.extensions import db, socketio
from assetflow.models import Notification, RevokedToken, User
from assetflow.models.base import utcnow
from assetflow.realtime import emitter, pacing
from assetflow.realtime.manager import client_manager
from assetflow.realtime.pacing import MIN_RETRY_MS, Busy, Pacing
from assetflow.services import notify

from .factories import make_user
from .live_server import wait_until


def token_of(user: User) -> str:
    return create_access_token(identity=str(user.id), additional_claims={"role": user.role,
                                                                          "gen": user.token_generation})


def give_notifications(user: User, count: int) -> list[int]:
    """`count` approval_update rows for the user (seqs 1..count), as the inbox writes them; their ids."""
    rows = [Notification(user_id=user.id, seq=seq, type="approval_update",
                         payload={"request_id": seq, "status": "approved"}) for seq in range(1, count + 1)]
    db.session.add_all(rows)
    user.notification_seq = count
    db.session.commit()
    return [row.id for row in rows]


def paced_total() -> float:
    return REGISTRY.get_sample_value("assetflow_socket_connects_paced_total") or 0.0


def connect(app, token: str, last_seq: int = 0):
    return socketio.test_client(app, auth={"token": token, "last_seq": last_seq})


def statements_of(app, action) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    return seen


def test_a_connect_reads_the_user_the_blocklist_and_what_was_missed_in_one_statement(shared_app):
    alice = make_user("employee")
    ids = give_notifications(alice, 5)
    token = token_of(alice)
    clients = []
    sent = statements_of(shared_app, lambda: clients.append(connect(shared_app, token, last_seq=2)))
    assert len(sent) == 1, sent
    (sio,) = clients
    assert sio.is_connected()
    events = [m["args"][0] for m in sio.get_received()]
    assert [(e["seq"], e["notification_id"], e["replayed"]) for e in events] == [
        (3, ids[2], True), (4, ids[3], True), (5, ids[4], True)]
    # Caught up: the user's row alone comes back, and nothing is replayed.
    assert connect(shared_app, token, last_seq=5).get_received() == []
    assert connect(shared_app, token, last_seq=0).is_connected()


def test_past_the_replay_limit_the_connect_asks_for_a_resync_with_the_users_last_seq(shared_app):
    shared_app.config["REPLAY_LIMIT"] = 3
    bob = make_user("approver")
    give_notifications(bob, 4)
    messages = connect(shared_app, token_of(bob), last_seq=0).get_received()
    assert [(m["name"], m["args"][0]) for m in messages] == [("resync_required", {"last_seq": 4})]
    assert [m["args"][0]["seq"] for m in connect(shared_app, token_of(bob), last_seq=1).get_received()] == [2, 3, 4]


def test_the_one_statement_still_refuses_revoked_unknown_inactive_and_outdated_tokens(shared_app):
    alice, gone = make_user("employee"), make_user("employee")
    give_notifications(alice, 2)
    revoked = token_of(alice)
    claims = decode_token(revoked)
    db.session.add(RevokedToken(jti=claims["jti"], token_type="access", user_id=alice.id, expires_at=utcnow()))
    db.session.commit()
    assert not connect(shared_app, revoked).is_connected()
    assert connect(shared_app, token_of(alice)).is_connected()  # another token of hers is fine

    unknown = create_access_token(identity="987654", additional_claims={"role": "admin", "gen": 0})
    assert not connect(shared_app, unknown).is_connected()

    outdated = token_of(gone)
    gone.token_generation += 1  # what a deactivation and reactivation leave behind
    db.session.commit()
    assert not connect(shared_app, outdated).is_connected()
    assert connect(shared_app, token_of(gone)).is_connected()
    gone.active = False
    db.session.commit()
    assert not connect(shared_app, token_of(gone)).is_connected()


def test_a_connect_that_finds_no_read_in_time_is_refused_and_the_next_one_is_let_in(shared_app):
    alice = make_user("employee")
    give_notifications(alice, 1)
    line = shared_app.extensions[pacing.KEY] = Pacing(readers=1, wait=0)
    refused_before = paced_total()
    token = token_of(alice)
    line.reading = 1  # the one read, taken as a connect in flight would
    tries = []
    sent = statements_of(shared_app, lambda: tries.append(connect(shared_app, token)))
    assert not tries[0].is_connected() and sent == []  # refused before the token's query
    assert paced_total() == refused_before + 1 and line.waiting == 0
    line.reading = 0
    later = connect(shared_app, token)
    assert later.is_connected()
    assert [m["args"][0]["seq"] for m in later.get_received()] == [1]


def test_sockets_in_line_together_are_read_in_one_statement_each_with_its_own_answer(shared_app):
    alice, bob, carol = make_user("employee"), make_user("approver"), make_user("employee")
    a_ids, b_ids = give_notifications(alice, 4), give_notifications(bob, 2)
    revoked_jti = "revoked-jti"
    db.session.add(RevokedToken(jti=revoked_jti, token_type="access", user_id=carol.id, expires_at=utcnow()))
    db.session.commit()
    asks = [notify.SocketAsk(alice.id, "a1", 1), notify.SocketAsk(bob.id, "b1", 0),
            notify.SocketAsk(987654, "nobody", 0), notify.SocketAsk(alice.id, "a2", 4),
            notify.SocketAsk(carol.id, revoked_jti, 0), notify.SocketAsk(alice.id, "a3", 0)]
    starts = []
    sent = statements_of(shared_app, lambda: starts.extend(notify.connect_states(asks, limit=2)))
    assert len(sent) == (1 if db.engine.dialect.name == "postgresql" else len(asks)), sent
    assert [(s.user and s.user.id, s.revoked, [n.id for n in s.missed]) for s in starts] == [
        (alice.id, False, a_ids[1:3]),  # after seq 1, at most 2
        (bob.id, False, b_ids),
        (None, False, []),
        (alice.id, False, []),  # caught up
        (carol.id, True, []),
        (alice.id, False, a_ids[:2]),
    ]


def test_the_line_reads_those_who_wait_together_and_hands_the_reading_on():
    line = Pacing(readers=1, wait=10)
    reads: list[list[int]] = []
    first_read_started, let_reads_end = threading.Event(), threading.Event()

    def read_many(asks: list[int]) -> list[int]:
        reads.append(list(asks))
        first_read_started.set()
        let_reads_end.wait(10)
        return [ask * 10 for ask in asks]

    answers: dict[int, int] = {}

    def connect(ask: int) -> None:
        answers[ask] = line.read(ask, read_many)

    first = threading.Thread(target=connect, args=(0,))
    first.start()
    assert first_read_started.wait(10)
    waiting = [threading.Thread(target=connect, args=(ask,)) for ask in range(1, 6)]
    for thread in waiting:
        thread.start()
    assert wait_until(lambda: line.waiting == 5, 10)
    let_reads_end.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert reads == [[0], [1, 2, 3, 4, 5]]  # the first in line read for all five, in their order
    assert answers == {ask: ask * 10 for ask in range(6)}
    assert line.reading == 0 and line.waiting == 0


def test_a_failed_read_fails_every_connect_it_was_for_and_the_line_goes_on():
    line = Pacing(readers=1, wait=1)

    def broken(asks: list[int]) -> list[int]:
        raise RuntimeError("database gone")

    with pytest.raises(RuntimeError, match="database gone"):
        line.read(1, broken)
    assert line.reading == 0
    assert line.read(2, lambda asks: [ask + 1 for ask in asks]) == 3


def test_a_read_stopped_by_more_than_an_error_refuses_those_it_was_for_with_a_time_to_come_back():
    line = Pacing(readers=1, wait=10)
    first_read_started, let_it_end = threading.Event(), threading.Event()

    class Killed(BaseException):  # what a killed green thread raises: not an Exception
        pass

    def read_many(asks: list[int]) -> list[int]:
        if asks[0] == 1:  # the read the first in line makes for itself and those behind it
            raise Killed
        first_read_started.set()
        let_it_end.wait(10)
        return [ask * 10 for ask in asks]

    outcomes: dict[int, object] = {}

    def connect(ask: int) -> None:
        try:
            outcomes[ask] = line.read(ask, read_many)
        except BaseException as error:
            outcomes[ask] = error

    def start(ask: int) -> threading.Thread:
        thread = threading.Thread(target=connect, args=(ask,))
        thread.start()
        return thread

    first = start(0)
    assert first_read_started.wait(10)
    waiting = [start(ask) for ask in (1, 2, 3)]
    assert wait_until(lambda: line.waiting == 3, 10)
    let_it_end.set()
    for thread in [first, *waiting]:
        thread.join(10)
    assert outcomes[0] == 0 and isinstance(outcomes[1], Killed)
    assert [type(outcomes[ask]) for ask in (2, 3)] == [Busy, Busy]
    assert [outcomes[ask].retry_after_ms for ask in (2, 3)] == [MIN_RETRY_MS] * 2
    assert line.reading == 0 and line.waiting == 0
    assert line.read(4, read_many) == 40  # the line goes on


def test_the_retry_hint_gives_each_refused_connect_a_later_turn_at_the_rate_connects_finished():
    paced = Pacing(readers=4, wait=0)
    for i in range(40):
        paced.finished.append(100.0 + i / 100)  # 40 connects finished in the second before 100.5
    assert paced.retry_after_ms(100.5) == 500  # the first refusal: its own share, at least the minimum
    for _ in range(59):
        paced.retry_after_ms(100.5)
    assert paced.retry_after_ms(100.5) == 1000 * 61 // 40  # 61 refused at 40 a second
    paced.line.update((object(), None) for _ in range(39))  # and 39 in line ahead of the next one
    assert paced.retry_after_ms(100.5) == 1000 * (39 + 62) // 40
    paced.line.clear()
    assert paced.retry_after_ms(102.0) == 500  # a second later the window is empty again
    quiet = Pacing(readers=4, wait=0)
    assert [quiet.retry_after_ms(5.0) for _ in range(300)][-1] == 15_000  # at most the cap


def test_the_rooms_of_a_socket_are_found_without_walking_every_room_and_go_with_it(app):
    users = [make_user("employee") for _ in range(3)]
    clients = [connect(app, token_of(u)) for u in users]
    manager = socketio.server.manager
    for client, user in zip(clients, users, strict=True):
        sid = manager.sid_from_eio_sid(client.eio_sid, "/")
        walked = {name for name, room in manager.rooms["/"].items() if name is not None and sid in room}
        assert set(manager.get_rooms(sid, "/")) == walked
        assert emitter.user_room(user.id) in walked and sid in walked and len(walked) == 4  # sid, user, role, token
    gone = manager.sid_from_eio_sid(clients[0].eio_sid, "/")
    clients[0].disconnect()
    assert ("/", gone) not in manager.rooms_of
    assert not any(gone in room for room in manager.rooms["/"].values())
    assert emitter.user_room(users[0].id) not in manager.rooms["/"]
    kept = manager.sid_from_eio_sid(clients[1].eio_sid, "/")
    assert clients[1].is_connected() and len(manager.get_rooms(kept, "/")) == 4


def test_an_emit_to_rooms_without_a_socket_here_is_not_encoded(app, monkeypatch):
    alice = make_user("employee")
    sio = connect(app, token_of(alice))
    built = []
    packet_class = socketio.server.packet_class

    class Counted(packet_class):
        def __init__(self, *args, **kwargs):
            built.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(socketio.server, "packet_class", Counted)
    socketio.emit("approval_update", {"probe": 1}, to=emitter.user_room(alice.id + 1000))
    socketio.emit("queue_update", {"probe": 2}, to=[emitter.user_room(alice.id + 1000), "user:0"])
    assert built == []
    socketio.emit("queue_update", {"probe": 3}, to=["user:0", emitter.user_room(alice.id)])
    assert len(built) == 1
    assert [m["args"][0] for m in sio.get_received()] == [{"probe": 3}]


def test_a_notification_pushed_while_the_connect_reads_reaches_the_socket_after_its_replay(shared_app, monkeypatch):
    """A push to the user's room between the socket's read and its joining the room is kept for it."""
    alice = make_user("employee")
    give_notifications(alice, 1)
    real_read = notify.connect_states

    def read_then_push(asks, limit):
        starts = real_read(asks, limit)
        socketio.emit("approval_update", {"notification_id": 99, "seq": 2}, to=emitter.user_room(alice.id))
        return starts

    monkeypatch.setattr(notify, "connect_states", read_then_push)
    received = connect(shared_app, token_of(alice)).get_received()
    assert [(m["args"][0]["seq"], m["args"][0].get("replayed")) for m in received] == [(1, True), (2, None)]


def test_a_push_of_a_replayed_notification_while_the_connect_reads_is_sent_once(shared_app, monkeypatch):
    alice = make_user("employee")
    (first,) = give_notifications(alice, 1)
    real_read = notify.connect_states

    def read_then_push(asks, limit):
        starts = real_read(asks, limit)
        socketio.emit("approval_update", {"notification_id": first, "seq": 1}, to=emitter.user_room(alice.id))
        socketio.emit("queue_update", {"request_id": 7}, to=[emitter.user_room(alice.id), "user:0"])
        return starts

    monkeypatch.setattr(notify, "connect_states", read_then_push)
    received = connect(shared_app, token_of(alice)).get_received()
    assert [(m["name"], m["args"][0].get("seq")) for m in received] == [("approval_update", 1), ("queue_update", None)]


def test_a_socket_refused_after_its_read_gets_nothing_pushed_meanwhile_and_a_logout_meanwhile_refuses(
        shared_app, monkeypatch):
    alice = make_user("employee")
    revoked = token_of(alice)
    claims = decode_token(revoked)
    db.session.add(RevokedToken(jti=claims["jti"], token_type="access", user_id=alice.id, expires_at=utcnow()))
    db.session.commit()
    real_read = notify.connect_states
    during_read = []

    def read_then(asks, limit):
        starts = real_read(asks, limit)
        if during_read:
            during_read.pop(0)()
        return starts

    monkeypatch.setattr(notify, "connect_states", read_then)
    during_read.append(lambda: socketio.emit("approval_update", {"notification_id": 5, "seq": 5},
                                             to=emitter.user_room(alice.id)))
    refused = connect(shared_app, revoked)
    assert not refused.is_connected() and refused.queue == []  # every event sent to it, connected or not
    assert socketio.server.manager.watches == {}

    fresh = token_of(alice)
    during_read.append(lambda: socketio.server.manager.disconnect_room(emitter.token_room(decode_token(fresh)["jti"])))
    assert not connect(shared_app, fresh).is_connected()  # logged out while it read
    assert connect(shared_app, token_of(alice)).is_connected()


def test_an_emit_come_through_the_queue_is_kept_for_a_connect_watching_its_room_as_it_would_be_sent():
    manager = client_manager("redis://127.0.0.1:6379/0", "assetflow-test-watch")  # no connection is made
    payload = {"notification_id": 3, "seq": 3}
    message = {"method": "emit", "event": "approval_update", "data": [payload], "binary": False, "namespace": "/",
               "room": ["user:7", "user:8"], "skip_sid": None, "callback": None, "host_id": "another"}
    with manager.watching("/", ("user:7", "token:j")) as watch:
        manager._handle_emit(message)  # no socket of user 7 here yet: dropped, but kept for the watch
        manager._handle_close_room({"method": "close_room", "room": "token:j", "namespace": "/", "disconnect": True})
    assert watch.emits == [("approval_update", payload)] and watch.ended
    assert manager.watches == {}
