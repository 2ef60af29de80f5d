"""Request states and transitions, declared with `transitions`.

A Machine is built per operation (a long-lived one keeps every model alive), and no callback
touches the database: the service applies the outcome and commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

from ..actor import Actor
from ..errors import AppError, Conflict, Forbidden, ValidationFailed

STATES = ["pending", "approved", "rejected", "withdrawn"]
ACTIONS = ("approve", "reject", "withdraw")

TRANSITIONS = [
    # Approving the last step finishes the request; any earlier step moves it one step on.
    {"trigger": "approve", "source": "pending", "dest": "approved",
     "conditions": ["actor_may_decide", "is_last_step"]},
    {"trigger": "approve", "source": "pending", "dest": None,
     "conditions": ["actor_may_decide"], "unless": ["is_last_step"], "after": "advance_step"},
    {"trigger": "reject", "source": "pending", "dest": "rejected",
     "conditions": ["actor_may_decide", "has_comment"]},
    {"trigger": "withdraw", "source": "pending", "dest": "withdrawn",
     "conditions": ["actor_is_applicant"]},
]

# Why a guard failed, for the error a client gets. Routing conditions (is_last_step) are absent.
GUARD_ERRORS: dict[str, tuple[type[AppError], str]] = {
    "actor_may_decide": (Forbidden, "You may not decide this step of the request"),
    "actor_is_applicant": (Forbidden, "Only the applicant may withdraw a request"),
    "has_comment": (ValidationFailed, "A rejection needs a comment"),
}


@dataclass
class Approval:
    """The workflow's view of one request; `transitions` adds the trigger methods."""

    state: str
    step: int
    chain: list[str]
    applicant_id: int
    actor: Actor
    # The active people named for the current step (frozen at submit, grown by escalation).
    deciders: frozenset[int] = field(default_factory=frozenset)
    # Who decided an earlier step, in person or through a delegate.
    prior_deciders: frozenset[int] = field(default_factory=frozenset)
    comment: str = ""

    def acting_for(self) -> int | None:
        """The decider the actor would act as: themselves when named, else a delegator who is."""
        excluded = self.prior_deciders | {self.applicant_id}
        if not self.actor.active or self.actor.id in excluded:
            return None
        if self.actor.id in self.deciders:
            return self.actor.id
        return min((p for p in self.actor.principals if p in self.deciders and p not in excluded), default=None)

    def actor_may_decide(self) -> bool:
        """Named for this step (or standing in for who is), active, not the applicant, four eyes."""
        return self.acting_for() is not None

    def actor_is_applicant(self) -> bool:
        """Only the applicant withdraws."""
        return self.actor.id == self.applicant_id

    def has_comment(self) -> bool:
        """A rejection says why."""
        return bool(self.comment.strip())

    def is_last_step(self) -> bool:
        """True on the chain's final step."""
        return self.step >= len(self.chain)

    def advance_step(self) -> None:
        """Move to the next step of the chain."""
        self.step += 1


def _machine(approval: Approval) -> Machine:
    return Machine(
        model=approval,
        states=STATES,
        transitions=TRANSITIONS,
        initial=approval.state,
        auto_transitions=False,
        model_override=False,
    )


def _conditions(trigger: str) -> list[str]:
    names: list[str] = []
    for transition in TRANSITIONS:
        if transition["trigger"] == trigger:
            names += [c for c in transition.get("conditions", []) if c in GUARD_ERRORS]
    return list(dict.fromkeys(names))


def fire(approval: Approval, trigger: str) -> Approval:
    """Run one trigger, raising Conflict (wrong state), Forbidden or ValidationFailed."""
    machine = _machine(approval)
    if trigger not in machine.get_triggers(approval.state):
        raise Conflict(f"Cannot {trigger} a request that is {approval.state}", {"state": approval.state})
    for name in _conditions(trigger):
        if not getattr(approval, name)():
            error, message = GUARD_ERRORS[name]
            raise error(message)
    if not approval.trigger(trigger):
        raise Conflict(f"Cannot {trigger} this request now", {"state": approval.state})
    return approval


def allowed_actions(approval: Approval) -> list[str]:
    """The triggers this actor may fire now; input checks (the reject comment) are left out."""
    machine = _machine(approval)
    valid = machine.get_triggers(approval.state)
    return [
        action for action in ACTIONS
        if action in valid
        and all(getattr(approval, n)() for n in _conditions(action) if GUARD_ERRORS[n][0] is Forbidden)
    ]
