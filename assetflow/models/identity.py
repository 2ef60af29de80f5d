"""Who a user is at an OpenID provider, and the single-use values of sign-ins."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class UserIdentity(db.Model):
    """A user's account at an OpenID provider: its issuer and `sub`, which never change or get reused there
    (a username can do both, so it never links anyone)."""

    __tablename__ = "user_identities"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    issuer: so.Mapped[str] = so.mapped_column(sa.String(255))
    subject: so.Mapped[str] = so.mapped_column(sa.String(255))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime)

    user = so.relationship("User")

    __table_args__ = (sa.UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),)


class SpentSignInValue(db.Model):
    """A sign-in's `state`, or a sign-in ticket, once used: it may never be used again, in any process."""

    __tablename__ = "spent_sign_in_values"

    value: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    spent_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, index=True)
