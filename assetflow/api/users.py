"""Users: the directory everyone picks from, and the admin's management of accounts."""

from flask_jwt_extended import get_current_user, jwt_required

from ..auth.tokens import roles_required
from ..services import users
from .base import ApiBlueprint, link
from .budgets import write_budget
from .schemas.users import (
    UserAdminSchema,
    UserCreateSchema,
    UserPageSchema,
    UserQuerySchema,
    UserShortSchema,
    UserUpdateSchema,
)

blp = ApiBlueprint("users", __name__, url_prefix="/api/users", description="Users")


@blp.get("")
@jwt_required()
@blp.arguments(UserQuerySchema, location="query")
@blp.response(200, UserPageSchema)
@blp.errors(401, 422)
def index(args):
    """Admins: every user matching the filters, one page. Others: active users (short form), by display name."""
    if get_current_user().role == "admin":
        items, total = users.users_page(args)
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}
    found = users.list_users(args.get("role"), args.get("q"), args.get("department_id"))
    return {"items": UserShortSchema(many=True).dump(found)}


@blp.post("")
@jwt_required()
@write_budget("users")
@roles_required("admin")
@blp.arguments(UserCreateSchema)
@blp.response(201, UserAdminSchema)
@blp.links(201, UpdateUser=link("/api/users/{user_id}", "patch", user_id="$response.body#/id"))
@blp.errors(400, 401, 403, 409, 413, 422)
def create(data):
    """Create a user (admin); the department defaults to the company root."""
    return users.create_user(**data)


@blp.patch("/<id:user_id>")
@jwt_required()
@write_budget("users")
@roles_required("admin")
@blp.arguments(UserUpdateSchema)
@blp.response(200, UserAdminSchema)
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def update(data, user_id):
    """Change a user's role, department, active flag, name or e-mail (admin); a deactivation or role change
    ends their sessions at once."""
    return users.admin_update_user(get_current_user(), user_id, data)
