"""The state machine and the approval chain, without an app."""

import itertools
from decimal import Decimal

import pytest

from assetflow.errors import AppError, Conflict, Forbidden, ValidationFailed
from assetflow.models.request import REQUEST_STATES, Request
from assetflow.workflow import IMPLIES, STATES, Action, Actor, Approval, allowed_actions, fire
from assetflow.workflow.actions import DOMAIN_EVENTS
from assetflow.workflow.rules import Subject, default_rules, first_match, step_label

APPLICANT, BOB, CAROL, ADMIN = Actor(1), Actor(2), Actor(3), Actor(4)
# Who is named for each step label, as routing would freeze it at submit (the applicant never is).
NAMED = {"approver": {BOB.id, CAROL.id}, "admin": {ADMIN.id}}


def approval(actor, state="pending", step=1, chain=("approver",), prior=(), comment="", deciders=None):
    named = NAMED[chain[step - 1]] if deciders is None else deciders
    return Approval(state=state, step=step, chain=list(chain), applicant_id=APPLICANT.id, actor=actor,
                    deciders=frozenset(named) - set(prior), prior_deciders=frozenset(prior), comment=comment)


@pytest.mark.parametrize("kind, value, expected", [
    ("assign", 9999, ["approver"]),
    ("assign", 10000, ["approver", "admin"]),
    ("acquire", 50000, ["approver", "admin"]),
    ("dispose", 1, ["approver", "admin"]),
    ("repair", 0, ["approver"]),
])
def test_chain_follows_the_default_rules(kind, value, expected):
    rule = first_match(default_rules(10000), Subject(kind, "Laptop", Decimal(value), frozenset({1})))
    assert [step_label(step) for step in rule["steps"]] == expected


def test_approve_on_last_step_finishes():
    outcome = fire(approval(BOB), "approve")
    assert (outcome.state, outcome.step, outcome.decided_step) == ("approved", 1, 1)
    assert (outcome.trigger, outcome.action, outcome.finished, outcome.required_role) == (
        Action.APPROVE, Action.APPROVE, True, None)
    assert (outcome.implies.event, outcome.implies.decision, outcome.implies.metric) == (
        "request.approved", "approved", "approved")


def test_approve_before_last_step_advances():
    """The machine, not the service, says that an approval of an earlier step is an advance, and where to."""
    outcome = fire(approval(BOB, chain=("approver", "admin")), "approve")
    assert (outcome.state, outcome.step, outcome.decided_step) == ("pending", 2, 1)
    assert (outcome.trigger, outcome.action, outcome.finished, outcome.required_role) == (
        Action.APPROVE, Action.ADVANCE, False, "admin")
    assert (outcome.implies.event, outcome.implies.decision, outcome.implies.metric) == (
        "request.advanced", "approved", "advanced")


@pytest.mark.parametrize("trigger, actor, state, decision", [
    ("reject", BOB, "rejected", "rejected"),
    ("withdraw", APPLICANT, "withdrawn", None),  # a withdrawal is not a decision: no Decision row
])
def test_a_final_trigger_finishes_with_its_own_outcome(trigger, actor, state, decision):
    outcome = fire(approval(actor, chain=("approver", "admin"), comment="no"), trigger)
    assert (outcome.action, outcome.state, outcome.finished, outcome.required_role) == (trigger, state, True, None)
    assert outcome.implies.decision == decision


def test_second_step_needs_a_named_decider():
    with pytest.raises(Forbidden):
        fire(approval(CAROL, step=2, chain=("approver", "admin"), prior=[BOB.id]), "approve")
    result = fire(approval(ADMIN, step=2, chain=("approver", "admin"), prior=[BOB.id]), "approve")
    assert result.state == "approved"


def test_four_eyes_across_steps():
    # Someone named for both steps who decided step 1 may not decide step 2.
    both = Actor(9)
    with pytest.raises(Forbidden):
        fire(approval(both, step=2, chain=("admin", "admin"), prior=[9], deciders={9, ADMIN.id}), "approve")


def test_no_self_approval():
    # Even if the applicant were named for the step (routing never names them).
    with pytest.raises(Forbidden):
        fire(approval(APPLICANT, deciders={APPLICANT.id, BOB.id}), "approve")


