"""API tokens: a person's credentials for integrations, made, listed and revoked by them while signed in."""

from flask_jwt_extended import get_current_user, jwt_required

from ..services import api_tokens
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.tokens import TokenCreatedSchema, TokenCreateSchema, TokenListSchema

blp = ApiBlueprint("tokens", __name__, url_prefix="/api/tokens",
                   description="API tokens for integrations (`Authorization: Bearer af_…`)")


@blp.post("")
@jwt_required()
@write_budget("tokens")
@blp.arguments(TokenCreateSchema)
@blp.response(201, TokenCreatedSchema)
@blp.errors(400, 401, 403, 413, 422)
def create(data):
    """Make a token with scopes within my role; the answer holds its secret, shown this once. Not with a token."""
    return api_tokens.create(get_current_user().user, data["name"], data["scopes"], data["expires_at"])


@blp.get("")
@jwt_required()
@blp.response(200, TokenListSchema)
@blp.errors(401, 403)
def index():
    """My tokens that are not revoked, newest first, each with when it was last used (to the minute), and the
    scopes my role lets me give."""
    actor = get_current_user()
    return {"items": api_tokens.owned(actor.id), "scopes": api_tokens.scopes_for(actor.role)}


@blp.delete("/<id:token_id>")
@jwt_required()
@write_budget("tokens")
@blp.response(204)
@blp.errors(401, 403, 404)
def delete(token_id):
    """Revoke one of my tokens at once. Not with a token."""
    api_tokens.revoke(get_current_user().id, token_id)
