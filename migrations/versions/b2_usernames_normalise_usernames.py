"""Normalise stored usernames (NFKC, case-folded, stripped); refuse collisions and bad names.

Revision ID: b2_usernames
Revises: b1_integrity
Create Date: 2026-11-27 14:10:00

"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from assetflow.auth.credentials import canonical_username, username_problem

# revision identifiers, used by Alembic.
revision = 'b2_usernames'
down_revision = 'b1_integrity'
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String))


def upgrade():
    rows = op.get_bind().execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)).all()
    problems = _problems(rows)
    if problems:
        # Nothing is changed: an operator decides which account stays (rename or delete the rest).
        raise RuntimeError(
            "Cannot normalise usernames; fix these rows (rename or delete), then run db upgrade again:\n  "
            + "\n  ".join(problems)
        )
    for user_id, username in rows:
        if canonical_username(username) != username:
            op.execute(users.update().where(users.c.id == user_id)
                       .values(username=canonical_username(username)))


def _problems(rows) -> list[str]:
    """One line per username that is not allowed and per group that would collide."""
    problems, owners = [], defaultdict(list)
    for user_id, username in rows:
        name = canonical_username(username)
        owners[name].append(user_id)
        if username_problem(name):
            problems.append(f"id {user_id} {ascii(username)}: {username_problem(name)}")
    for name, ids in owners.items():
        if len(ids) > 1:
            problems.append(f"ids {', '.join(map(str, ids))} would all become {name!r}")
    return problems


def downgrade():
    # The normalised names are valid under the old code too; the originals are not kept.
    pass
