"""Submitting and deciding requests over HTTP: effects, guards, visibility, errors."""

from decimal import Decimal

import pytest

from assetflow.extensions import db
from assetflow.models import Asset, Decision, Notification, Request, RequestEvent

from .factories import make_asset, set_rules


def submit(client, headers, **body):
    return client.post("/api/requests", headers=headers, json={"reason": "needed", **body})


def count(model) -> int:
    return db.session.query(model).count()


def test_submit_assign(client, people):
    alice, h = people["alice"]
    asset = make_asset()
    response = submit(client, h, kind="assign", asset_id=asset.id)
    assert response.status_code == 201
    body = response.get_json()
    assert body["state"] == "pending" and body["step"] == 1 and body["steps_total"] == 1
    assert body["applicant"]["id"] == alice.id and body["asset_id"] == asset.id
    assert body["version"] == 1 and body["required_role"] == "approver"
    assert body["allowed_actions"] == ["withdraw", "comment"]


def test_high_value_needs_admin_step(client, people):
    _, h = people["alice"]
    body = submit(client, h, kind="assign", asset_id=make_asset(value=10000).id).get_json()
    assert body["steps_total"] == 2


def test_full_two_step_flow_applies_effect(client, people):
    alice, h = people["alice"]
    asset = make_asset(value=25000)
    req = submit(client, h, kind="assign", asset_id=asset.id).get_json()
    step1 = client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={"comment": "ok"})
    assert step1.status_code == 200
    assert (step1.get_json()["state"], step1.get_json()["step"]) == ("pending", 2)
    # Step 2 belongs to the admin role: Carol, an approver, may not decide it.
    assert client.post(f"/api/requests/{req['id']}/approve", headers=people["carol"][1], json={}).status_code == 403
    final = client.post(f"/api/requests/{req['id']}/approve", headers=people["admin"][1], json={})
    assert final.get_json()["state"] == "approved"
    db.session.expire_all()
    asset = db.session.get(Asset, asset.id)
    assert (asset.status, asset.custodian_id) == ("in_use", alice.id)
    detail = client.get(f"/api/requests/{req['id']}", headers=h).get_json()
    assert [d["approver"]["username"] for d in detail["decisions"]] == ["bob", "admin"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in detail["events"]] == [
        ("submit", None, "pending"), ("approve", "pending", "pending"), ("approve", "pending", "approved")]


@pytest.mark.parametrize("kind, status, expected", [
    ("repair", "in_use", "in_repair"),
    ("dispose", "in_stock", "disposed"),
])
def test_effects_of_repair_and_dispose(client, people, kind, status, expected):
    # The custodian asks about an asset in use; stock is the approvers' (docs/architecture.md).
    applicant, approvers = ("alice", ("bob", "admin")) if status == "in_use" else ("carol", ("bob", "admin"))
    asset = make_asset(status=status, custodian=people["alice"][0] if status == "in_use" else None)
    req = submit(client, people[applicant][1], kind=kind, asset_id=asset.id).get_json()
    for approver in approvers[: req["steps_total"]]:
        assert client.post(f"/api/requests/{req['id']}/approve", headers=people[approver][1], json={}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).status == expected


def test_transfer_changes_custodian(client, people):
    alice, h = people["alice"]
    erin, _ = people["erin"]
    asset = make_asset(status="in_use", custodian=alice)
    req = submit(client, h, kind="transfer", asset_id=asset.id, target_user_id=erin.id).get_json()
    client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={})
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).custodian_id == erin.id


def test_transfer_by_non_custodian_is_403(client, people):
    asset = make_asset(status="in_use", custodian=people["erin"][0])
    response = submit(client, people["alice"][1], kind="transfer", asset_id=asset.id,
                      target_user_id=people["bob"][0].id)
    assert response.status_code == 403


def test_acquire_creates_asset(client, people):
    alice, h = people["alice"]
    req = submit(client, h, kind="acquire", name="Dock", category="Accessory", value="199.90").get_json()
    assert req["asset_id"] is None and req["value"] == "199.90"
    approved = client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={}).get_json()
    asset = db.session.get(Asset, approved["asset_id"])
    assert (asset.name, asset.status, asset.custodian_id) == ("Dock", "in_use", alice.id)


