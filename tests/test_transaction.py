"""committing(): a lost race is a 409 the caller words; any other constraint violation says which."""

import pytest

from assetflow.errors import Conflict
from assetflow.extensions import db
from assetflow.models import Asset
from assetflow.services.transaction import committing

from .factories import make_asset


def duplicate_of(asset: Asset) -> Asset:
    return Asset(tag=asset.tag, name="x", category="y", value=1, currency="CNY", status="in_stock")


def test_a_violation_of_a_declared_race_constraint_raises_the_callers_conflict(shared_app):
    asset = make_asset()
    with pytest.raises(Conflict, match="lost the race"):
        with committing(lambda: Conflict("lost the race"), races=("uq_assets_tag",)):
            db.session.add(duplicate_of(asset))
    assert db.session.query(Asset).count() == 1


def test_any_other_violation_names_its_constraint_and_is_not_a_lost_race(shared_app):
    asset = make_asset()
    with pytest.raises(Conflict) as raised:
        with committing(lambda: Conflict("changed by someone else"), races=("uq_requests_pending_asset",)):
            db.session.add(duplicate_of(asset))
    error = raised.value
    assert "someone else" not in error.message and "tag" in error.message
    assert (error.code, error.details) == ("constraint_violation", {"constraint": "uq_assets_tag"})
    assert db.session.query(Asset).count() == 1
