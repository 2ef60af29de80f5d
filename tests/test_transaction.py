"""committing(): a lost race is a 409 the caller words; any other constraint violation says which."""

import pytest

from assetflow.errors import Conflict
from assetflow.extensions import db
from assetflow.models import Asset, Request
from assetflow.services.transaction import committing

from .factories import make_asset, make_user


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


def test_the_partial_unique_index_of_the_asset_lock_is_named_on_both_databases(shared_app):
    asset, applicant = make_asset(), make_user()

    def pending() -> Request:
        return Request(kind="assign", asset_id=asset.id, applicant_id=applicant.id, reason="r", state="pending",
                       step=1, steps_total=1, chain=["approver"], required_role="approver")

    with committing(lambda: Conflict("unused")):
        db.session.add(pending())
    with pytest.raises(Conflict, match="locked"):
        with committing(lambda: Conflict("locked"), races=("uq_requests_pending_asset",)):
            db.session.add(pending())