@pytest.mark.parametrize("kind, status", [
    ("assign", "in_use"), ("assign", "disposed"), ("transfer", "in_stock"),
    ("repair", "in_repair"), ("dispose", "disposed"),
])
def test_kind_that_does_not_fit_is_422(client, people, kind, status):
    asset = make_asset(status=status)
    before = count(Request)
    response = submit(client, people["alice"][1], kind=kind, asset_id=asset.id,
                      target_user_id=people["erin"][0].id)
    assert response.status_code == 422
    assert count(Request) == before


@pytest.mark.parametrize("body", [
    {"kind": "assign"},                                 # no asset
    {"kind": "assign", "asset_id": 999999},             # unknown asset
    {"kind": "acquire", "name": "x", "category": "y"},  # no value
    {"kind": "acquire", "asset_id": 1, "name": "x", "category": "y", "value": 1},
    {"kind": "teleport", "asset_id": 1},
    {"kind": "assign", "asset_id": "one"},
    {"kind": "assign", "asset_id": 1, "reason": "x" * 2001},
    {"kind": "assign", "asset_id": 1, "reason": ""},
    {"kind": "assign", "asset_id": 1, "unexpected": True},
    {"kind": "acquire", "name": "x", "category": "y", "value": -5},
])
def test_bad_submit_is_422_and_stores_nothing(client, people, body):
    make_asset()
    before = (count(Request), count(Notification))
    response = client.post("/api/requests", headers=people["alice"][1], json={"reason": "r", **body})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "validation_error"
    assert (count(Request), count(Notification)) == before


def test_pending_request_locks_the_asset(client, people):
    asset = make_asset()
    assert submit(client, people["alice"][1], kind="assign", asset_id=asset.id).status_code == 201
    second = submit(client, people["erin"][1], kind="assign", asset_id=asset.id)
    assert second.status_code == 409
    listed = client.get(f"/api/assets/{asset.id}", headers=people["erin"][1]).get_json()
    assert listed["locked"] is True


def test_lock_released_after_rejection(client, people):
    asset = make_asset()
    req = submit(client, people["alice"][1], kind="assign", asset_id=asset.id).get_json()
    client.post(f"/api/requests/{req['id']}/reject", headers=people["bob"][1], json={"comment": "no"})
    assert submit(client, people["erin"][1], kind="assign", asset_id=asset.id).status_code == 201


def test_self_approval_is_403(client, people):
    bob, h = people["bob"]
    req = submit(client, h, kind="assign", asset_id=make_asset().id).get_json()
    response = client.post(f"/api/requests/{req['id']}/approve", headers=h, json={})
    assert response.status_code == 403
    assert client.post(f"/api/requests/{req['id']}/approve", headers=people["carol"][1], json={}).status_code == 200


