"""Approval rules as data an admin edits, and the audit of every edit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow


class ApprovalRule(db.Model):
    """One rule of the ordered list: the first whose `match` fits a request gives its steps."""

    __tablename__ = "approval_rules"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    position: so.Mapped[int] = so.mapped_column(unique=True)
    match: so.Mapped[dict[str, Any]] = so.mapped_column(sa.JSON)
    steps: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    # "required": a request this rule matches is not submitted (or resumed) without a file; None: optional.
    attachments: so.Mapped[str | None] = so.mapped_column(sa.String(16))


class ApprovalRuleChange(db.Model):
    """Who replaced the rule list when, with the list before and after."""

    __tablename__ = "approval_rule_changes"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"))
    before: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    after: so.Mapped[list[dict[str, Any]]] = so.mapped_column(sa.JSON)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    actor = so.relationship("User", lazy="joined")
