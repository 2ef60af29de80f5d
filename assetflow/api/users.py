"""Users, for choosing a transfer target."""

from flask_jwt_extended import jwt_required

from ..services.users import list_users
from .base import ApiBlueprint
from .schemas import UserListSchema, UserQuerySchema

blp = ApiBlueprint("users", __name__, url_prefix="/api/users", description="Active users")


@blp.get("")
@jwt_required()
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserListSchema)
@blp.errors(401, 422)
def index(args):
    """Active users, by display name."""
    return {"items": list_users(args.get("role"), args.get("q"))}
