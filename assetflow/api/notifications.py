"""The notification inbox."""

from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from ..services import listing, notify
from .schemas import NotificationListSchema, NotificationQuerySchema, NotificationSchema

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Durable per-user notifications")


@blp.get("")
@jwt_required()
@blp.arguments(NotificationQuerySchema, location="query")
@blp.response(200, NotificationListSchema)
def index(args):
    """After a seq in seq order (for catching up), newest first (before a seq), or a numbered page."""
    user_id = current_user.id
    page = {}
    if "page" in args:
        items, total = listing.notifications_page(user_id, args)
        page = {"page": args["page"], "per_page": args["per_page"], "total": total}
    elif "after_seq" in args:
        items = notify.after_seq(user_id, args["after_seq"], args["limit"])
    else:
        items = notify.latest(user_id, args["limit"], args.get("unread"), args.get("before_seq"))
    return {"items": items, "unread_count": notify.unread_count(user_id),
            "last_seq": notify.last_seq(user_id), **page}


@blp.get("/unread-count")
@jwt_required()
def unread_count():
    """How many notifications are unread."""
    return {"count": notify.unread_count(current_user.id)}


@blp.post("/<int:notification_id>/read")
@jwt_required()
@blp.response(200, NotificationSchema)
def read(notification_id):
    """Mark one notification read."""
    return notify.mark_read(current_user.id, notification_id)


@blp.post("/read-all")
@jwt_required()
def read_all():
    """Mark every notification read."""
    return {"updated": notify.mark_all_read(current_user.id), "count": 0}
