"""committing(): a lost race is a 409 the caller words; any other constraint violation says which."""

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError

from assetflow.auth.tokens import actor_for
from assetflow.errors import Conflict
from assetflow.extensions import db
from assetflow.models import Asset, Request
from assetflow.services import requests
from assetflow.services.transaction import Lost, committing, update_versioned

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


def test_without_a_conflict_to_word_a_lost_race_only_marks_the_attempt_lost(shared_app):
    """A background job (a timer) skips what another process did: no error, nothing stored."""
    asset = make_asset()
    with db.engine.begin() as other:  # another transaction changes the row after it was read
        other.execute(sa.update(Asset).where(Asset.id == asset.id).values(name="Theirs", version=Asset.version + 1))
    with committing() as attempt:
        asset.name = "Mine"  # a versioned UPDATE that now matches no row
    assert attempt.lost
    db.session.expire_all()
    assert asset.name == "Theirs"


def test_lost_raised_in_the_block_is_a_lost_race(shared_app):
    """A claim that finds itself beaten raises Lost: rolled back, then the caller's conflict (or a lost attempt)."""
    asset = make_asset()
    with pytest.raises(Conflict, match="taken by another"):
        with committing(lambda: Conflict("taken by another")):
            asset.name = "Mine"
            db.session.flush()
            raise Lost
    with committing() as attempt:
        asset.name = "Mine again"
        raise Lost
    db.session.expire_all()
    assert attempt.lost and asset.name.startswith("Asset ")


def test_the_conflict_of_a_decision_is_built_without_touching_the_session(shared_app):
    """An error builder has no side effects: the rollback and the re-read are committing()'s and the caller's."""
    applicant, _ = make_user(), make_user("approver")
    req = requests.submit(actor_for(applicant), {"kind": "assign", "asset_id": make_asset().id, "reason": "r"})
    unsaved = duplicate_of(make_asset())
    unsaved.tag = "NOT-YET"
    db.session.add(unsaved)
    error = requests.already_changed(req, None)
    assert (error.code, error.details["state"], error.details["decided_by"]) == ("conflict", "pending", None)
    assert unsaved in db.session  # not rolled back (which would expunge it) by building the error


def test_a_versioned_update_writes_the_changes_as_a_flush_would_and_leaves_the_row_clean(shared_app):
    asset = make_asset()
    db.session.commit()
    version, updated = asset.version, asset.updated_at
    asset.status = "in_repair"
    update_versioned(asset)
    assert not db.session.dirty and not sa.inspect(asset).modified  # nothing left for the unit of work
    assert (asset.version, asset.status) == (version + 1, "in_repair") and asset.updated_at > updated
    db.session.commit()
    assert db.session.execute(sa.select(Asset.status, Asset.version)).one() == ("in_repair", version + 1)


def test_a_versioned_update_of_a_row_changed_meanwhile_is_a_lost_race(shared_app):
    asset = make_asset()
    db.session.commit()
    assert asset.version == 1  # read
    db.session.execute(sa.update(Asset).values(version=Asset.version + 1).execution_options(synchronize_session=False))
    asset.status = "in_repair"
    with pytest.raises(StaleDataError):
        update_versioned(asset)


def test_a_new_row_the_versioned_row_refers_to_is_inserted_first_and_kept_as_if_loaded(shared_app):
    """An approved acquire's new asset: one INSERT before the request's UPDATE, no flush, and the asset then
    persistent and clean, what it was not given (its column defaults) read from its row when asked."""
    applicant = make_user()
    req = Request(kind="acquire", applicant_id=applicant.id, reason="r", name="Laptop", category="IT", value=10,
                  currency="CNY", state="pending", step=1, steps_total=1, chain=["approver"], required_role="approver")
    db.session.add(req)
    db.session.commit()
    assert req.version == 1  # loaded, as a decision's request is
    req.state, req.asset = "approved", Asset(tag="ACQ-TEST", name="Laptop", category="IT", value=10, currency="CNY",
                                             status="in_use", custodian_id=applicant.id)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[:3])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    update_versioned(req)
    sa.event.remove(db.engine, "before_cursor_execute", record)
    assert [words[0] for words in statements] == ["INSERT", "UPDATE"] and "assets" in statements[0][2]
    state = sa.inspect(req.asset)
    assert state.persistent and not state.modified and not db.session.new and not db.session.dirty
    assert req.asset_id == req.asset.id and (req.asset.version, req.asset.location) == (1, "")
    db.session.commit()
    db.session.expire_all()
    assert (req.state, req.asset.tag, req.asset.custodian_id) == ("approved", "ACQ-TEST", applicant.id)
