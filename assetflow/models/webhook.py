"""Webhooks an admin registers, and the log of every call made to them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class Webhook(db.Model):
    """A URL that receives the events it subscribed to, signed with its secret."""

    __tablename__ = "webhooks"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    url: so.Mapped[str] = so.mapped_column(sa.String(2000))
    events: so.Mapped[list[str]] = so.mapped_column(sa.JSON)
    # Kept to sign with, never returned by the API after creation.
    secret: so.Mapped[str] = so.mapped_column(sa.String(200))
    active: so.Mapped[bool] = so.mapped_column(default=True)
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)


class WebhookAttempt(db.Model):
    """One HTTP call of one delivery: when, how it ended, how long it took."""

    __tablename__ = "webhook_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    outbox_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("outbox.id"), index=True)
    webhook_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("webhooks.id"), index=True)
    attempt: so.Mapped[int]
    status_code: so.Mapped[int | None]
    duration_ms: so.Mapped[int]
    error: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