def test_inactive_user_cannot_decide():
    with pytest.raises(Forbidden):
        fire(approval(Actor(5, active=False), deciders={5}), "approve")


def test_someone_not_named_cannot_decide():
    with pytest.raises(Forbidden):
        fire(approval(Actor(6)), "reject")


def test_reject_needs_a_comment():
    with pytest.raises(ValidationFailed):
        fire(approval(BOB, comment="   "), "reject")
    assert fire(approval(BOB, comment="too pricey"), "reject").state == "rejected"


def test_reject_at_any_step():
    result = fire(approval(ADMIN, step=2, chain=("approver", "admin"), prior=[2], comment="no"), "reject")
    assert result.state == "rejected"


def test_withdraw_only_by_applicant():
    with pytest.raises(Forbidden):
        fire(approval(BOB), "withdraw")
    assert fire(approval(APPLICANT), "withdraw").state == "withdrawn"


@pytest.mark.parametrize("state", ["approved", "rejected", "withdrawn"])
@pytest.mark.parametrize("trigger", ["approve", "reject", "return", "withdraw", "edit", "resume"])
def test_final_states_never_change(state, trigger):
    actor = APPLICANT if trigger in ("withdraw", "edit", "resume") else BOB
    with pytest.raises(Conflict):
        fire(approval(actor, state=state, comment="x"), trigger)


def test_unknown_trigger_is_a_conflict():
    with pytest.raises(Conflict):
        fire(approval(BOB), "escalate")


@pytest.mark.parametrize("actor, expected", [
    (BOB, ["approve", "reject", "return"]),
    (APPLICANT, ["withdraw", "edit"]),
    (ADMIN, []),
])
def test_allowed_actions(actor, expected):
    assert allowed_actions(approval(actor)) == expected


@pytest.mark.parametrize("actor, state, step, expected", [
    (APPLICANT, "returned", 2, ["withdraw", "edit", "resume"]),
    (BOB, "returned", 1, []),  # a returned request waits for its applicant, not a decider
    (APPLICANT, "pending", 2, ["withdraw"]),  # a step was decided: only a return opens it again
])
def test_allowed_actions_around_a_return(actor, state, step, expected):
    flow = approval(actor, state=state, step=step, chain=("approver", "admin"), prior=[BOB.id] if step == 2 else ())
    assert allowed_actions(flow) == expected


def test_return_needs_a_decider_and_a_comment_and_waits_for_the_applicant():
    with pytest.raises(ValidationFailed):
        fire(approval(BOB, comment="  "), "return")
    with pytest.raises(Forbidden):
        fire(approval(APPLICANT, comment="fix it"), "return")
    outcome = fire(approval(ADMIN, step=2, chain=("approver", "admin"), prior=[BOB.id], comment="quote?"), "return")
    assert (outcome.state, outcome.step, outcome.decided_step, outcome.finished, outcome.required_role) == (
        "returned", 2, 2, False, None)
    assert (outcome.implies.event, outcome.implies.decision, outcome.implies.metric) == (
        "request.returned", None, "returned")  # not a decision of the step: no Decision row


def test_resume_and_edit_are_the_applicants():
    returned = dict(state="returned", step=2, chain=("approver", "admin"), prior=[BOB.id])
    for trigger in ("resume", "edit"):
        with pytest.raises(Forbidden):
            fire(approval(BOB, **returned), trigger)
    edited = fire(approval(APPLICANT, **returned), "edit")
    assert (edited.state, edited.step, edited.action) == ("returned", 2, Action.EDIT)
    resumed = fire(approval(APPLICANT, **returned), "resume")
    assert (resumed.state, resumed.step, resumed.required_role, resumed.finished) == ("pending", 2, "admin", False)
    with pytest.raises(Conflict):  # only a returned request resumes
        fire(approval(APPLICANT), "resume")


def test_a_pending_request_is_editable_until_the_first_decision():
    assert fire(approval(APPLICANT), "edit").state == "pending"
    with pytest.raises(Conflict):
        fire(approval(APPLICANT, step=2, chain=("approver", "admin"), prior=[BOB.id]), "edit")


