"""Eight approvers press approve at once: exactly one wins, on SQLite and on PostgreSQL."""

import threading

import pytest

from assetflow.extensions import db, socketio
from assetflow.models import Asset, Decision, Notification, Request, RequestEvent

from . import races
from .conftest import Auth
from .factories import make_asset, make_user

THREADS = 8


def race(app, path, headers_list, body):
    """POST the same path from many threads released together; return the status codes."""
    barrier = threading.Barrier(len(headers_list))
    statuses = [None] * len(headers_list)

    def worker(index, headers):
        client = app.test_client()
        barrier.wait(timeout=10)
        statuses[index] = client.post(path, headers=headers, json=body).status_code

    threads = [threading.Thread(target=worker, args=(i, h)) for i, h in enumerate(headers_list)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.mark.timeout(120)
def test_concurrent_approvals_exactly_one_wins(shared_app, monkeypatch):
    auth = Auth(shared_app.test_client())
    applicant = make_user("employee")
    approvers = [make_user("approver") for _ in range(THREADS)]
    asset_id = make_asset().id
    submitted = shared_app.test_client().post(
        "/api/requests", headers=auth.headers(applicant),
        json={"kind": "assign", "asset_id": asset_id, "reason": "race"}).get_json()
    headers = [auth.headers(user) for user in approvers]
    notifications_before = db.session.query(Notification).count()
    emitted = []
    real_emit = socketio.emit
    monkeypatch.setattr(socketio, "emit", lambda *a, **k: (emitted.append(a[0]), real_emit(*a, **k)))

    statuses = race(shared_app, f"/api/requests/{submitted['id']}/approve", headers, {"comment": "mine"})

    assert sorted(statuses) == [200] + [409] * (THREADS - 1)
    db.session.expire_all()
    req = db.session.get(Request, submitted["id"])
    assert (req.state, req.version) == ("approved", 2)
    assert db.session.query(Decision).count() == 1
    assert db.session.query(RequestEvent).filter_by(action="approve").count() == 1
    # One decision notifies only the applicant; the losers wrote and emitted nothing.
    assert db.session.query(Notification).count() == notifications_before + 1
    assert emitted.count("approval_update") == 1 and emitted.count("queue_update") == 1


@pytest.mark.timeout(120)
def test_concurrent_submits_lock_the_asset_once(shared_app):
    auth = Auth(shared_app.test_client())
    applicants = [make_user("employee") for _ in range(THREADS)]
    make_user("approver")  # someone who could decide, or every submit is refused (422)
    asset_id = make_asset().id
    headers = [auth.headers(user) for user in applicants]
    statuses = race(shared_app, "/api/requests", headers, {"kind": "assign", "asset_id": asset_id, "reason": "mine"})
    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    assert db.session.query(Request).filter_by(asset_id=asset_id, state="pending").count() == 1


@pytest.mark.timeout(120)
def test_admin_edit_and_submit_on_one_asset_never_both_commit(shared_app):
    auth = Auth(shared_app.test_client())
    admin, applicant = auth.headers(make_user("admin")), auth.headers(make_user("employee"))
    make_user("approver")
    for round_ in range(5):
        asset_id = make_asset().id
        # Both have read the asset and passed their checks before either writes (tests/races.py).
        statuses = races.race(shared_app, [
            ("PATCH", f"/api/assets/{asset_id}", admin, {"status": "in_repair"}),
            ("POST", "/api/requests", applicant, {"kind": "assign", "asset_id": asset_id, "reason": "mine"}),
        ])
        assert sorted(statuses) in ([200, 409], [201, 409]), (round_, statuses)
        db.session.expire_all()
        asset = db.session.get(Asset, asset_id)
        assert (asset.status, asset.locked) == (("in_stock", True) if 201 in statuses else ("in_repair", False))


@pytest.mark.timeout(120)
def test_a_return_and_an_approval_at_once_exactly_one_wins(shared_app):
    auth = Auth(shared_app.test_client())
    applicant = auth.headers(make_user("employee"))
    bob, carol = auth.headers(make_user("approver")), auth.headers(make_user("approver"))
    for round_ in range(5):
        request_id = shared_app.test_client().post("/api/requests", headers=applicant, json={
            "kind": "assign", "asset_id": make_asset().id, "reason": "race"}).get_json()["id"]
        # Both have read the request and passed their guards before either writes (tests/races.py).
        statuses = races.race(shared_app, [
            ("POST", f"/api/requests/{request_id}/approve", bob, {}),
            ("POST", f"/api/requests/{request_id}/return", carol, {"comment": "which model?"}),
        ])
        assert sorted(statuses) == [200, 409], (round_, statuses)
        db.session.expire_all()
        req = db.session.get(Request, request_id)
        assert req.state == ("approved" if statuses[0] == 200 else "returned"), (round_, statuses)
        actions = [e.action for e in db.session.query(RequestEvent).filter_by(request_id=request_id)]
        assert actions == ["submit", "approve" if statuses[0] == 200 else "return"], round_
        assert db.session.query(Decision).filter_by(request_id=request_id).count() == (statuses[0] == 200)
