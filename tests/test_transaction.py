"""committing(): a lost race is a 409 the caller words; any other constraint violation says which."""

import pytest
import sqlalchemy as sa

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


def test_kept_rows_answer_without_a_read_and_expire_when_the_session_next_begins(shared_app):
    asset = make_asset()
    with committing(lambda: Conflict("unused"), keep_loaded=True):
        asset.name = "Kept"
    with db.engine.begin() as other:  # another transaction changes the row after the commit
        other.execute(sa.update(Asset).where(Asset.id == asset.id).values(name="Changed elsewhere"))
    assert asset.name == "Kept"  # still loaded: not read back
    db.session.scalar(sa.select(sa.func.count()).select_from(Asset))  # the session begins again
    assert asset.name == "Changed elsewhere"


def test_a_change_made_after_a_kept_commit_is_stored_by_the_next_one(shared_app):
    """The kept rows expire as the next transaction begins, which may be this change's own flush."""
    asset = make_asset()
    with committing(lambda: Conflict("unused"), keep_loaded=True):
        asset.name = "Kept"
    asset.location = "Shelf 9"  # no query in between
    db.session.commit()
    db.session.expire_all()
    assert (asset.name, asset.location) == ("Kept", "Shelf 9")
