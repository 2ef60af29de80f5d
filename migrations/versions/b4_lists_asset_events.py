"""asset_events: the audit of admin edits to assets (custody history)

Revision ID: b4_lists
Revises: b2_usernames
Create Date: 2026-11-27 14:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b4_lists"
down_revision = "b2_usernames"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "asset_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_asset_events_actor_id_users")),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"], name=op.f("fk_asset_events_asset_id_assets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_events")),
    )
    with op.batch_alter_table("asset_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_asset_events_asset_id"), ["asset_id"], unique=False)


def downgrade():
    with op.batch_alter_table("asset_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_events_asset_id"))
    op.drop_table("asset_events")
