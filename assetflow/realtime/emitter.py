"""The one way the app pushes events: queued in the transaction, sent after it commits."""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db, socketio
from ..metrics import COMMIT_TO_EMIT, EVENTS_EMITTED

log = logging.getLogger(__name__)
OUTBOX = "assetflow_outbox"
DISCONNECT = object()  # a queued disconnect instead of an event


def user_room(user_id: int) -> str:
    """The room every socket of one user joins."""
    return f"user:{user_id}"


def user_of_rooms(rooms: list[Any]) -> int | None:
    """The user whose room is among a socket's rooms (the server put it there at connect)."""
    for room in rooms:
        if isinstance(room, str) and room.startswith("user:"):
            return int(room.removeprefix("user:"))
    return None


def role_room(role: str) -> str:
    """The room every socket of users holding a role joins."""
    return f"role:{role}"


def token_room(jti: str) -> str:
    """The room of the sockets opened with one access token, so logout can find them."""
    return f"token:{jti}"


def queue(event: str, payload: dict[str, Any], to: str | list[str]) -> None:
    """Hold an event until the current transaction commits; a rollback drops it."""
    db.session.info.setdefault(OUTBOX, []).append((event, payload, to))


def queue_disconnect(user_id: int) -> None:
    """Disconnect the user's sockets once the current transaction commits; a rollback keeps them."""
    db.session.info.setdefault(OUTBOX, []).append((DISCONNECT, None, user_room(user_id)))


def queue_disconnect_token(jti: str) -> None:
    """Disconnect the sockets opened with a token once the current transaction commits."""
    db.session.info.setdefault(OUTBOX, []).append((DISCONNECT, None, token_room(jti)))


@sa.event.listens_for(Session, "after_commit")
def _send_outbox(session: Session) -> None:
    pending = session.info.pop(OUTBOX, None)
    if not pending:
        return
    committed_at = time.perf_counter()
    for event, payload, to in pending:
        try:
            if event is DISCONNECT:
                socketio.server.manager.disconnect_room(to, "/")
                continue
            socketio.emit(event, payload, to=to)
        except Exception:  # The rows are committed; clients recover them by replay or sync.
            log.exception("emit of %s to %s failed", event, to)
            continue
        EVENTS_EMITTED.labels(event).inc()
        COMMIT_TO_EMIT.observe(time.perf_counter() - committed_at)


@sa.event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(OUTBOX, None)
