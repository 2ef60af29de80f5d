"""Webhooks as an admin manages them: register, change, list, and read each one's deliveries."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app

from .. import egress
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import PING
from ..extensions import db
from ..models import OutboxMessage, User, Webhook
from ..models.base import utcnow
from .transaction import committing

EDITABLE = ("url", "events", "secret", "active")


def get(webhook_id: int) -> Webhook:
    """A webhook by id, or NotFound."""
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"Webhook {webhook_id} not found")
    return hook


def list_all() -> list[Webhook]:
    """Every webhook, oldest first."""
    return list(db.session.scalars(sa.select(Webhook).order_by(Webhook.id)))


def create(actor: User, data: dict[str, Any]) -> Webhook:
    """Register a webhook (the input was validated by its schema)."""
    check_url(data["url"])
    hook = Webhook(url=data["url"], events=sorted(set(data["events"])), secret=data["secret"],
                   active=data.get("active", True), created_by_id=actor.id)
    with committing(lambda: Conflict("The webhook could not be stored; try again")):
        db.session.add(hook)
    return hook


def update(webhook_id: int, data: dict[str, Any]) -> Webhook:
    """Change a webhook's URL, events, secret or active flag; deliveries already queued keep their body."""
    hook = get(webhook_id)
    if "url" in data:
        check_url(data["url"])
    with committing(lambda: Conflict(f"Webhook {webhook_id} was changed concurrently; reload it")):
        for field in EDITABLE:
            if field in data:
                setattr(hook, field, sorted(set(data[field])) if field == "events" else data[field])
    return hook


def allowed_networks() -> tuple[egress.Network, ...]:
    """WEBHOOK_ALLOWED_NETWORKS: internal networks an admin's webhook may still reach."""
    return egress.networks(current_app.config["WEBHOOK_ALLOWED_NETWORKS"])


def check_url(url: str) -> None:
    """ValidationFailed (naming `url`) for a URL the server may not call; every delivery checks again."""
    try:
        egress.check_url(url, allowed_networks())
    except egress.Refused as refusal:
        raise ValidationFailed("Invalid input", {"fields": {"url": [
            f"Webhooks must reach a public address (or one in WEBHOOK_ALLOWED_NETWORKS): {refusal}"]}}) from None


def ping(webhook_id: int) -> OutboxMessage:
    """Queue a test delivery to one webhook, whatever it subscribed to."""
    hook = get(webhook_id)
    message = OutboxMessage(channel="webhook", target_id=hook.id, event=PING,
                            payload={"webhook_id": hook.id, "at": utcnow().isoformat()})
    with committing(lambda: Conflict("The test delivery could not be queued; try again")):
        db.session.add(message)
    return message


def deliveries(webhook_id: int, page: int, per_page: int) -> tuple[list[OutboxMessage], int]:
    """One page of a webhook's deliveries, newest first, each with its calls."""
    get(webhook_id)
    mine = sa.and_(OutboxMessage.channel == "webhook", OutboxMessage.target_id == webhook_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(mine)) or 0
    rows = list(db.session.scalars(
        sa.select(OutboxMessage).where(mine).options(so.selectinload(OutboxMessage.calls))
        .order_by(OutboxMessage.id.desc())
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return rows, total
