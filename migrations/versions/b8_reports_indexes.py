"""Indexes for the reports' time ranges: requests by creation and decision, decisions, step starts

Revision ID: b8_reports_indexes
Revises: b7_entitled
Create Date: 2026-12-10 02:00:00

"""
from alembic import op

revision = "b8_reports_indexes"
down_revision = "b7_entitled"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_requests_created_at", "requests", "created_at"),
    ("ix_requests_decided_at", "requests", "decided_at"),
    ("ix_decisions_created_at", "decisions", "created_at"),
    ("ix_request_steps_started_at", "request_steps", "started_at"),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade():
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
