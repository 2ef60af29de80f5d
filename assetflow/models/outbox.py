"""The outbox: every message for a channel beyond the open tab, written with its cause."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow

OUTBOX_STATES = ("pending", "sent", "skipped", "failed")


class OutboxMessage(db.Model):
    """One message to send (an e-mail, a webhook call), claimed by one worker at a time under a lease.

    Written in the transaction that causes it, so a rollback sends nothing and a commit loses nothing;
    `message_id` stays the same through every retry, so a receiver can drop the resend of a crash.
    """

    __tablename__ = "outbox"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    message_id: so.Mapped[str] = so.mapped_column(sa.String(36), unique=True, default=lambda: str(uuid.uuid4()))
    channel: so.Mapped[str] = so.mapped_column(sa.String(16))  # "email" | "webhook"
    # The webhook or the user the message goes to.
    target_id: so.Mapped[int] = so.mapped_column()
    event: so.Mapped[str] = so.mapped_column(sa.String(40))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Not before: the e-mail delay, then each retry's backoff.
    due_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Incremented by every claim: a worker marks only the attempt it claimed (a fencing token).
    attempts: so.Mapped[int] = so.mapped_column(default=0)
    lease_until: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    # pending -> sent | skipped (nothing to send any more, e.g. the notification was read) | failed (given up).
    state: so.Mapped[str] = so.mapped_column(sa.String(8), default="pending")
    finished_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)
    last_error: so.Mapped[str] = so.mapped_column(sa.Text, default="")

    # The HTTP calls of a webhook delivery, for its log.
    calls = so.relationship("WebhookAttempt", order_by="WebhookAttempt.id", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint(f"state IN {OUTBOX_STATES}", name="state"),
        # What the claim query scans: pending messages by due time.
        sa.Index("ix_outbox_pending_due", "due_at", sqlite_where=sa.text("state = 'pending'"),
                 postgresql_where=sa.text("state = 'pending'")),
        sa.Index("ix_outbox_channel_target", "channel", "target_id"),
    )


class UsedLink(db.Model):
    """A one-click e-mail link that was used: its nonce may never act again."""

    __tablename__ = "used_links"

    nonce: so.Mapped[str] = so.mapped_column(sa.String(32), primary_key=True)
    request_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("requests.id"))
    used_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
