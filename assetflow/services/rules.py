"""The approval rules in force: the stored list, or the defaults when none was saved."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import ApprovalRule
from ..workflow.rules import Rule, default_rules


def current_rules() -> list[Rule]:
    """The ordered rule list requests are routed by now."""
    rows = db.session.scalars(sa.select(ApprovalRule).order_by(ApprovalRule.position)).all()
    if not rows:
        return default_rules(current_app.config["HIGH_VALUE_THRESHOLD"])
    return [{"match": row.match, "steps": row.steps} for row in rows]
