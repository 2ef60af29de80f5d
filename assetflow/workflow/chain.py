"""The approval chain: which role decides each step, computed once at submit time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

# Rule predicates by name, so the rule table in config stays plain data.
PREDICATES: dict[str, Callable[[str, Decimal, Decimal], bool]] = {
    "always": lambda kind, value, threshold: True,
    "high_value": lambda kind, value, threshold: value >= threshold,
    "dispose": lambda kind, value, threshold: kind == "dispose",
    "high_value_or_dispose": lambda kind, value, threshold: value >= threshold or kind == "dispose",
}


def approval_chain(
    kind: str, value: Decimal, threshold: Decimal | int, rules: Iterable[tuple[str, str]]
) -> list[str]:
    """Return the deciding role of each step, in order, for a request of this kind and value."""
    threshold = Decimal(threshold)
    return [role for role, rule in rules if PREDICATES[rule](kind, Decimal(value), threshold)]
