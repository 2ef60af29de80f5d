"""assets get a version column for optimistic locking

Revision ID: b1_integrity
Revises: 5effd625301e
Create Date: 2026-11-27 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b1_integrity"
down_revision = "5effd625301e"
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at version 1, as new ones do.
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))


def downgrade():
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("version")
