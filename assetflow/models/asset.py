"""Fixed assets."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow
from .department import ROOT_DEPARTMENT_ID
from .user import User

ASSET_STATUSES = ("in_stock", "in_use", "in_repair", "disposed")


class Asset(db.Model):
    """A company asset; its status and custodian change only through approved requests."""

    __tablename__ = "assets"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    tag: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    category: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    value: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(14, 2))
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), default="CNY")
    status: so.Mapped[str] = so.mapped_column(sa.String(16), index=True, default="in_stock")
    custodian_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), index=True)
    location: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    # The owning department, for rules and filters (who holds it is the custodian).
    department_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("departments.id"), index=True, default=ROOT_DEPARTMENT_ID,
        server_default=sa.text(str(ROOT_DEPARTMENT_ID)))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Optimistic locking, as on requests: every UPDATE carries "WHERE version = <read version>",
    # so an admin's edit, a submit (which locks the asset) and a final approval (which applies
    # its effect) that read the same version cannot all commit; the losers get StaleDataError.
    version: so.Mapped[int] = so.mapped_column(default=1)

    custodian: so.Mapped[User | None] = so.relationship(lazy="joined")
    department = so.relationship("Department", lazy="joined")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.CheckConstraint(f"status IN {ASSET_STATUSES}", name="status"),)
