"""Request states and transitions, declared with `transitions`, and the outcome of firing one.

One Machine serves every request, holding each Approval only while a trigger fires (a machine that kept
its models would keep every request alive), and no callback touches the database: the service applies
the returned Outcome and commits once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transitions import Machine

from ..actor import Actor
from ..errors import AppError, Conflict, Forbidden, ValidationFailed
from .actions import IMPLIES, Action, Implies

INITIAL = "pending"
# Sent back to the applicant for changes: still open (it holds its asset), waiting for the applicant, not a decider.
RETURNED = "returned"
STATES = (INITIAL, RETURNED, "approved", "rejected", "withdrawn")  # the model's check constraint is built from these
OPEN = (INITIAL, RETURNED)  # not finished: the request holds its asset and may still change
# What a person fires at a request, in the order a client lists them.
TRIGGERS = (Action.APPROVE, Action.REJECT, Action.RETURN, Action.WITHDRAW, Action.EDIT, Action.RESUME)
ACTIONS = tuple(trigger.value for trigger in TRIGGERS)
# The triggers that move a request from one state to another (an edit leaves it where it is): the audit
# trail's last one of them says who put a request where it is ("already returned by Bob").
MOVES = tuple(t.value for t in TRIGGERS if t is not Action.EDIT)

TRANSITIONS = [
    # Approving the last step finishes the request; any earlier step moves it one step on. These
    # conditions only choose the destination: who may fire a trigger is GUARDS' business.
    {"trigger": "approve", "source": INITIAL, "dest": "approved", "conditions": ["is_last_step"]},
    {"trigger": "approve", "source": INITIAL, "dest": None, "unless": ["is_last_step"], "after": "advance_step"},
    {"trigger": "reject", "source": INITIAL, "dest": "rejected"},
    # A decider of the current step sends it back; the applicant edits it and resumes it (services/requests.py
    # says at which step: the same one, or step 1 of a chain resolved again when an edit changed the rule).
    {"trigger": "return", "source": INITIAL, "dest": RETURNED},
    {"trigger": "withdraw", "source": [INITIAL, RETURNED], "dest": "withdrawn"},
    {"trigger": "edit", "source": [INITIAL, RETURNED], "dest": None},
    {"trigger": "resume", "source": RETURNED, "dest": INITIAL},
]
# The states each trigger may leave.
SOURCES = {trigger: {s for t in TRANSITIONS if t["trigger"] == trigger
                     for s in ([t["source"]] if isinstance(t["source"], str) else t["source"])}
           for trigger in TRIGGERS}


@dataclass(frozen=True)
class Guard:
    """A predicate of Approval that must hold to fire a trigger, and the error a client gets when it does not."""

    check: str
    error: type[AppError]
    message: str

    @property
    def about_input(self) -> bool:
        """Whether it checks what was sent (a comment), not who acts or where the request stands."""
        return self.error is ValidationFailed


MAY_DECIDE = Guard("actor_may_decide", Forbidden, "You may not decide this step of the request")


def _applicant_only(verb: str) -> Guard:
    return Guard("actor_is_applicant", Forbidden, f"Only the applicant may {verb} a request")


# Checked once, by fire(), before the machine moves, so a refusal says why; allowed_actions reads
# the same table without building a machine.
GUARDS: dict[Action, tuple[Guard, ...]] = {
    Action.APPROVE: (MAY_DECIDE,),
    Action.REJECT: (MAY_DECIDE, Guard("has_comment", ValidationFailed, "A rejection needs a comment")),
    Action.RETURN: (MAY_DECIDE, Guard("has_comment", ValidationFailed, "A return needs a comment: say what to change")),
    Action.WITHDRAW: (_applicant_only("withdraw"),),
    # A pending request is the deciders' once one of them decided a step: from then on only a return opens it.
    Action.EDIT: (_applicant_only("edit"), Guard("nothing_decided_yet", Conflict,
                                                 "A request can be edited while returned, or while pending before "
                                                 "any decision")),
    Action.RESUME: (_applicant_only("resume"),),
}


@dataclass(frozen=True)
class Outcome:
    """What firing a trigger did to a request, and what it amounts to for everyone told of it."""

    trigger: Action  # what was fired: the audit trail's action
    action: Action  # what it amounts to: an approval of an earlier step is an ADVANCE
    state: str
    step: int  # the step the request is at now
    decided_step: int  # the step acted on
    required_role: str | None  # the label of the step it waits for now; None once finished

    @property
    def finished(self) -> bool:
        """The request reached a final state."""
        return self.state not in OPEN

    @property
    def implies(self) -> Implies:
        """The event, notification, metric and queue change of this outcome."""
        return IMPLIES[self.action]


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
        """A rejection says why; a return says what to change."""
        return bool(self.comment.strip())

    def nothing_decided_yet(self) -> bool:
        """Returned to the applicant, or pending with no step of its chain decided yet."""
        return self.state == RETURNED or not self.prior_deciders

    def is_last_step(self) -> bool:
        """True on the chain's final step."""
        return self.step >= len(self.chain)

    def advance_step(self) -> None:
        """Move to the next step of the chain."""
        self.step += 1


# One machine for every request: each firing adds its Approval as a model and removes it again, so the machine
# keeps no request alive; building a machine per firing cost a decision ~300 Python calls more.
_MACHINE = Machine(model=None, states=list(STATES), transitions=TRANSITIONS, initial=INITIAL,
                   auto_transitions=False, model_override=False)


def fire(approval: Approval, trigger: Action | str) -> Outcome:
    """Run one trigger and return its outcome, raising Conflict (wrong state), Forbidden or ValidationFailed."""
    if trigger not in TRIGGERS or approval.state not in SOURCES[Action(trigger)]:
        raise Conflict(f"Cannot {trigger} a request that is {approval.state}", {"state": approval.state})
    trigger = Action(trigger)
    for guard in GUARDS[trigger]:
        if not getattr(approval, guard.check)():
            raise guard.error(guard.message)
    decided_step = approval.step
    _MACHINE.add_model(approval, initial=approval.state)  # adds the trigger methods to this approval
    try:
        approval.trigger(trigger.value)  # the guards held: exactly one transition applies
    finally:
        _MACHINE.remove_model(approval)
    pending = approval.state == INITIAL
    return Outcome(
        trigger=trigger, action=Action.ADVANCE if trigger is Action.APPROVE and pending else trigger,
        state=approval.state, step=approval.step, decided_step=decided_step,
        required_role=approval.chain[approval.step - 1] if pending else None,  # returned: it waits for the applicant
    )


def allowed_actions(approval: Approval) -> list[str]:
    """The triggers this actor may fire now, read from the tables (no machine is built);
    input checks (the reject and return comments) are left out."""
    return [trigger.value for trigger in TRIGGERS if approval.state in SOURCES[trigger]
            and all(getattr(approval, g.check)() for g in GUARDS[trigger] if not g.about_input)]