def test_employee_cannot_approve_and_sees_404_for_others(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    assert client.post(f"/api/requests/{req['id']}/approve", headers=people["erin"][1], json={}).status_code == 404
    assert client.get(f"/api/requests/{req['id']}", headers=people["erin"][1]).status_code == 404


def test_reject_needs_comment(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    for body in ({}, {"comment": "  "}):
        response = client.post(f"/api/requests/{req['id']}/reject", headers=people["bob"][1], json=body)
        assert response.status_code == 422
    assert count(Decision) == 0


def test_final_state_is_immutable_and_says_who_decided(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={})
    for path, body in (("reject", {"comment": "late"}), ("approve", {})):
        response = client.post(f"/api/requests/{req['id']}/{path}", headers=people["carol"][1], json=body)
        assert response.status_code == 409
        error = response.get_json()["error"]
        assert error["details"]["decided_by"]["display_name"] == people["bob"][0].display_name
        assert "already approved by" in error["message"]
    withdraw = client.post(f"/api/requests/{req['id']}/withdraw", headers=people["alice"][1], json={})
    assert withdraw.status_code == 409
    assert count(Decision) == 1


def test_withdraw(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    assert client.post(f"/api/requests/{req['id']}/withdraw", headers=people["bob"][1], json={}).status_code == 403
    response = client.post(f"/api/requests/{req['id']}/withdraw", headers=people["alice"][1], json={})
    assert response.get_json()["state"] == "withdrawn"


def test_stale_version_is_409(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    response = client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={"version": 7})
    assert response.status_code == 409
    ok = client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={"version": 1})
    assert ok.get_json()["version"] == 2


def test_unknown_request_is_404(client, people):
    assert client.get("/api/requests/424242", headers=people["admin"][1]).status_code == 404
    assert client.post("/api/requests/424242/approve", headers=people["bob"][1], json={}).status_code == 404


def test_scopes(client, people):
    alice_h, erin_h, bob_h = people["alice"][1], people["erin"][1], people["bob"][1]
    mine = submit(client, alice_h, kind="assign", asset_id=make_asset().id).get_json()
    other = submit(client, erin_h, kind="assign", asset_id=make_asset().id).get_json()
    ids = lambda h, **q: [r["id"] for r in client.get("/api/requests", headers=h, query_string=q).get_json()["items"]]
    assert ids(alice_h) == [mine["id"]]
    assert ids(alice_h, scope="all") == [mine["id"]]
    assert ids(bob_h, scope="inbox") == [other["id"], mine["id"]]
    client.post(f"/api/requests/{mine['id']}/approve", headers=bob_h, json={})
    assert ids(bob_h, scope="inbox") == [other["id"]]
    assert ids(bob_h, scope="all") == [other["id"], mine["id"]]
    assert ids(bob_h, scope="all", state="approved") == [mine["id"]]
    assert ids(people["admin"][1], scope="inbox") == []
    page = client.get("/api/requests", headers=people["root"][1], query_string={"scope": "all", "per_page": 1}).get_json()
    assert (page["total"], len(page["items"]), page["per_page"]) == (2, 1, 1)


@pytest.mark.parametrize("query", [{"scope": "everything"}, {"state": "lost"}, {"per_page": 0},
                                   {"per_page": 101}, {"page": "x"}])
def test_bad_list_query_is_422(client, people, query):
    assert client.get("/api/requests", headers=people["alice"][1], query_string=query).status_code == 422


def test_bulk_approve_reports_each_item(client, people):
    a = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    own = submit(client, people["bob"][1], kind="assign", asset_id=make_asset().id).get_json()
    response = client.post("/api/requests/bulk-approve", headers=people["bob"][1],
                           json={"ids": [a["id"], own["id"], 999999]})
    results = response.get_json()["results"]
    assert [(r["id"], r["ok"]) for r in results] == [(a["id"], True), (own["id"], False), (999999, False)]
    assert [r.get("status") for r in results[1:]] == [403, 404]
    assert results[0]["request"]["state"] == "approved"


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": list(range(1, 502))}, {"ids": [1], "filter": {}}, {"ids": ["a"]}])
def test_bulk_approve_validates(client, people, body):
    assert client.post("/api/requests/bulk-approve", headers=people["bob"][1], json=body).status_code == 422


def test_stats(client, people):
    a = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id)
    client.post(f"/api/requests/{a['id']}/approve", headers=people["bob"][1], json={})
    body = client.get("/api/requests/stats", headers=people["admin"][1]).get_json()
    assert body["counts"] == {"pending": 1, "approved": 1, "rejected": 0, "withdrawn": 0}
    assert body["median_decision_seconds"] >= 0


def test_audit_rows_written_once_per_action(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset().id).get_json()
    client.post(f"/api/requests/{req['id']}/withdraw", headers=people["alice"][1], json={})
    assert count(RequestEvent) == 2


def approve(client, people, who: str, request_id: int, **body):
    return client.post(f"/api/requests/{request_id}/approve", headers=people[who][1], json=body)


def test_an_acquire_stays_approvable_when_an_older_asset_holds_its_tag(client, people):
    req = submit(client, people["alice"][1], kind="acquire", name="Dock", category="Accessory", value="10").get_json()
    # Registered before the ACQ- prefix was reserved: the tag the approval would pick is taken.
    db.session.add(make_asset_row(tag=f"ACQ-{req['id']:06d}"))
    db.session.commit()
    response = approve(client, people, "bob", req["id"])
    assert response.status_code == 200, response.get_json()
    asset = db.session.get(Asset, response.get_json()["asset_id"])
    assert asset.tag == f"ACQ-{req['id']:06d}-2"
    assert (asset.name, asset.custodian_id) == ("Dock", people["alice"][0].id)


def make_asset_row(tag: str) -> Asset:
    return Asset(tag=tag, name="Old", category="Misc", value=Decimal(1), currency="CNY", status="in_stock")


def test_a_final_approval_rechecks_that_the_kind_still_fits_the_asset(client, people):
    asset = make_asset()
    req = submit(client, people["alice"][1], kind="assign", asset_id=asset.id).get_json()
    # Any path that moves the asset on while the request waits (here: the database directly).
    db.session.get(Asset, asset.id).status = "in_repair"
    db.session.commit()
    before = (count(Decision), count(RequestEvent), count(Notification))
    response = approve(client, people, "bob", req["id"])
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert "in_repair" in error["message"] and error["details"]["asset_status"] == "in_repair"
    db.session.expire_all()
    assert (count(Decision), count(RequestEvent), count(Notification)) == before
    assert db.session.get(Request, req["id"]).state == "pending"
    assert db.session.get(Asset, asset.id).status == "in_repair"


@pytest.mark.parametrize("kind, status, asker, expected", [
    ("assign", "in_stock", "erin", 201),
    ("transfer", "in_use", "erin", 403), ("transfer", "in_use", "bob", 403), ("transfer", "in_use", "root", 201),
    ("repair", "in_use", "erin", 403), ("repair", "in_use", "bob", 403), ("repair", "in_use", "alice", 201),
    ("dispose", "in_use", "erin", 403), ("dispose", "in_use", "bob", 403),
    ("dispose", "in_use", "alice", 201), ("dispose", "in_use", "root", 201),
    ("repair", "in_stock", "erin", 201),
    ("dispose", "in_stock", "erin", 403), ("dispose", "in_stock", "bob", 201), ("dispose", "in_stock", "root", 201),
    ("dispose", "in_repair", "erin", 403), ("dispose", "in_repair", "alice", 201),
    ("dispose", "in_repair", "carol", 201),
])
def test_who_may_ask_for_what(client, people, kind, status, asker, expected):
    # Alice holds the asset whenever it has a custodian.
    custodian = people["alice"][0] if status != "in_stock" else None
    asset = make_asset(status=status, custodian=custodian)
    before = count(Request)
    response = submit(client, people[asker][1], kind=kind, asset_id=asset.id, target_user_id=people["erin"][0].id
                      if asker != "erin" else people["bob"][0].id)
    assert response.status_code == expected, response.get_json()
    assert count(Request) == before + (expected == 201)


def test_a_request_nobody_could_decide_is_refused_naming_the_step(client, people):
    people["root"][0].active = False  # the admin is now the only active admin
    db.session.commit()
    before = (count(Request), count(Notification))
    response = submit(client, people["admin"][1], kind="assign", asset_id=make_asset(value=10000).id)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "step 2 (admin)" in error["message"] and error["details"] == {"step": 2, "role": "admin"}
    assert (count(Request), count(Notification)) == before
    # The same request from someone else has a possible decider at every step.
    assert submit(client, people["alice"][1], kind="assign", asset_id=make_asset(value=10000).id).status_code == 201


def test_four_eyes_counts_across_steps_when_one_role_decides_two(app, client, people):
    approver = {"decider": "role", "role": "approver", "scope": "company"}
    set_rules([{"match": {"min_value": "10000"}, "steps": [approver, approver]}, {"match": {}, "steps": [approver]}])
    # Two approvers exist: Carol's own request leaves only Bob, who may decide one step, not two.
    refused = submit(client, people["carol"][1], kind="assign", asset_id=make_asset(value=20000).id)
    assert refused.status_code == 422 and refused.get_json()["error"]["details"] == {"step": 2, "role": "approver"}
    assert submit(client, people["alice"][1], kind="assign", asset_id=make_asset(value=20000).id).status_code == 201


def test_audit_row_keeps_the_step_that_was_decided(client, people):
    req = submit(client, people["alice"][1], kind="assign", asset_id=make_asset(value=50000).id).get_json()
    client.post(f"/api/requests/{req['id']}/approve", headers=people["bob"][1], json={})
    client.post(f"/api/requests/{req['id']}/approve", headers=people["admin"][1], json={})
    events = client.get(f"/api/requests/{req['id']}", headers=people["admin"][1]).get_json()["events"]
    assert [(e["action"], e["step"]) for e in events] == [("submit", 1), ("approve", 1), ("approve", 2)]
