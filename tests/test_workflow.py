"""The state machine and the approval chain, without an app."""

from decimal import Decimal

import pytest

from assetflow.errors import Conflict, Forbidden, ValidationFailed
from assetflow.workflow import Actor, Approval, allowed_actions, approval_chain, fire

RULES = (("approver", "always"), ("admin", "high_value_or_dispose"))
APPLICANT, BOB, CAROL, ADMIN = Actor(1, "employee"), Actor(2, "approver"), Actor(3, "approver"), Actor(4, "admin")


def approval(actor, state="pending", step=1, chain=("approver",), prior=(), comment=""):
    return Approval(state=state, step=step, chain=list(chain), applicant_id=APPLICANT.id,
                    actor=actor, prior_deciders=frozenset(prior), comment=comment)


@pytest.mark.parametrize("kind, value, expected", [
    ("assign", 9999, ["approver"]),
    ("assign", 10000, ["approver", "admin"]),
    ("acquire", 50000, ["approver", "admin"]),
    ("dispose", 1, ["approver", "admin"]),
    ("repair", 0, ["approver"]),
])
def test_chain_follows_the_rule_table(kind, value, expected):
    assert approval_chain(kind, Decimal(value), 10000, RULES) == expected


def test_approve_on_last_step_finishes():
    result = fire(approval(BOB), "approve")
    assert (result.state, result.step) == ("approved", 1)


def test_approve_before_last_step_advances():
    result = fire(approval(BOB, chain=("approver", "admin")), "approve")
    assert (result.state, result.step) == ("pending", 2)


def test_second_step_needs_its_role():
    with pytest.raises(Forbidden):
        fire(approval(CAROL, step=2, chain=("approver", "admin"), prior=[BOB.id]), "approve")
    result = fire(approval(ADMIN, step=2, chain=("approver", "admin"), prior=[BOB.id]), "approve")
    assert result.state == "approved"


def test_four_eyes_across_steps():
    # An admin who decided step 1 (as if holding both roles) may not decide step 2.
    both = Actor(9, "admin")
    with pytest.raises(Forbidden):
        fire(approval(both, step=2, chain=("admin", "admin"), prior=[9]), "approve")


def test_no_self_approval():
    self_approver = Actor(APPLICANT.id, "approver")
    with pytest.raises(Forbidden):
        fire(approval(self_approver), "approve")


def test_inactive_user_cannot_decide():
    with pytest.raises(Forbidden):
        fire(approval(Actor(5, "approver", active=False)), "approve")


def test_wrong_role_cannot_decide():
    with pytest.raises(Forbidden):
        fire(approval(Actor(6, "employee")), "reject")


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
