"""Socket.IO: authenticated connects, per-user rooms, replay, and the after-commit emitter."""
