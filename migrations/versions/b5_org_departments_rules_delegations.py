"""The organisation: departments, approval rules in the database, frozen chains, delegations

Every existing user and asset joins the root department (id 1, "Company"); the rule table gets the
rules wave 1 applied from config, so routing is unchanged; every existing request gets its steps
and the people who may decide them (the active holders of each step's role, and whoever decided it).

Revision ID: b5_org
Revises: b4_lists
Create Date: 2026-11-27 16:40:00

"""
import json

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "b5_org"
down_revision = "b4_lists"
branch_labels = None
depends_on = None


def upgrade():
    _create_departments()
    for table in ("users", "assets", "requests"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=False, server_default=sa.text("1")))
            batch_op.create_index(batch_op.f(f"ix_{table}_department_id"), ["department_id"])
            batch_op.create_foreign_key(batch_op.f(f"fk_{table}_department_id_departments"), "departments",
                                        ["department_id"], ["id"])
    with op.batch_alter_table("departments") as batch_op:
        batch_op.create_foreign_key("fk_departments_manager_id_users", "users", ["manager_id"], ["id"])
    with op.batch_alter_table("requests") as batch_op:
        batch_op.add_column(sa.Column("previous_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_requests_previous_id"), ["previous_id"])
        batch_op.create_foreign_key(batch_op.f("fk_requests_previous_id_requests"), "requests", ["previous_id"], ["id"])
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_decisions_on_behalf_of_id_users"), "users", ["on_behalf_of_id"], ["id"])
    with op.batch_alter_table("request_events") as batch_op:
        batch_op.add_column(sa.Column("on_behalf_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_request_events_on_behalf_of_id_users"), "users",
                                    ["on_behalf_of_id"], ["id"])
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=True)
    _create_rules()
    _create_steps()
    _create_delegations()
    _seed_rules()
    _freeze_existing_chains()


def _create_departments():
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["departments.id"], name=op.f("fk_departments_parent_id_departments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
    )
    op.create_index(op.f("ix_departments_parent_id"), "departments", ["parent_id"])
    op.execute("INSERT INTO departments (name, code, created_at) VALUES ('Company', 'HQ', CURRENT_TIMESTAMP)")


def _create_rules():
    op.create_table(
        "approval_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("match", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_rules")),
        sa.UniqueConstraint("position", name=op.f("uq_approval_rules_position")),
    )
    op.create_table(
        "approval_rule_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_approval_rule_changes_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_rule_changes")),
    )


def _create_steps():
    op.create_table(
        "request_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("decider", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=True),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("remind_after_hours", sa.Float(), nullable=True),
        sa.Column("escalate_after_hours", sa.Float(), nullable=True),
        sa.Column("escalate_to", sa.String(length=16), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"], name=op.f("fk_request_steps_request_id_requests")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_steps")),
        sa.UniqueConstraint("request_id", "step", name="uq_request_steps_request_step"),
    )
    op.create_table(
        "request_step_deciders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"],
                                name=op.f("fk_request_step_deciders_request_id_requests")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_request_step_deciders_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_step_deciders")),
        sa.UniqueConstraint("request_id", "step", "user_id", name="uq_request_step_deciders_person"),
    )
    op.create_index(op.f("ix_request_step_deciders_request_id"), "request_step_deciders", ["request_id"])
    op.create_index(op.f("ix_request_step_deciders_user_id"), "request_step_deciders", ["user_id"])


def _create_delegations():
    op.create_table(
        "delegations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_delegations_period")),
        sa.CheckConstraint("delegate_id <> delegator_id", name=op.f("ck_delegations_not_self")),
        sa.ForeignKeyConstraint(["delegate_id"], ["users.id"], name=op.f("fk_delegations_delegate_id_users")),
        sa.ForeignKeyConstraint(["delegator_id"], ["users.id"], name=op.f("fk_delegations_delegator_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegations")),
    )
    op.create_index(op.f("ix_delegations_delegate_id"), "delegations", ["delegate_id"])
    op.create_index(op.f("ix_delegations_delegator_id"), "delegations", ["delegator_id"])


def _seed_rules():
    """The rules wave 1 read from config, written as rows (the same list default_rules() gives)."""
    from assetflow.workflow.rules import default_rules

    table = sa.table("approval_rules", sa.column("position", sa.Integer), sa.column("match", sa.JSON),
                     sa.column("steps", sa.JSON))
    rules = default_rules(current_app.config["HIGH_VALUE_THRESHOLD"])
    op.bulk_insert(table, [{"position": i, **rule} for i, rule in enumerate(rules)])


def _freeze_existing_chains():
    """Steps and deciders for the requests stored before chains were frozen on the request."""
    conn = op.get_bind()
    holders = {}
    for user_id, role in conn.execute(sa.text("SELECT id, role FROM users WHERE active = :t"), {"t": True}):
        holders.setdefault(role, []).append(user_id)
    decided = {(r, s): a for r, s, a in conn.execute(sa.text("SELECT request_id, step, approver_id FROM decisions"))}
    steps, deciders = [], []
    requests = conn.execute(sa.text("SELECT id, applicant_id, chain, state, step, updated_at FROM requests"))
    for request_id, applicant_id, chain, state, current, updated_at in requests:
        chain = chain if isinstance(chain, list) else json.loads(chain)
        for number, role in enumerate(chain, start=1):
            started = updated_at if (state == "pending" and number == current) else None
            steps.append({"request_id": request_id, "step": number, "decider": "role", "role": role,
                          "scope": "company", "started_at": started})
            people = {uid for uid in holders.get(role, []) if uid != applicant_id}
            if (request_id, number) in decided:
                people.add(decided[(request_id, number)])
            deciders += [{"request_id": request_id, "step": number, "user_id": uid, "via": "rule"}
                         for uid in sorted(people)]
    if steps:
        op.bulk_insert(sa.table("request_steps", *(sa.column(c) for c in steps[0])), steps)
    if deciders:
        op.bulk_insert(sa.table("request_step_deciders", *(sa.column(c) for c in deciders[0])), deciders)


def downgrade():
    op.drop_table("delegations")
    op.drop_table("request_step_deciders")
    op.drop_table("request_steps")
    op.drop_table("approval_rule_changes")
    op.drop_table("approval_rules")
    op.execute("DELETE FROM request_events WHERE actor_id IS NULL")
    with op.batch_alter_table("request_events") as batch_op:
        batch_op.alter_column("actor_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint("fk_request_events_on_behalf_of_id_users", type_="foreignkey")
        batch_op.drop_column("on_behalf_of_id")
    with op.batch_alter_table("decisions") as batch_op:
        batch_op.drop_constraint("fk_decisions_on_behalf_of_id_users", type_="foreignkey")
        batch_op.drop_column("on_behalf_of_id")
    with op.batch_alter_table("requests") as batch_op:
        batch_op.drop_constraint("fk_requests_previous_id_requests", type_="foreignkey")
        batch_op.drop_index("ix_requests_previous_id")
        batch_op.drop_column("previous_id")
    with op.batch_alter_table("departments") as batch_op:
        batch_op.drop_constraint("fk_departments_manager_id_users", type_="foreignkey")
    for table in ("users", "assets", "requests"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_department_id_departments", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_department_id")
            batch_op.drop_column("department_id")
    op.drop_table("departments")
