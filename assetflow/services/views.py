"""The read model: what a screen shows of a request (or a notification), computed for a whole page at once.

The schemas (api/schemas) only shape these views. Everything beyond a row's own columns is worked out
here, per page: the rows come with what allowed_actions reads already loaded (visibility.LOADED, one
query each for the page), allowed_actions reads the workflow's tables without building a state
machine, and the current steps' due times are one query for the page, so a page of 100 rows builds
none and runs no more queries than a page of 10 (tests/test_read_model.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..actor import Actor
from ..extensions import db
from ..models import Notification, Request, RequestEvent, RequestStep, base
from ..workflow import allowed_actions
from ..workflow.machine import OPEN
from . import kinds, notify, routing, visibility
from .requests import RESUBMITTABLE, approval_for


@dataclass(frozen=True)
class RequestView:
    """A request as a list row shows it to one actor: its columns, and what the actor may do with it."""

    request: Request
    allowed_actions: list[str]
    # When the current step of a pending request is due (its first reminder or escalation), and whether that is past.
    due_at: datetime | None
    overdue: bool

    def __getattr__(self, name: str) -> Any:
        return getattr(self.request, name)  # the row's own columns and relationships


@dataclass(frozen=True)
class RequestDetail(RequestView):
    """The request page: the row's view, its frozen chain by name, who resubmitted it, its comments."""

    steps: list[dict[str, Any]]
    next_ids: list[int]
    comments: list[RequestEvent]


@dataclass(frozen=True)
class NotificationView:
    """An inbox row with the event the socket pushed for it, so a client handles both with one function."""

    notification: Notification
    payload: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notification, name)


def _actions(actor: Actor, req: Request) -> list[str]:
    """What this actor may do to the request now (asked only of a request the actor may see)."""
    if req.state not in OPEN:
        return ["comment", *(["resubmit"] if _may_resubmit(req, actor) else [])]
    return [*allowed_actions(approval_for(req, actor)), "comment"]


def _may_resubmit(req: Request, actor: Actor) -> bool:
    """Worth offering: the applicant's ended request whose asset is free and still fits the kind."""
    if actor.id != req.applicant_id or req.state not in RESUBMITTABLE:
        return False
    return req.asset is None or (not req.asset.locked and req.asset.status in kinds.spec_of(req.kind).who_may_ask)


def _due_times(requests: list[Request]) -> dict[int, datetime]:
    """When the current step of each pending request is due, by request id (one query for a page; none due, absent)."""
    pending = [req.id for req in requests if req.state == "pending"]
    if not pending:
        return {}
    rows = db.session.execute(
        sa.select(RequestStep.request_id, RequestStep.due_at)
        .join(Request, sa.and_(Request.id == RequestStep.request_id, Request.step == RequestStep.step))
        .where(Request.id.in_(pending), Request.state == "pending", RequestStep.due_at.is_not(None))).all()
    return dict(rows)


def _views(actor: Actor, requests: list[Request]) -> list[dict[str, Any]]:
    """The fields every view of these requests adds to their rows: actions and due times."""
    due, now = _due_times(requests), base.utcnow()
    return [{"request": req, "allowed_actions": _actions(actor, req), "due_at": due.get(req.id),
             "overdue": req.id in due and due[req.id] <= now} for req in requests]


def request_page(actor: Actor, rows: Iterable[Request]) -> list[RequestView]:
    """The list rows of a page of requests (loaded with visibility.LOADED) as this actor sees them."""
    return [RequestView(**fields) for fields in _views(actor, list(rows))]


def request_view(actor: Actor, req: Request) -> RequestView:
    """One request as a list row (the answer to a submit or a decision)."""
    return RequestView(**_views(actor, [req])[0])


def request_detail(actor: Actor, request_id: int) -> RequestDetail:
    """The request page, if this actor may see the request (else NotFound)."""
    req = visibility.get_visible(actor, request_id)
    return RequestDetail(**_views(actor, [req])[0], steps=routing.step_states(req),
                         next_ids=routing.resubmissions(req),
                         comments=[event for event in req.events if event.action == "comment"])


def notification_page(rows: Iterable[Notification]) -> list[NotificationView]:
    """Inbox rows with their events (the socket's, without `replayed`)."""
    return [_notification(row) for row in rows]


def notification_view(row: Notification) -> NotificationView:
    """One inbox row with its event."""
    return _notification(row)


def _notification(row: Notification) -> NotificationView:
    payload = notify.event_payload(row)
    del payload["replayed"]
    return NotificationView(row, payload)