def test_allowed_actions_empty_when_final():
    assert allowed_actions(approval(BOB, state="approved")) == []


ANYONE = (APPLICANT, BOB, CAROL, ADMIN, Actor(5, active=False), Actor(7, principals=frozenset({BOB.id})))


@pytest.mark.parametrize("actor, state, step", list(itertools.product(ANYONE, STATES, (1, 2))))
def test_allowed_actions_are_exactly_what_fire_accepts(actor, state, step):
    """One guard table: what a client is offered is what firing (with a comment) lets through."""

    def flow():
        return approval(actor, state=state, step=step, chain=("approver", "admin"),
                        prior=[BOB.id] if step == 2 else (), comment="why")

    accepted = []
    for trigger in ("approve", "reject", "return", "withdraw", "edit", "resume"):
        try:
            fire(flow(), trigger)
            accepted.append(trigger)
        except AppError:
            pass
    assert allowed_actions(flow()) == accepted


def test_allowed_actions_builds_no_machine():
    """Asked for every row of a list page: read from the tables, no transitions.Machine (which adds `trigger`)."""
    flow = approval(BOB)
    assert allowed_actions(flow) == ["approve", "reject", "return"]
    assert not hasattr(flow, "trigger")


def test_the_shared_machine_keeps_no_request():
    """One machine serves every firing; it holds an approval only while its trigger fires, refused or not."""
    from assetflow.workflow.machine import _MACHINE

    fire(approval(BOB), "approve")
    with pytest.raises(ValidationFailed):
        fire(approval(BOB), "reject")
    assert _MACHINE.models == []


def test_states_are_declared_once():
    assert REQUEST_STATES is STATES
    check = next(c for c in Request.__table__.constraints if c.name and c.name.endswith("state"))
    assert all(f"'{state}'" in str(check.sqltext) for state in STATES)


def test_every_action_has_one_entry_and_keeps_its_wire_names():
    """The JSON values clients and webhooks read never change."""
    assert set(IMPLIES) == set(Action)
    assert {a.value: i.event for a, i in IMPLIES.items()} == {
        "submit": "request.submitted", "resubmit": "request.resubmitted", "advance": "request.advanced",
        "approve": "request.approved", "reject": "request.rejected", "return": "request.returned",
        "withdraw": "request.withdrawn", "edit": "request.edited", "resume": "request.resumed",
        "comment": "request.commented", "remind": "request.reminded", "escalate": "request.escalated",
        "requalify": None, "attach": None, "detach": None,
    }
    assert DOMAIN_EVENTS == tuple(e for e in (i.event for i in IMPLIES.values()) if e)
    assert {a.value for a, i in IMPLIES.items() if i.notification == "approval_update"} == {
        "submit", "resubmit", "advance", "approve", "reject", "return", "withdraw", "edit", "resume", "escalate"}
    assert (IMPLIES[Action.COMMENT].notification, IMPLIES[Action.REMIND].notification) == (
        "request_comment", "approval_reminder")
    assert [a.value for a, i in IMPLIES.items() if not i.moves_queue] == ["comment", "remind", "attach", "detach"]
    assert {a.value: i.metric for a, i in IMPLIES.items() if i.metric} == {
        "submit": "submitted", "resubmit": "submitted", "advance": "advanced", "approve": "approved",
        "reject": "rejected", "return": "returned", "withdraw": "withdrawn", "resume": "resumed"}


def test_a_delegate_decides_for_a_named_principal():
    delegate = Actor(7, principals=frozenset({BOB.id}))
    flow = approval(delegate)
    assert flow.acting_for() == BOB.id
    assert fire(flow, "approve").state == "approved"
    assert flow.acting_for() == BOB.id  # the outcome does not change whom the actor stood in for


def test_a_delegate_cannot_act_for_a_principal_who_decided_an_earlier_step():
    delegate = Actor(7, principals=frozenset({BOB.id}))
    with pytest.raises(Forbidden):
        fire(approval(delegate, step=2, chain=("approver", "approver"), prior=[BOB.id]), "approve")
