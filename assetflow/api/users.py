"""Users, for choosing a transfer target."""

from flask_jwt_extended import jwt_required
from flask_smorest import Blueprint

from ..services.users import list_users
from .schemas import UserListSchema, UserQuerySchema

blp = Blueprint("users", __name__, url_prefix="/api/users", description="Active users")


@blp.get("")
@jwt_required()
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserListSchema)
def index(args):
    """Active users, by display name."""
    return {"items": list_users(args.get("role"), args.get("q"))}
