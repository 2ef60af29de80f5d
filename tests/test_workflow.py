"""The state machine and the approval chain, without an app."""

from decimal import Decimal

import pytest

from assetflow.errors import Conflict, Forbidden, ValidationFailed
from assetflow.workflow import Actor, Approval, allowed_actions, fire
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
    result = fire(approval(BOB), "approve")
    assert (result.state, result.step) == ("approved", 1)


def test_approve_before_last_step_advances():
    result = fire(approval(BOB, chain=("approver", "admin")), "approve")
    assert (result.state, result.step) == ("pending", 2)


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
@pytest.mark.parametrize("trigger", ["approve", "reject", "withdraw"])
def test_final_states_never_change(state, trigger):
    actor = APPLICANT if trigger == "withdraw" else BOB
    with pytest.raises(Conflict):
        fire(approval(actor, state=state, comment="x"), trigger)


def test_unknown_trigger_is_a_conflict():
    with pytest.raises(Conflict):
        fire(approval(BOB), "escalate")


@pytest.mark.parametrize("actor, expected", [
    (BOB, ["approve", "reject"]),
    (APPLICANT, ["withdraw"]),
    (ADMIN, []),
])
def test_allowed_actions(actor, expected):
    assert allowed_actions(approval(actor)) == expected


def test_allowed_actions_empty_when_final():
    assert allowed_actions(approval(BOB, state="approved")) == []


def test_a_delegate_decides_for_a_named_principal():
    delegate = Actor(7, principals=frozenset({BOB.id}))
    flow = approval(delegate)
    assert flow.acting_for() == BOB.id
    assert fire(flow, "approve").state == "approved"


def test_a_delegate_cannot_act_for_a_principal_who_decided_an_earlier_step():
    delegate = Actor(7, principals=frozenset({BOB.id}))
    with pytest.raises(Forbidden):
        fire(approval(delegate, step=2, chain=("approver", "approver"), prior=[BOB.id]), "approve")
