"""Named deciders carry whether they still hold what named them (role, post, department scope)

Revision ID: b7_entitled
Revises: b6_outbox
Create Date: 2026-12-07 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b7_entitled"
down_revision = "b6_outbox"
branch_labels = None
depends_on = None


def upgrade():
    # Every existing row was entitled when it was frozen; the first organisation change rechecks it.
    with op.batch_alter_table("request_step_deciders") as batch_op:
        batch_op.add_column(sa.Column("entitled", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("request_step_deciders") as batch_op:
        batch_op.drop_column("entitled")
