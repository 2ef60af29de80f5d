"""Client managers that can disconnect every socket in a room, in this process or in all of them.

Logout must drop the token's sockets wherever they are held. Rooms are only known to the process
that holds the socket, so the request goes through the message queue: python-socketio's own
`close_room` message, with a `disconnect` flag that every process of ours honours before closing
the room (an older process that ignores the flag still closes the room, so it receives nothing).
Both managers also find a socket's rooms without walking every room, drop an emit to rooms they hold
no socket in before encoding it, and keep what is sent to a connecting socket's rooms until it is in
(realtime/internals.py).
"""

from __future__ import annotations

import socketio

from .internals import (
    DropForeignMixin,
    LocalRoomsOnlyMixin,
    RoomDisconnectMixin,
    RoomIndexMixin,
    WatchMixin,
    disconnect_local,
)


class LocalManager(LocalRoomsOnlyMixin, WatchMixin, RoomIndexMixin, socketio.Manager):
    """The single-process manager, plus `disconnect_room`."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in the room."""
        disconnect_local(self, room, namespace)


class RedisManager(DropForeignMixin, RoomDisconnectMixin, WatchMixin, RoomIndexMixin, socketio.RedisManager):
    """Redis pub/sub (redis://, rediss://)."""


def client_manager(url: str | None, channel: str) -> socketio.Manager:
    """A fresh manager for one Socket.IO server: local, or shared through the queue at `url`."""
    if not url:
        return LocalManager()
    if not url.startswith(("redis://", "rediss://")):
        # Redis is the queue we test and document; refuse others rather than run them untested.
        raise RuntimeError(f"SOCKETIO_MESSAGE_QUEUE must be a redis:// URL, not {url.split(':', 1)[0]}://")
    return RedisManager(url, channel=channel)
