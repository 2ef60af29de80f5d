"""Delegations: who stands in for an approver, and when."""

from flask_jwt_extended import get_current_user, jwt_required

from ..services import delegations as service
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.delegations import DelegationCreateSchema, DelegationListSchema, DelegationQuerySchema, DelegationSchema

blp = ApiBlueprint("delegations", __name__, url_prefix="/api/delegations",
                   description="Stand-ins who decide for an approver for a period")


@blp.post("")
@jwt_required()
@write_budget("delegations")
@blp.arguments(DelegationCreateSchema)
@blp.response(201, DelegationSchema)
@blp.errors(400, 401, 403, 409, 413, 422)
def create(data):
    """Let someone decide what I may decide, from starts_at until ends_at (at most 90 days)."""
    return service.create(get_current_user(), data)


@blp.get("")
@jwt_required()
@blp.arguments(DelegationQuerySchema, location="query")
@blp.response(200, DelegationListSchema)
@blp.errors(401, 403, 422)
def index(args):
    """The delegations I gave and received; every one with `all=1` (admins)."""
    return {"items": service.listed(get_current_user(), args["all"])}


@blp.delete("/<id:delegation_id>")
@jwt_required()
@write_budget("delegations")
@blp.response(204)
@blp.errors(401, 403, 404, 409)
def delete(delegation_id):
    """End a delegation now (its delegator or an admin)."""
    service.delete(get_current_user(), delegation_id)
