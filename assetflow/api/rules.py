"""Approval rules: the ordered list that routes requests, read by approvers and replaced by admins."""

from flask_jwt_extended import get_current_user, jwt_required

from ..auth.tokens import roles_required
from ..services import routing, rules
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.fields import page_of
from .schemas.rules import (
    RuleChangeQuerySchema,
    RuleChangeSchema,
    RuleListInputSchema,
    RuleListSchema,
    SimulateInputSchema,
    SimulationSchema,
)

blp = ApiBlueprint("approval_rules", __name__, url_prefix="/api/approval-rules", description="Approval rules")


@blp.get("")
@jwt_required()
@roles_required("admin", "approver")
@blp.response(200, RuleListSchema)
@blp.errors(401, 403)
def index():
    """The rules in force (the defaults when none were saved), with the last edit."""
    return rules.rule_list()


@blp.put("")
@jwt_required()
@write_budget("rules")
@roles_required("admin")
@blp.arguments(RuleListInputSchema)
@blp.response(200, RuleListSchema)
@blp.errors(400, 401, 403, 409, 413, 422)
def replace(data):
    """Replace the whole ordered list (admin); requests already submitted keep their chains."""
    return rules.replace(get_current_user(), data["items"])


@blp.get("/changes")
@jwt_required()
@roles_required("admin")
@blp.arguments(RuleChangeQuerySchema, location="query")
@blp.response(200, page_of(RuleChangeSchema))
@blp.errors(401, 403, 422)
def changes(args):
    """Every replacement of the list with the list before and after, newest first (admin)."""
    items, total = rules.changes_page(args["page"], args["per_page"])
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


@blp.post("/simulate")
@jwt_required()
@write_budget("simulations")
@blp.arguments(SimulateInputSchema)
@blp.response(200, SimulationSchema)
@blp.errors(400, 401, 403, 413, 422)
def simulate(data):
    """Where a request would go if submitted now: the matching rule, each step's people, what would stop it.

    Writes nothing. Admins: any applicant or department, and a draft `rules` list; anyone else: their own
    request under the saved rules (403).
    """
    return routing.simulate(get_current_user(), data)
