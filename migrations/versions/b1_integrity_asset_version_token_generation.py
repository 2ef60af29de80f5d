"""assets get a version column for optimistic locking; users a token generation

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
    # Tokens issued before carry no generation, read as 0: they stay valid until a deactivation.
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_generation", sa.Integer(), nullable=False, server_default=sa.text("0")))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("token_generation")
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.drop_column("version")
