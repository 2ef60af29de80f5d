"""Client managers that can disconnect every socket in a room, in this process or in all of them.

Logout must drop the token's sockets wherever they are held. Rooms are only known to the process
that holds the socket, so the request goes through the message queue: python-socketio's own
`close_room` message, with a `disconnect` flag that every process of ours honours before closing
the room (an older process that ignores the flag still closes the room, so it receives nothing).
"""

from __future__ import annotations

from typing import Any

import socketio


def disconnect_local(manager: socketio.Manager, room: str, namespace: str = "/") -> None:
    """Disconnect the sockets in a room that this process holds."""
    for sid, _ in list(manager.get_participants(namespace, room)):
        manager.server.disconnect(sid, namespace=namespace, ignore_queue=True)


class LocalManager(socketio.Manager):
    """The single-process manager, plus `disconnect_room`."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in the room."""
        disconnect_local(self, room, namespace)


class RoomDisconnectMixin:
    """For a PubSubManager: `disconnect_room` reaches the sockets of every process."""

    def disconnect_room(self, room: str, namespace: str = "/") -> None:
        """Disconnect every socket in the room, in every process on the queue."""
        message = {"method": "close_room", "room": room, "namespace": namespace,
                   "host_id": self.host_id, "disconnect": True}
        self._handle_close_room(message)
        self._publish(message)

    def _handle_close_room(self, message: dict[str, Any]) -> None:
        if message.get("disconnect"):
            disconnect_local(self, message.get("room"), message.get("namespace") or "/")
        super()._handle_close_room(message)


class RedisManager(RoomDisconnectMixin, socketio.RedisManager):
    """Redis pub/sub (redis://, rediss://)."""


def client_manager(url: str | None, channel: str) -> socketio.Manager:
    """A fresh manager for one Socket.IO server: local, or shared through the queue at `url`."""
    if not url:
        return LocalManager()
    if not url.startswith(("redis://", "rediss://")):
        # Redis is the queue we test and document; refuse others rather than run them untested.
        raise RuntimeError(f"SOCKETIO_MESSAGE_QUEUE must be a redis:// URL, not {url.split(':', 1)[0]}://")
    return RedisManager(url, channel=channel)
