"""The webhook channel: one outbox row per subscribed webhook, sent as a signed JSON POST.

Receivers verify `X-AssetFlow-Signature: sha256=<hex HMAC-SHA256 of the raw body with the secret>`
and drop repeats by `X-AssetFlow-Delivery` (the outbox message id, the same on every retry).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Any

import requests
import sqlalchemy as sa
from flask import current_app

from .. import egress
from ..events import RequestChange
from ..extensions import db
from ..models import OutboxMessage, Webhook, WebhookAttempt
from ..services.transaction import committing
from ..services.webhooks import allowed_networks
from .worker import DeliveryFailed, NothingToSend

log = logging.getLogger(__name__)
USER_AGENT = "AssetFlow-Webhook/1"


def signature(secret: str, body: bytes) -> str:
    """The value of X-AssetFlow-Signature for this body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request_changed(change: RequestChange) -> None:
    """A call to every webhook subscribed to what happened."""
    if change.name is None:  # not a domain event (nothing is published for it)
        return
    req = change.request
    actor = {"id": change.actor.id, "name": change.actor.display_name} if change.actor else None
    enqueue(change.name, {
        "request_id": req.id, "kind": req.kind, "state": req.state, "step": req.step, "steps_total": req.steps_total,
        "asset_id": req.asset_id, "asset_tag": req.asset.tag if req.asset else None,
        "applicant_id": req.applicant_id, "actor": actor, "on_behalf_of_id": change.on_behalf_of,
        "action": change.action.value, "comment": change.comment, "version": req.version,
        "at": req.updated_at.isoformat() if req.updated_at else None,
        **{key: change.extra[key] for key in ("rerouted",) if key in change.extra},
    })


# Built once (keyed once), of the table (an ORM statement costs ~100 Python calls more, for rows of two columns).
_HOOKS = Webhook.__table__
_ACTIVE_HOOKS = sa.select(_HOOKS.c.id, _HOOKS.c.events).where(_HOOKS.c.active.is_(True))


def enqueue(event: str, data: dict[str, Any]) -> int:
    """Add a message for every active webhook subscribed to the event, in the caller's transaction."""
    # Two columns, not Webhook objects: every decision asks, and there is rarely a webhook to find.
    hooks = db.session.execute(_ACTIVE_HOOKS).all()
    rows = [OutboxMessage(channel="webhook", target_id=hook_id, event=event, payload=data)
            for hook_id, events in hooks if event in events]
    db.session.add_all(rows)
    return len(rows)


def body_of(message: OutboxMessage) -> bytes:
    """The exact bytes signed and sent: the same on every retry of the message."""
    envelope = {"id": message.message_id, "event": message.event,
                "created_at": message.created_at.isoformat(), "data": message.payload}
    return json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def send(message: OutboxMessage) -> None:
    """POST the message to its webhook; anything but a 2xx answer is retried."""
    hook = db.session.get(Webhook, message.target_id)
    if hook is None or not hook.active:
        raise NothingToSend("the webhook was removed or disabled")
    body = body_of(message)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
               "X-AssetFlow-Event": message.event, "X-AssetFlow-Delivery": message.message_id,
               "X-AssetFlow-Signature": signature(hook.secret, body)}
    started = time.perf_counter()
    status, error = None, ""
    try:
        response = egress.post(hook.url, allowed_networks(), data=body, headers=headers,
                               timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"])
        status = response.status_code
        if not 200 <= status < 300:
            error = f"HTTP {status}"  # the receiver is a public server: its status tells the admin what to fix
    except (egress.EgressError, requests.RequestException) as failure:
        log.info("webhook %s: call failed: %r", hook.id, failure)  # the full story, for operators only
        error = failure_text(failure)
    _log(message, hook, status, error, started)
    if error:
        raise DeliveryFailed(error)


def failure_text(failure: Exception) -> str:
    """What the delivery log says about a call that got no HTTP answer.

    Never the library's message: "Connection refused" against "Connection reset" or a service's banner
    would tell an admin which internal ports are open.
    """
    if isinstance(failure, egress.Refused):
        return f"refused: {failure}"
    if isinstance(failure, egress.EgressError):
        return str(failure)
    if isinstance(failure, requests.Timeout):
        return "timed out"
    if isinstance(failure, requests.exceptions.SSLError):
        return "TLS handshake failed"
    if isinstance(failure, requests.ConnectionError):
        return "could not connect"
    return "request failed"


def _log(message: OutboxMessage, hook: Webhook, status: int | None, error: str, started: float) -> None:
    with committing():
        db.session.add(WebhookAttempt(
            outbox_id=message.id, webhook_id=hook.id, attempt=message.attempts, status_code=status,
            duration_ms=round((time.perf_counter() - started) * 1000), error=error[:2000],
        ))
