"""Plain functions that make rows for tests."""

from __future__ import annotations

import itertools
from decimal import Decimal

from werkzeug.security import generate_password_hash

from assetflow.extensions import db
from assetflow.models import Asset, User

PASSWORD = "correct horse battery"
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
_numbers = itertools.count(1)


def make_user(role: str = "employee", username: str | None = None, active: bool = True) -> User:
    """A committed user with PASSWORD."""
    number = next(_numbers)
    user = User(username=username or f"{role}{number}", display_name=f"{role.title()} {number}",
                email=f"{role}{number}@example.com", role=role, active=active)
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
