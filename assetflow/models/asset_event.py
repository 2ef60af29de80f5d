"""The audit trail of an admin's edits to an asset (request-driven changes are in request_events)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow
from .user import User


class AssetEvent(db.Model):
    """Immutable row: who registered or edited an asset, and each field's before and after."""

    __tablename__ = "asset_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    asset_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("assets.id"), index=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    action: so.Mapped[str] = so.mapped_column(sa.String(16))
    # {"field": [before, after]}, values as JSON (money as a string).
    changes: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    actor: so.Mapped[User] = so.relationship(lazy="joined")
