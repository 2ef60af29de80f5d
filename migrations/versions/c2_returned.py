"""Return for changes: the `returned` state, the asset lock held while returned, chains numbered per request

Revision ID: c2_returned
Revises: c1_attachments
Create Date: 2026-12-12 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c2_returned"
down_revision = "c1_attachments"
branch_labels = None
depends_on = None

STATES = "('pending', 'returned', 'approved', 'rejected', 'withdrawn')"
OLD_STATES = "('pending', 'approved', 'rejected', 'withdrawn')"
OPEN = "state IN ('pending', 'returned')"
PENDING = "state = 'pending'"


def _lock(batch_op, where: str) -> None:
    batch_op.create_index("uq_requests_pending_asset", ["asset_id"], unique=True,
                          sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def upgrade():
    # SQLite cannot alter a constraint: batch mode copies the table with the new one (PostgreSQL alters it).
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_requests_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_requests_state"), f"state IN {STATES}")
        batch_op.add_column(sa.Column("chain_no", sa.Integer(), nullable=False, server_default=sa.text("1")))
        # A returned request keeps its asset: the lock covers both open states.
        batch_op.drop_index("uq_requests_pending_asset")
        _lock(batch_op, OPEN)
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.add_column(sa.Column("chain_no", sa.Integer(), nullable=False, server_default=sa.text("1")))
        batch_op.drop_constraint("uq_decisions_request_step", type_="unique")
        batch_op.create_unique_constraint("uq_decisions_request_step", ["request_id", "chain_no", "step"])


def downgrade():
    # A returned request goes back to its deciders (pending at the same step): the older schema has no
    # other place for it. Decisions of replaced chains would break the older one-per-step rule: dropped.
    op.execute(sa.text("UPDATE requests SET state = 'pending' WHERE state = 'returned'"))
    op.execute(sa.text("DELETE FROM decisions WHERE chain_no <> "
                       "(SELECT chain_no FROM requests WHERE requests.id = decisions.request_id)"))
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.drop_constraint("uq_decisions_request_step", type_="unique")
        batch_op.create_unique_constraint("uq_decisions_request_step", ["request_id", "step"])
        batch_op.drop_column("chain_no")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_index("uq_requests_pending_asset")
        _lock(batch_op, PENDING)
        batch_op.drop_column("chain_no")
        batch_op.drop_constraint(batch_op.f("ck_requests_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_requests_state"), f"state IN {OLD_STATES}")
