"""Revoked JWTs (the logout blocklist), kept in the database so every process sees them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class RevokedToken(db.Model):
    """A token id that must no longer be accepted."""

    __tablename__ = "revoked_tokens"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    jti: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    token_type: so.Mapped[str] = so.mapped_column(sa.String(16))
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
