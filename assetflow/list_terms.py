"""The public terms of the lists and reports: what each list may be sorted by (a name and its column), how many
requests one bulk approval takes, and the reports' metrics and intervals. The queries (services/listing.py,
services/reports.py), their query schemas and GET /api/meta read them here."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from .models import Asset, Notification, Request, RequestStep

# GET /api/reports/timeseries: what it measures and how it buckets.
REPORT_METRICS = ("submitted", "decided", "approved_value", "time_to_decision")
REPORT_INTERVALS = ("day", "week", "month")

# A bulk approval over a filter stops here: each item is its own transaction and notification.
BULK_LIMIT = 500

# The value a request is about: what an acquire asks to spend, else the asset's value.
REQUEST_VALUE = sa.func.coalesce(
    Request.value,
    sa.select(Asset.value).where(Asset.id == Request.asset_id).correlate(Request).scalar_subquery(),
)
# When a pending request's current step is due (the `due_at` of the API); null for the others.
REQUEST_DUE = (
    sa.select(RequestStep.due_at)
    .where(RequestStep.request_id == Request.id, RequestStep.step == Request.step, Request.state == "pending")
    .correlate(Request).scalar_subquery()
)
# `age` sorts by how long a request has existed: `-age` (oldest first) is the approver's queue order.
# `due` puts the soonest due first; requests without a due time come last either way.
REQUEST_SORTS: dict[str, Any] = {
    "created_at": Request.created_at, "updated_at": Request.updated_at, "id": Request.id,
    "value": REQUEST_VALUE, "step": Request.step, "age": Request.created_at, "due": REQUEST_DUE,
}
NULLS_LAST = {"due"}
ASSET_SORTS: dict[str, Any] = {
    "tag": Asset.tag, "name": Asset.name, "category": Asset.category, "value": Asset.value,
    "status": Asset.status, "created_at": Asset.created_at, "updated_at": Asset.updated_at,
}
NOTIFICATION_SORTS: dict[str, Any] = {"seq": Notification.seq, "created_at": Notification.created_at}
