"""Approval rules as plain data: the wave-1 defaults, and which rule a request matches.

A rule is `{"match": {kinds?, categories?, departments?, min_value?}, "steps": [step, ...],
"attachments"?: "required"}` and a step is `{"decider": "manager" | "role", "role"?, "scope"?, "remind_after_hours"?,
"escalate_after_hours"?, "escalate_to"?}`. The first rule whose every condition holds wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Rule = dict[str, Any]


def default_rules(threshold: Decimal | int) -> list[Rule]:
    """The rules wave 1 applied from config: one approver step, plus an admin step when the value
    is at or above the threshold or the asset is disposed of."""
    approver = {"decider": "role", "role": "approver", "scope": "company"}
    admin = {"decider": "role", "role": "admin", "scope": "company"}
    return [
        {"match": {"kinds": ["dispose"]}, "steps": [approver, admin]},
        {"match": {"min_value": str(Decimal(threshold))}, "steps": [approver, admin]},
        {"match": {}, "steps": [approver]},
    ]


@dataclass(frozen=True)
class Subject:
    """What a rule looks at in a request."""

    kind: str
    category: str
    value: Decimal
    departments: frozenset[int]  # the applicant's department and all its ancestors


def matches(match: dict[str, Any], subject: Subject) -> bool:
    """Every condition present in `match` holds for the subject."""
    if "kinds" in match and subject.kind not in match["kinds"]:
        return False
    if "categories" in match and subject.category not in match["categories"]:
        return False
    if "departments" in match and not subject.departments & set(match["departments"]):
        return False
    return "min_value" not in match or subject.value >= Decimal(str(match["min_value"]))


def first_match(rules: Iterable[Rule], subject: Subject) -> Rule | None:
    """The rule that decides the chain for this subject, or None."""
    return next((rule for rule in rules if matches(rule["match"], subject)), None)


def step_label(step: dict[str, Any]) -> str:
    """What the step is called in `chain` and `required_role`: its role, or "manager"."""
    return "manager" if step["decider"] == "manager" else step["role"]


def files_required(rule: Rule | None) -> bool:
    """Whether a request routed by this rule needs at least one attachment before it is submitted or resumed."""
    return rule is not None and rule.get("attachments") == "required"
