"""Attachments: files on a request (their bytes in a table of their own), and rules that require one

Revision ID: c1_attachments
Revises: c3_oidc
Create Date: 2027-01-05 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c1_attachments"
down_revision = "c3_oidc"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "attachment_contents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment_contents")),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("uploader_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["content_id"], ["attachment_contents.id"],
                                name=op.f("fk_attachments_content_id_attachment_contents")),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_attachments_request_id_requests")),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], name=op.f("fk_attachments_uploader_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
        sa.UniqueConstraint("content_id", name=op.f("uq_attachments_content_id")),
    )
    op.create_index(op.f("ix_attachments_request_id"), "attachments", ["request_id"])
    with op.batch_alter_table("approval_rules") as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table("approval_rules") as batch_op:
        batch_op.drop_column("attachments")
    op.drop_index(op.f("ix_attachments_request_id"), table_name="attachments")
    op.drop_table("attachments")
    op.drop_table("attachment_contents")
