"""Drop the open sockets of users who were deactivated by a process this one cannot hear.

`services.users.set_active` disconnects a user's sockets at once, in every process on the
message queue. Without a queue (the single-process default) a deactivation made elsewhere — the
`deactivate-user` command is its own process — cannot reach this process's sockets, so each
server process also looks now and then at the users it holds sockets for and drops the inactive
ones. One query per sweep, however many sockets.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from ..extensions import db, socketio
from ..models import User
from . import emitter
from .manager import disconnect_local

log = logging.getLogger(__name__)
NAMESPACE = "/"


def connected_users() -> set[int]:
    """The users this process holds at least one socket for."""
    rooms = list(socketio.server.manager.rooms.get(NAMESPACE, {}).items())  # a copy: sockets come and go
    return {user for room, sids in rooms if sids and (user := emitter.user_of_rooms([room])) is not None}


def sweep() -> int:
    """Disconnect this process's sockets of inactive users; how many users were dropped."""
    held = connected_users()
    if not held:
        return 0
    inactive = list(db.session.scalars(sa.select(User.id).where(User.id.in_(held), User.active.is_(False))))
    db.session.remove()
    for user_id in inactive:
        log.info("socket sweep user=%s reason=inactive", user_id)
        disconnect_local(socketio.server.manager, emitter.user_room(user_id), NAMESPACE)
    return len(inactive)
