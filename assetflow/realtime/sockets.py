"""Socket.IO handlers: authenticate on connect, join the server-chosen rooms, replay, sync.

The handlers are the whole client-facing surface: there is no join/leave event, so a client
cannot choose its rooms. Every input is validated like HTTP input (marshmallow, unknown fields
refused) and refused in the HTTP error shape. Logs name the user id and the socket id, never a
token or any other text a client sent. `guard.py` stands in front of all of this.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, request
from flask_jwt_extended import decode_token
from flask_jwt_extended.exceptions import JWTExtendedException
from flask_socketio import ConnectionRefusedError, join_room, rooms
from jwt import PyJWTError
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy.exc import SQLAlchemyError

from ..auth.api_tokens import is_api_token
from ..auth.tokens import may_act
from ..errors import ValidationFailed, error_body
from ..extensions import socketio
from ..metrics import SOCKETS_CONNECTED
from ..models import User
from ..services import notify
from . import emitter, guard, pacing
from .internals import Watch

log = logging.getLogger(__name__)
UNAUTHORIZED = "unauthorized"
UNAVAILABLE = "unavailable"
# Any seq the databases can compare (SQLite and PostgreSQL BIGINT); larger ones are refused.
SEQ = validate.Range(min=0, max=2**63 - 1)


class ConnectAuthSchema(Schema):
    """`auth` of the connect: the token (checked by _authenticate) and the replay start."""

    token = fields.String(required=True)
    last_seq = fields.Integer(strict=True, load_default=0, validate=SEQ)


class SyncSchema(Schema):
    """The `sync` event's argument."""

    after_seq = fields.Integer(strict=True, required=True, validate=SEQ)


def _load(schema: type[Schema], data: Any) -> dict:
    """Validated input, or ValidationFailed with the field errors, as HTTP validation gives."""
    try:
        return schema().load(data)
    except ValidationError as error:
        raise ValidationFailed("Invalid input", {"fields": error.messages}) from None


def _error(error: ValidationFailed) -> dict:
    return error_body(error.code, error.message, error.details)


def _refuse(reason: str) -> ConnectionRefusedError:
    # The client only ever sees "unauthorized"; the log keeps the reason (no token in it).
    log.info("socket refused sid=%s reason=%s", request.sid, reason)
    return ConnectionRefusedError(UNAUTHORIZED)


def _verified_claims(auth: Any) -> dict:
    """The claims of a valid access token (signature, expiry, type), or refuse."""
    token = auth.get("token") if isinstance(auth, dict) else None
    if not isinstance(token, str) or not token:
        raise _refuse("no token")
    if is_api_token(token):  # for integrations over HTTP; a socket is a person's live session
        raise _refuse("API token")
    try:
        claims = decode_token(token)  # signature, expiry, required claims; once per token (auth/manager.py)
    except (PyJWTError, JWTExtendedException) as error:
        raise _refuse(type(error).__name__) from None
    if claims.get("type") != "access" or not claims.get("jti"):
        raise _refuse("not an access token")
    try:
        claims["user_id"] = int(claims.get("sub"))
    except (TypeError, ValueError):
        raise _refuse("unknown or inactive user") from None
    return claims


def _connect_args(auth: dict) -> dict:
    try:
        return _load(ConnectAuthSchema, auth)
    except ValidationFailed as error:
        log.info("socket refused sid=%s reason=invalid auth fields", request.sid)
        raise ConnectionRefusedError(error.code, _error(error)) from None


def _busy(retry_after_ms: int) -> ConnectionRefusedError:
    # Not logged one by one: a burst refuses thousands (the metric counts them).
    return ConnectionRefusedError(UNAVAILABLE, error_body(UNAVAILABLE, "Too many connections at once; try again",
                                                          {"retry_after_ms": retry_after_ms}))


def _replay_events(user: User, missed: list, limit: int) -> list[tuple[str, dict]]:
    """The events that bring this socket up to date: each missed notification, or resync_required past the limit."""
    if len(missed) > limit:
        return [("resync_required", {"last_seq": user.notification_seq})]
    return [(row.type, notify.event_payload(row, replayed=True)) for row in missed]


