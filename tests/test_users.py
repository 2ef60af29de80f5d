"""Deactivating a user: tokens refused, every socket dropped at once, no further event; and the CLI."""

from __future__ import annotations

import sqlalchemy as sa
from flask_jwt_extended import create_access_token

from assetflow.extensions import db, socketio
from assetflow.models import User
from assetflow.realtime import emitter
from assetflow.services import users

from .actions import assert_refused, submit
from .factories import PASSWORD
from .test_realtime import connect, received


def test_deactivation_drops_every_socket_of_the_user_and_nothing_reaches_them(app, client, people):
    bob = people["bob"]
    second_login = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).get_json()
    refresh = second_login["refresh_token"]
    bob_sockets = [connect(app, bob.token), connect(app, second_login["access_token"])]
    carol = connect(app, people["carol"].token)
    assert all(s.is_connected() for s in bob_sockets)

    users.set_active(bob.id, False)

    assert not any(s.is_connected() for s in bob_sockets)
    assert carol.is_connected()
    carol.get_received()
    submit(client, people["alice"])  # an approval_update and a queue_update for every approver
    assert [e["action"] for e in received(carol)] == ["submit"]
    # Nothing can reach bob: no socket of his is left in any room the server sends to.
    manager = socketio.server.manager
    for room in (emitter.user_room(bob.id), emitter.role_room("approver")):
        assert {manager.eio_sid_from_sid(sid, "/") for sid, _ in manager.get_participants("/", room)}.isdisjoint(
            s.eio_sid for s in bob_sockets)
    # Every token of the user is refused: API, refresh and socket.
    assert_refused(client.get("/api/auth/me", headers=bob.headers), 401, "unauthorized")
    assert_refused(client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {refresh}"}), 401,
                   "unauthorized")
    assert not connect(app, bob.token).is_connected()
    assert_refused(client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}), 401,
                   "unauthorized")
    db.session.expire_all()
    assert db.session.get(User, bob.id).active is False


def test_reactivation_lets_the_user_log_in_again_but_revives_no_old_token(app, client, people):
    bob = people["bob"]
    old_refresh = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).get_json()["refresh_token"]
    users.set_active(bob.id, False)
    users.set_active(bob.id, True)
    assert_refused(client.get("/api/auth/me", headers=bob.headers), 401, "unauthorized")
    assert_refused(client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {old_refresh}"}), 401,
                   "unauthorized")
    assert not connect(app, bob.token).is_connected()  # nor a socket
    login = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD})
    assert login.status_code == 200
    fresh = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200
    assert connect(app, login.get_json()["access_token"]).is_connected()


def test_cli_deactivates_and_activates_by_username(app, client, people):
    alice = people["alice"]
    sio = connect(app, alice.token)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["deactivate-user", "alice"])
    assert result.exit_code == 0, result.output
    assert "deactivated alice" in result.output
    assert not sio.is_connected()
    db.session.expire_all()
    assert db.session.get(User, alice.id).active is False
    result = runner.invoke(args=["activate-user", "alice"])
    assert result.exit_code == 0 and "activated alice" in result.output
    assert client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}).status_code == 200


def test_cli_refuses_an_unknown_user(app, people):
    result = app.test_cli_runner().invoke(args=["deactivate-user", "nobody"])
    assert result.exit_code != 0 and "nobody" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).where(User.active.is_(False))) == 0


def test_a_token_from_before_token_generations_works_until_a_deactivation(app, client, people):
    bob = people["bob"]
    legacy = {"Authorization": f"Bearer {create_access_token(identity=str(bob.id))}"}  # no "gen" claim
    assert client.get("/api/auth/me", headers=legacy).status_code == 200
    users.set_active(bob.id, False)
    users.set_active(bob.id, True)
    assert_refused(client.get("/api/auth/me", headers=legacy), 401, "unauthorized")


def test_the_sweep_drops_sockets_of_users_deactivated_where_this_process_could_not_hear_it(app, people):
    from assetflow.realtime import sweeper

    bob, carol = people["bob"], people["carol"]
    bob_socket, carol_socket = connect(app, bob.token), connect(app, carol.token)
    # As the deactivate-user command does from its own process: only the row changes here.
    db.session.execute(sa.update(User).where(User.id == bob.id).values(active=False))
    db.session.commit()
    assert bob_socket.is_connected()
    assert sweeper.sweep() == 1
    assert not bob_socket.is_connected() and carol_socket.is_connected()
    assert sweeper.sweep() == 0
