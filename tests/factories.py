"""Plain functions that make rows for tests."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from assetflow.extensions import db
from assetflow.models import ROOT_DEPARTMENT_ID, ApprovalRule, Asset, Department, User

PASSWORD = "correct horse battery"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_numbers = itertools.count(1)


def make_user(role: str = "employee", username: str | None = None, active: bool = True,
              department: Department | None = None) -> User:
    """A committed user with PASSWORD (in the company root unless a department is given)."""
    number = next(_numbers)
    user = User(username=username or f"{role}{number}", display_name=f"{role.title()} {number}",
                email=f"{role}{number}@example.com", role=role, active=active)
    if department is not None:
        user.department_id = department.id
    # A cheap hash keeps the suite fast; check_password reads the method from the hash itself.
    user.password_hash = FAST_HASH
    db.session.add(user)
    db.session.commit()
    return user


def make_asset(status: str = "in_stock", value: int | str = 1000, custodian: User | None = None,
               category: str = "Laptop") -> Asset:
    """A committed asset."""
    number = next(_numbers)
    asset = Asset(tag=f"T-{number:05d}", name=f"Asset {number}", category=category,
                  value=Decimal(value), currency="CNY", status=status,
                  custodian_id=custodian.id if custodian else None, location="HQ")
    db.session.add(asset)
    db.session.commit()
    return asset


def make_department(name: str, parent: Department | None = None, manager: User | None = None) -> Department:
    """A committed department under `parent` (the company root by default)."""
    code = f"{name.upper()[:20]}-{next(_numbers)}"
    department = Department(name=name, code=code, parent_id=parent.id if parent else ROOT_DEPARTMENT_ID,
                            manager_id=manager.id if manager else None)
    db.session.add(department)
    db.session.commit()
    return department


def set_rules(rules: list[dict[str, Any]]) -> None:
    """Replace the approval rules in force (as an admin's PUT would, without the audit)."""
    db.session.execute(sa.delete(ApprovalRule))
    db.session.add_all(ApprovalRule(position=n, match=rule["match"], steps=rule["steps"],
                                    attachments=rule.get("attachments")) for n, rule in enumerate(rules))
    db.session.commit()
