"""The approval rules in force: the stored list, or the defaults when none was saved; and the admin's edits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import ApprovalRule, ApprovalRuleChange, Department, User
from ..workflow.rules import Rule, default_rules
from .transaction import committing

POSITION_UNIQUE = "uq_approval_rules_position"


def current_rules() -> list[Rule]:
    """The ordered rule list requests are routed by now."""
    rows = db.session.scalars(sa.select(ApprovalRule).order_by(ApprovalRule.position)).all()
    if not rows:
        return default_rules(current_app.config["HIGH_VALUE_THRESHOLD"])
    return [{"match": row.match, "steps": row.steps, **({"attachments": row.attachments} if row.attachments else {})}
            for row in rows]


@dataclass(frozen=True)
class RuleList:
    """The rules in force, whether they are the defaults, and the last edit."""

    items: list[Rule]
    default: bool
    updated_at: datetime | None
    updated_by: User | None


def rule_list() -> RuleList:
    """The rules in force with who last replaced them and when."""
    stored = db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalRule))
    last = db.session.scalar(sa.select(ApprovalRuleChange).order_by(ApprovalRuleChange.id.desc()).limit(1))
    return RuleList(current_rules(), not stored, last and last.created_at, last and last.actor)


def changes_page(page: int, per_page: int) -> tuple[list[ApprovalRuleChange], int]:
    """One page of the audit of rule edits, newest first, and the total."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(ApprovalRuleChange)) or 0
    query = (sa.select(ApprovalRuleChange).order_by(ApprovalRuleChange.id.desc())
             .offset((page - 1) * per_page).limit(per_page))
    return list(db.session.scalars(query)), total


def as_stored(rule: dict[str, Any]) -> Rule:
    """A validated rule as stored: no null fields, money as a string, a role step's scope spelled out."""
    match = {key: str(value) if isinstance(value, Decimal) else value
             for key, value in rule.get("match", {}).items() if value is not None}
    steps = []
    for step in rule["steps"]:
        step = {key: value for key, value in step.items() if value is not None}
        if step["decider"] == "role":
            step.setdefault("scope", "company")
        steps.append(step)
    return {"match": match, "steps": steps, **({"attachments": "required"} if rule.get("attachments") else {})}


def check_departments(rules: list[Rule], field: str = "items") -> None:
    """Refuse (422) rules that name a department that does not exist, keyed `<field>.<i>.match.departments`."""
    named = {d for rule in rules for d in rule["match"].get("departments", [])}
    known = set(db.session.scalars(sa.select(Department.id).where(Department.id.in_(named)))) if named else set()
    fields = {f"{field}.{i}.match.departments": [f"No department with id {d}" for d in rule["match"]["departments"]
                                               if d not in known]
              for i, rule in enumerate(rules) if set(rule["match"].get("departments", [])) - known}
    if fields:
        raise ValidationFailed("A rule names a department that does not exist", {"fields": fields})


def _changed_meanwhile() -> Conflict:
    return Conflict("The approval rules were changed by someone else at the same time; reload them and try again")


def replace(actor: User, rules: list[dict[str, Any]]) -> RuleList:
    """Replace the whole ordered list in one transaction, audited with the list before and after.

    Two replacements that read the same list cannot both land (a 409 for the loser): after its
    delete has taken the rows' locks (the database's write lock on SQLite), a replacement checks
    that it deleted every row it read and that no other change was committed since it read them;
    when both start from an empty table, the unique position refuses the second set of rows.
    """
    after = [as_stored(rule) for rule in rules]
    check_departments(after)
    read = list(db.session.scalars(sa.select(ApprovalRule.id)))
    last_change = db.session.scalar(sa.select(sa.func.max(ApprovalRuleChange.id))) or 0
    before = current_rules()
    with committing(_changed_meanwhile, races=(POSITION_UNIQUE,)):
        change = ApprovalRuleChange(actor_id=actor.id, before=before, after=after)
        db.session.add(change)
        db.session.flush()
        deleted = db.session.execute(sa.delete(ApprovalRule).where(ApprovalRule.id.in_(read))
                                     .execution_options(synchronize_session=False)).rowcount
        # Row ids alone do not tell: SQLite gives a new row the id of a deleted one.
        newer = db.session.scalar(sa.select(sa.func.count()).where(
            ApprovalRuleChange.id > last_change, ApprovalRuleChange.id != change.id))
        if deleted != len(read) or newer:
            raise _changed_meanwhile()
        db.session.add_all(ApprovalRule(position=i, match=rule["match"], steps=rule["steps"],
                                        attachments=rule.get("attachments")) for i, rule in enumerate(after))
    return rule_list()
