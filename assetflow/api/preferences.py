"""The caller's own settings: how unread notifications reach them by e-mail, and in which language."""

from flask_jwt_extended import get_current_user, jwt_required

from ..services import users
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.preferences import PreferencesSchema

blp = ApiBlueprint("preferences", __name__, url_prefix="/api/me", description="My preferences")


@blp.get("/preferences")
@jwt_required()
@blp.response(200, PreferencesSchema)
@blp.errors(401)
def show():
    """My e-mail mode, digest interval and language."""
    return get_current_user().user


@blp.put("/preferences")
@jwt_required()
@write_budget("preferences")
@blp.arguments(PreferencesSchema)
@blp.response(200, PreferencesSchema)
@blp.errors(400, 401, 413, 422)
def replace(data):
    """Set my e-mail mode (`off | instant | digest`), digest interval and language."""
    return users.set_preferences(get_current_user().user, data)
