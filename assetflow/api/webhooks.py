"""Webhooks (admin): register, change, test, and read the delivery log."""

from flask_jwt_extended import get_current_user, jwt_required

from ..auth.tokens import roles_required
from ..events import DOMAIN_EVENTS
from ..services import webhooks
from .base import ApiBlueprint
from .budgets import write_budget
from .schemas.fields import page_of
from .schemas.webhooks import (
    WebhookCreateSchema,
    WebhookDeliveryQuerySchema,
    WebhookDeliverySchema,
    WebhookListSchema,
    WebhookSchema,
    WebhookUpdateSchema,
)

blp = ApiBlueprint("webhooks", __name__, url_prefix="/api/webhooks",
                   description="Signed HTTP callbacks for request events (admin)")


@blp.get("")
@jwt_required()
@roles_required("admin")
@blp.response(200, WebhookListSchema)
@blp.errors(401, 403)
def index():
    """Every webhook, and every event one may subscribe to."""
    return {"items": webhooks.list_all(), "events": list(DOMAIN_EVENTS)}


@blp.post("")
@jwt_required()
@write_budget("webhooks")
@roles_required("admin")
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookSchema)
@blp.errors(400, 401, 403, 413, 422)
def create(data):
    """Register a URL for some events; each delivery is signed with the secret."""
    return webhooks.create(get_current_user(), data)


@blp.patch("/<id:webhook_id>")
@jwt_required()
@write_budget("webhooks")
@roles_required("admin")
@blp.arguments(WebhookUpdateSchema)
@blp.response(200, WebhookSchema)
@blp.errors(400, 401, 403, 404, 413, 422)
def update(data, webhook_id):
    """Change the URL, the events, the secret, or switch the webhook off (`active: false`)."""
    return webhooks.update(webhook_id, data)


@blp.post("/<id:webhook_id>/ping")
@jwt_required()
@write_budget("webhooks")
@roles_required("admin")
@blp.response(202, WebhookDeliverySchema)
@blp.errors(401, 403, 404)
def ping(webhook_id):
    """Queue a `webhook.ping` delivery to this webhook, to check the receiver and its signature check."""
    return webhooks.ping(webhook_id)


@blp.get("/<id:webhook_id>/deliveries")
@jwt_required()
@roles_required("admin")
@blp.arguments(WebhookDeliveryQuerySchema, location="query")
@blp.response(200, page_of(WebhookDeliverySchema))
@blp.errors(401, 403, 404, 422)
def deliveries(args, webhook_id):
    """The webhook's deliveries, newest first: state, attempts, and every call's status and time."""
    items, total = webhooks.deliveries(webhook_id, args["page"], args["per_page"])
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}
