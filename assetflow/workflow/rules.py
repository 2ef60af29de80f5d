"""Approval rules as plain data: the wave-1 defaults, and which rule a request matches.

A rule is `{"match": {kinds?, categories?, departments?, min_value?}, "steps": [step, ...],
"attachments"?: "required"}` and a step is `{"decider": "manager" | "role", "role"?, "scope"?, "remind_after_hours"?,
"escalate_after_hours"?, "escalate_to"?}`. The first rule whose every condition holds wins.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
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


def first_match(rules: Sequence[Rule], subject: Subject) -> Rule | None:
    """The rule that decides the chain for this subject, or None."""
    index = first_match_index(rules, subject)
    return None if index is None else rules[index]


def first_match_index(rules: Iterable[Rule], subject: Subject) -> int | None:
    """The position of the rule that decides the chain for this subject, or None."""
    return next((i for i, rule in enumerate(rules) if matches(rule["match"], subject)), None)


Path = Callable[[int], Sequence[int]]  # a department and its ancestors up to the root


def covers(earlier: dict[str, Any], later: dict[str, Any], path: Path) -> bool:
    """Whether every request `later` matches is matched by `earlier` too (then `later` can never win).

    Condition by condition: a list condition of `earlier` holds a superset of `later`'s; a department of
    `later` counts as inside one of `earlier` when it lies below it; `earlier`'s minimum is at most `later`'s.
    """
    for key in ("kinds", "categories"):
        if key in earlier and not (key in later and set(later[key]) <= set(earlier[key])):
            return False
    if "departments" in earlier:
        wanted = set(earlier["departments"])
        if "departments" not in later or not all(wanted & set(path(d)) for d in later["departments"]):
            return False
    return "min_value" not in earlier or (
        "min_value" in later and Decimal(str(later["min_value"])) >= Decimal(str(earlier["min_value"])))


def shadowed(rules: Sequence[Rule], path: Path) -> list[tuple[int, int]]:
    """`(rule, by)` for each rule that can never match because an earlier rule `by` matches all it would."""
    found = []
    for later in range(len(rules)):
        by = next((i for i in range(later) if covers(rules[i]["match"], rules[later]["match"], path)), None)
        if by is not None:
            found.append((later, by))
    return found


def reachable(rules: Sequence[Rule], kind: str, departments: frozenset[int]) -> tuple[list[int], bool]:
    """The rules a request of `kind` from these departments (an applicant's path) may match, by position,
    and whether every such request matches one of them (else some, of another category or a lower value,
    match none and are refused)."""
    return Reach(rules).of(kind, departments)


WHO = ("kinds", "departments")  # the conditions on who asks for what kind
WHAT = ("categories", "min_value")  # the conditions on what is asked for


class Reach:
    """`reachable` for one rule list, asked for many kinds and departments (the routing check asks for every
    pair): each rule's conditions are split once into who asks and what is asked for.

    A rule whose kinds and departments hold may still be out of reach: an earlier one of those whose
    category and value conditions cover its own takes every request it would.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.parts = [({k: v for k, v in rule["match"].items() if k in WHO},
                       {k: v for k, v in rule["match"].items() if k in WHAT}) for rule in rules]

    def of(self, kind: str, departments: frozenset[int]) -> tuple[list[int], bool]:
        """The positions of the rules in reach for this kind and path, and whether they take every request."""
        asker = Subject(kind, "", Decimal(0), departments)  # only the WHO conditions are looked at
        candidates = [(i, what) for i, (who, what) in enumerate(self.parts) if matches(who, asker)]
        open_at = next((n for n, (_, what) in enumerate(candidates) if not what), None)
        if open_at is not None:
            candidates = candidates[:open_at + 1]  # nothing after a rule that takes every remaining request
        kept = [i for n, (i, what) in enumerate(candidates)
                if not any(covers(earlier, what, _no_tree) for _, earlier in candidates[:n])]
        return kept, open_at is not None


def _no_tree(department_id: int) -> Sequence[int]:
    return (department_id,)  # only category and value conditions are compared here


def step_label(step: dict[str, Any]) -> str:
    """What the step is called in `chain` and `required_role`: its role, or "manager"."""
    return "manager" if step["decider"] == "manager" else step["role"]


def files_required(rule: Rule | None) -> bool:
    """Whether a request routed by this rule needs at least one attachment before it is submitted or resumed."""
    return rule is not None and rule.get("attachments") == "required"
