"""Socket.IO handlers: authenticate on connect, join the server-chosen rooms, replay, sync."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request
from flask_jwt_extended import decode_token
from flask_socketio import ConnectionRefusedError, join_room, rooms
from jwt import PyJWTError

from ..auth.tokens import is_revoked, load_user
from ..extensions import socketio
from ..metrics import SOCKETS_CONNECTED
from ..models import User
from ..services import notify
from . import emitter

log = logging.getLogger(__name__)


def _authenticate(auth: Any) -> tuple[User, str]:
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        raise ConnectionRefusedError("unauthorized")
    try:
        claims = decode_token(token)
    except PyJWTError:
        raise ConnectionRefusedError("unauthorized") from None
    user = load_user(claims.get("sub"))
    if claims.get("type") != "access" or user is None or is_revoked(claims["jti"]):
        raise ConnectionRefusedError("unauthorized")
    return user, claims["jti"]


def _last_seq(auth: dict) -> int:
    value = auth.get("last_seq", 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def replay(user_id: int, last_seq: int) -> None:
    """Send the user's notifications after last_seq to this socket, or ask it to resync."""
    limit = current_app.config["REPLAY_LIMIT"]
    missed = notify.after_seq(user_id, last_seq, limit + 1)
    if len(missed) > limit:
        socketio.emit("resync_required", {"last_seq": notify.last_seq(user_id)}, to=request.sid)
        return
    for row in missed:
        socketio.emit(notify.APPROVAL_UPDATE, notify.event_payload(row, replayed=True), to=request.sid)


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse unauthenticated sockets; put the rest in their user and role rooms."""
    user, jti = _authenticate(auth)
    join_room(emitter.user_room(user.id))
    join_room(emitter.role_room(user.role))
    join_room(emitter.token_room(jti))
    SOCKETS_CONNECTED.inc()
    log.info("socket connected user=%s sid=%s", user.id, request.sid)
    # Sent before the CONNECT packet; socket.io clients buffer them until connected.
    replay(user.id, _last_seq(auth))


@socketio.on("disconnect")
def on_disconnect(reason=None):
    """Log the disconnect; Socket.IO drops the socket's rooms itself."""
    SOCKETS_CONNECTED.dec()
    log.info("socket disconnected sid=%s reason=%s", request.sid, reason)


def _socket_user_id() -> int | None:
    # The user room the server put this socket in is the one source of who it belongs to.
    for room in rooms():
        if room.startswith("user:"):
            return int(room.removeprefix("user:"))
    return None


@socketio.on("sync")
def on_sync(data=None):
    """Gap repair: the ack carries the user's notifications after `after_seq`."""
    user_id = _socket_user_id()
    if user_id is None:
        return {"error": {"code": "unauthorized", "message": "Not authenticated"}}
    after = data.get("after_seq") if isinstance(data, dict) else None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        return {"error": {"code": "validation_error", "message": "after_seq must be an integer >= 0"}}
    rows = notify.after_seq(user_id, after, current_app.config["REPLAY_LIMIT"])
    return {
        "items": [notify.event_payload(row, replayed=True) for row in rows],
        "last_seq": notify.last_seq(user_id),
    }
