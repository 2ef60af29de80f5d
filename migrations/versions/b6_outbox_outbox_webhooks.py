"""The outbox (e-mail and webhook messages written with their cause), webhooks and their call log, e-mail preferences, used one-click links

Revision ID: b6_outbox
Revises: b5_org
Create Date: 2026-11-27 16:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = "b6_outbox"
down_revision = "b5_org"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email_mode", sa.String(length=8), nullable=False, server_default="instant"))
        batch_op.add_column(sa.Column("digest_minutes", sa.Integer(), nullable=False, server_default=sa.text("60")))
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=False, server_default="en"))
        batch_op.create_check_constraint(op.f("ck_users_email_mode"), "email_mode IN ('off', 'instant', 'digest')")
    op.create_table(
        "used_links",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_used_links_request_id_requests")),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_links")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.CheckConstraint("state IN ('pending', 'sent', 'skipped', 'failed')", name=op.f("ck_outbox_state")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_id")),
    )
    op.create_index("ix_outbox_pending_due", "outbox", ["due_at"], sqlite_where=sa.text("state = 'pending'"),
                    postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_outbox_channel_target", "outbox", ["channel", "target_id"])
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_webhooks_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"], name=op.f("fk_webhook_attempts_outbox_id_outbox")),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_attempts_webhook_id_webhooks")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index(op.f("ix_webhook_attempts_outbox_id"), "webhook_attempts", ["outbox_id"])
    op.create_index(op.f("ix_webhook_attempts_webhook_id"), "webhook_attempts", ["webhook_id"])


def downgrade():
    op.drop_table("used_links")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_constraint(op.f("ck_users_email_mode"), type_="check")
        batch_op.drop_column("language")
        batch_op.drop_column("digest_minutes")
        batch_op.drop_column("email_mode")
    op.drop_table("webhook_attempts")
    op.drop_table("webhooks")
    op.drop_index("ix_outbox_channel_target", table_name="outbox")
    op.drop_index("ix_outbox_pending_due", table_name="outbox")
    op.drop_table("outbox")
