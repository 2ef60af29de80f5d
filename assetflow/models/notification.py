"""The durable per-user inbox behind every real-time push."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class Notification(db.Model):
    """One message to one user; `seq` counts up by exactly one per user."""

    __tablename__ = "notifications"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    seq: so.Mapped[int]
    type: so.Mapped[str] = so.mapped_column(sa.String(32))
    payload: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "seq", name="uq_notifications_user_seq"),
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
    )
