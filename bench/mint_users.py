"""Benchmark helper: create N users of a role in a database and print an access token for each.

Run as a one-shot process against the same DATABASE_URL and JWT_SECRET_KEY as the server under
test, with ASYNC_MODE=threading (no green threads needed):

    python bench/mint_users.py PREFIX COUNT [ROLE]   ->  JSON {"users": [{"id", "username", "token"}]}

Why not `flask create-user` + `POST /api/auth/login` for each? Both hash or verify a password
(werkzeug's scrypt, tens of milliseconds each), which would make opening 500 sockets of 500
different users take minutes per configuration. The users get one shared password hash, and
the tokens are minted by the app's own `issue_tokens` with the server's secret, so the server
verifies them exactly as it verifies tokens from a login (signature, expiry, revocation, user).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def mint(app: Flask, prefix: str, count: int, role: str = "employee") -> list[dict]:
    """Create the users that do not exist yet; every one's id, name and access token."""
    import sqlalchemy as sa

    from assetflow.auth.tokens import issue_tokens
    from assetflow.extensions import db
    from assetflow.models import ROOT_DEPARTMENT_ID, Department, User

    with app.app_context():
        # In the seeded demo company, Engineering: where alice works and bob and erik approve, so a bench
        # user's request has deciders (nobody approves for the company root itself).
        department = db.session.scalar(sa.select(Department.id).where(Department.code == "ENG"))
        template = User(username=f"{prefix}-hash", display_name="hash", role=role)
        template.set_password("bench-password")  # hashed once, shared by every bench user
        names = [f"{prefix}{index:05d}" for index in range(count)]
        existing = set(db.session.scalars(sa.select(User.username).where(User.username.in_(names))))
        db.session.add_all(
            User(username=name, display_name=f"Bench {name}", email=f"{name}@bench.invalid",
                 role=role, password_hash=template.password_hash, department_id=department or ROOT_DEPARTMENT_ID)
            for name in names if name not in existing
        )
        db.session.commit()
        users = db.session.scalars(sa.select(User).where(User.username.in_(names)).order_by(User.id)).all()
        return [{"id": u.id, "username": u.username, "token": issue_tokens(u)["access_token"]} for u in users]


def main(prefix: str, count: int, role: str = "employee") -> None:
    """Print the users' JSON on stdout."""
    from assetflow import create_app

    json.dump({"users": mint(create_app(), prefix, count, role)}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), *sys.argv[3:4])
