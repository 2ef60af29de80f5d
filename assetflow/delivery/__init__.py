"""Channels beyond the open tab: the outbox worker and the senders it hands messages to."""
