"""The notification inbox."""

from flask_jwt_extended import get_current_user, jwt_required

from ..services import listing, notify, views
from .base import ApiBlueprint, link
from .budgets import write_budget
from .schemas.notifications import (
    NotificationListSchema,
    NotificationQuerySchema,
    NotificationSchema,
    ReadAllQuerySchema,
    ReadAllSchema,
    UnreadCountSchema,
)

# The request the first notification of a list is about: a client opens or decides it from there.
NEWEST_REQUEST = "$response.body#/items/0/payload/request_id"

blp = ApiBlueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Durable per-user notifications")


@blp.get("")
@jwt_required()
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListSchema)
@blp.links(200, ReadNotification=link("/api/notifications/{notification_id}/read", "post",
                                      notification_id="$response.body#/items/0/id"),
           GetRequest=link("/api/requests/{request_id}", "get", request_id=NEWEST_REQUEST),
           ApproveRequest=link("/api/requests/{request_id}/approve", "post", request_id=NEWEST_REQUEST))
@blp.errors(401, 422)
def index(args):
    """After a seq in seq order (for catching up), newest first (before a seq), or a numbered page."""
    user_id = get_current_user().id
    page = {}
    if "page" in args:
        items, total = listing.notifications_page(user_id, args)
        page = {"page": args["page"], "per_page": args["per_page"], "total": total}
    elif "after_seq" in args:
        items = views.notification_page(notify.after_seq(user_id, args["after_seq"], args["limit"]))
    else:
        items = views.notification_page(
            notify.latest(user_id, args["limit"], args.get("unread"), args.get("before_seq")))
    return {"items": items, "unread_count": notify.unread_count(user_id),
            "last_seq": notify.last_seq(user_id), **page}


@blp.get("/unread-count")
@jwt_required()
@blp.response(200, UnreadCountSchema)
@blp.errors(401)
def unread_count():
    """How many notifications are unread."""
    return {"count": notify.unread_count(get_current_user().id)}


@blp.post("/<id:notification_id>/read")
@jwt_required()
@write_budget("notifications")
@blp.response(200, NotificationSchema)
@blp.errors(401, 404)
def read(notification_id):
    """Mark one notification read."""
    return views.notification_view(notify.mark_read(get_current_user().id, notification_id))


@blp.post("/read-all")
@jwt_required()
@write_budget("notifications")
@blp.arguments(ReadAllQuerySchema, location="query")
@blp.response(200, ReadAllSchema)
@blp.errors(401, 422)
def read_all(args):
    """Mark every notification read, or (`?request_id=`) those about one request, as opening it does."""
    user_id = get_current_user().id
    updated = notify.mark_all_read(user_id, args.get("request_id"))
    return {"updated": updated, "count": notify.unread_count(user_id)}
