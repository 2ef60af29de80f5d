"""Single sign-on: users' identities at an OpenID provider (issuer + sub), spent sign-in states and tickets

Revision ID: c3_oidc
Revises: c0_decision_step_start
Create Date: 2026-12-12 02:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = "c3_oidc"
down_revision = "c0_decision_step_start"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_identities_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_identities")),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer_subject"),
    )
    op.create_index(op.f("ix_user_identities_user_id"), "user_identities", ["user_id"])
    op.create_table(
        "spent_sign_in_values",
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("spent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("value", name=op.f("pk_spent_sign_in_values")),
    )
    op.create_index(op.f("ix_spent_sign_in_values_spent_at"), "spent_sign_in_values", ["spent_at"])


def downgrade():
    op.drop_index(op.f("ix_spent_sign_in_values_spent_at"), table_name="spent_sign_in_values")
    op.drop_table("spent_sign_in_values")
    op.drop_index(op.f("ix_user_identities_user_id"), table_name="user_identities")
    op.drop_table("user_identities")
