"""The routing check: which departments' requests could not be decided today (admin)."""

from flask_jwt_extended import jwt_required

from ..auth.tokens import roles_required
from ..services import routing
from .base import ApiBlueprint
from .schemas.routing import RoutingCheckSchema

blp = ApiBlueprint("routing_check", __name__, url_prefix="/api/routing-check", description="Routing check")


@blp.get("")
@jwt_required()
@roles_required("admin")
@blp.response(200, RoutingCheckSchema)
@blp.errors(401, 403)
def check():
    """Every department whose employees' requests could not all be decided today under the saved rules, and why:
    by kind, the rule and step that has no possible decider, or that no rule applies."""
    return routing.routing_check()
