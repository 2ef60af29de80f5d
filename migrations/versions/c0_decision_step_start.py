"""Decisions keep when the step they decide started, so the reports time a step without a join

Revision ID: c0_decision_step_start
Revises: b8_reports_indexes
Create Date: 2026-12-07 05:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c0_decision_step_start"
down_revision = "b8_reports_indexes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("decisions") as batch:
        batch.add_column(sa.Column("step_started_at", sa.DateTime(), nullable=True))
    # Every decision made so far: its step's start as the step row holds it.
    op.execute(
        "UPDATE decisions SET step_started_at = (SELECT request_steps.started_at FROM request_steps "
        "WHERE request_steps.request_id = decisions.request_id AND request_steps.step = decisions.step)"
    )


def downgrade():
    with op.batch_alter_table("decisions") as batch:
        batch.drop_column("step_started_at")
