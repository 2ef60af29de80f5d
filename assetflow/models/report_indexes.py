"""Indexes that the reports' range filters need (services/reports.py), kept beside the tables they index.

Every report picks rows by a time range: requests by creation or decision, decisions by when they were
made, steps by when they started (migration b8_reports_indexes).
"""

import sqlalchemy as sa

from .request import Decision, Request, RequestStep

REPORT_INDEXES = (
    sa.Index("ix_requests_created_at", Request.created_at),
    sa.Index("ix_requests_decided_at", Request.decided_at),
    sa.Index("ix_decisions_created_at", Decision.created_at),
    sa.Index("ix_request_steps_started_at", RequestStep.started_at),
)