def on_connect(auth=None):
    """Refuse unauthenticated sockets; put the rest in their user, role and token rooms and replay."""
    claims = _verified_claims(auth)
    ask = notify.SocketAsk(claims["user_id"], claims["jti"], _connect_args(auth)["last_seq"])
    # What is sent to the socket's rooms from before its read until it is in them is kept for it
    # (internals.WatchMixin): an event committed after the read is not lost, nor sent to a socket refused.
    rooms = (emitter.user_room(ask.user_id), emitter.token_room(ask.jti))
    with socketio.server.manager.watching("/", rooms) as watch:
        try:
            state = pacing.read(ask, _read_states)
        except pacing.Busy as busy:
            raise _busy(busy.retry_after_ms) from None
        except SQLAlchemyError:
            log.exception("socket refused sid=%s reason=database error", request.sid)
            raise _busy(pacing.MIN_RETRY_MS) from None
        _admit(claims, state, watch)


def _read_states(asks: list[notify.SocketAsk]) -> list[notify.SocketStart]:
    return notify.connect_states(asks, current_app.config["REPLAY_LIMIT"] + 1)


def _admit(claims: dict, state: notify.SocketStart, watch: Watch) -> None:
    if state.revoked or watch.ended:  # on the blocklist at the read, or logged out (or deactivated) since
        raise _refuse("revoked token" if state.revoked else "token or user ended while connecting")
    if not may_act(state.user, claims):  # also refuses tokens older than a deactivation
        raise _refuse("unknown or inactive user")
    user = state.user
    limit = current_app.config["REPLAY_LIMIT"]
    for room in (*watch.rooms, emitter.role_room(user.role)):  # the role the database holds, not the token's
        join_room(room)
    replay = _replay_events(user, state.missed, limit)
    replayed = {payload["notification_id"] for _, payload in replay if "notification_id" in payload}
    # Sent before the CONNECT packet; Socket.IO clients buffer them until connected. Straight to this
    # socket, which this process holds: no need to go through the queue. Then what came while it read,
    # less what the replay already holds.
    for name, payload in [*replay, *_later(watch.emits, replayed)]:
        socketio.emit(name, payload, to=request.sid, ignore_queue=True)
    SOCKETS_CONNECTED.inc()
    log.info("socket connected user=%s role=%s sid=%s replayed=%s",
             user.id, user.role, request.sid, len(state.missed) if len(state.missed) <= limit else "resync")


def _later(emits: list[tuple[str, Any]], replayed: set) -> list[tuple[str, Any]]:
    """The emits kept while the socket read, less the notifications its replay holds."""
    return [(name, data) for name, data in emits
            if not (isinstance(data, dict) and data.get("notification_id") in replayed)]


def on_disconnect(reason=None):
    """Log the disconnect; Socket.IO drops the socket's rooms itself."""
    SOCKETS_CONNECTED.dec()
    log.info("socket disconnected user=%s sid=%s reason=%s", _socket_user_id(), request.sid, reason)


def _socket_user_id() -> int | None:
    # The user room the server put this socket in is the one source of who it belongs to.
    return emitter.user_of_rooms(rooms())


def on_sync(data=None):
    """Gap repair: the ack carries the user's notifications after `after_seq`."""
    user_id = _socket_user_id()
    if user_id is None:
        return error_body(UNAUTHORIZED, "Not authenticated")
    try:
        after = _load(SyncSchema, data)["after_seq"]
    except ValidationFailed as error:
        return _error(error)
    limit = current_app.config["REPLAY_LIMIT"]
    rows = notify.after_seq(user_id, after, limit + 1)
    last = notify.last_seq(user_id)
    if len(rows) > limit:
        return {"resync_required": True, "items": [], "last_seq": last}
    return {"items": [notify.event_payload(row, replayed=True) for row in rows], "last_seq": last}


def init_app(app: Flask) -> None:
    """Register the handlers on the app's Socket.IO server (a new one for every app)."""
    socketio.on_event("connect", on_connect)
    socketio.on_event("disconnect", on_disconnect)
    socketio.on_event("sync", on_sync)
    pacing.init_app(app)
    guard.install(socketio.server, app.config["SOCKET_EVENTS_PER_SECOND"], app.config["SOCKET_EVENT_BURST"],
                  app.config["SOCKET_EVENT_OVERFLOW"])
