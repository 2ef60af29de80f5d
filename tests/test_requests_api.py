"""Submitting and deciding requests over HTTP: effects, guards, visibility, errors."""

from decimal import Decimal

import pytest

from assetflow.extensions import db
from assetflow.models import Asset, Decision, Notification, Request, RequestEvent

from .actions import approve, assert_refused, count, decide, detail, reject, request_state, submit, withdraw
from .factories import make_asset, set_rules


def test_submit_assign(client, people):
    alice = people["alice"]
    asset = make_asset()
    body = submit(client, alice, kind="assign", asset_id=asset.id)
    assert body["state"] == "pending" and body["step"] == 1 and body["steps_total"] == 1
    assert body["applicant"]["id"] == alice.id and body["asset_id"] == asset.id
    assert body["version"] == 1 and body["required_role"] == "approver"
    assert body["allowed_actions"] == ["withdraw", "edit", "comment"]


def test_high_value_needs_admin_step(client, people):
    body = submit(client, people["alice"], kind="assign", asset_id=make_asset(value=10000).id)
    assert body["steps_total"] == 2


def test_full_two_step_flow_applies_effect(client, people):
    alice = people["alice"]
    asset = make_asset(value=25000)
    req = submit(client, alice, kind="assign", asset_id=asset.id)
    step1 = approve(client, people["bob"], req["id"], comment="ok")
    assert (step1["state"], step1["step"]) == ("pending", 2)
    # Step 2 belongs to the admin role: Carol, an approver, may not decide it.
    approve(client, people["carol"], req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 2, step1["version"])
    final = approve(client, people["admin"], req["id"])
    assert final["state"] == "approved"
    db.session.expire_all()
    asset = db.session.get(Asset, asset.id)
    assert (asset.status, asset.custodian_id) == ("in_use", alice.id)
    shown = detail(client, alice, req["id"])
    assert [d["approver"]["username"] for d in shown["decisions"]] == ["bob", "admin"]
    assert [(e["action"], e["from_state"], e["to_state"]) for e in shown["events"]] == [
        ("submit", None, "pending"), ("approve", "pending", "pending"), ("approve", "pending", "approved")]


@pytest.mark.parametrize("kind, status, expected", [
    ("repair", "in_use", "in_repair"),
    ("dispose", "in_stock", "disposed"),
])
def test_effects_of_repair_and_dispose(client, people, kind, status, expected):
    # The custodian asks about an asset in use; stock is the approvers' (docs/architecture.md).
    applicant, approvers = ("alice", ("bob", "admin")) if status == "in_use" else ("carol", ("bob", "admin"))
    asset = make_asset(status=status, custodian=people["alice"].user if status == "in_use" else None)
    req = submit(client, people[applicant], kind=kind, asset_id=asset.id)
    for approver in approvers[: req["steps_total"]]:
        approve(client, people[approver], req["id"])
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).status == expected


def test_transfer_changes_custodian(client, people):
    alice, erin = people["alice"], people["erin"]
    asset = make_asset(status="in_use", custodian=alice.user)
    req = submit(client, alice, kind="transfer", asset_id=asset.id, target_user_id=erin.id)
    approve(client, people["bob"], req["id"])
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).custodian_id == erin.id


def test_transfer_by_non_custodian_is_403(client, people):
    asset = make_asset(status="in_use", custodian=people["erin"].user)
    before = count(Request)
    submit(client, people["alice"], kind="transfer", asset_id=asset.id, target_user_id=people["bob"].id,
           expect=403, code="forbidden")
    assert count(Request) == before
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).custodian_id == people["erin"].id


def test_acquire_creates_asset(client, people):
    alice = people["alice"]
    req = submit(client, alice, kind="acquire", name="Dock", category="Accessory", value="199.90")
    assert req["asset_id"] is None and req["value"] == "199.90"
    approved = approve(client, people["bob"], req["id"])
    asset = db.session.get(Asset, approved["asset_id"])
    assert (asset.name, asset.status, asset.custodian_id) == ("Dock", "in_use", alice.id)


@pytest.mark.parametrize("kind, status", [
    ("assign", "in_use"), ("assign", "disposed"), ("transfer", "in_stock"),
    ("repair", "in_repair"), ("dispose", "disposed"),
])
def test_kind_that_does_not_fit_is_422(client, people, kind, status):
    asset = make_asset(status=status)
    before = count(Request)
    submit(client, people["alice"], kind=kind, asset_id=asset.id, target_user_id=people["erin"].id,
           expect=422, code="validation_error")
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
    response = client.post("/api/requests", headers=people["alice"].headers, json={"reason": "r", **body})
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "validation_error"
    assert (count(Request), count(Notification)) == before


def test_pending_request_locks_the_asset(client, people):
    asset = make_asset()
    first = submit(client, people["alice"], kind="assign", asset_id=asset.id)
    before = count(Request)
    error = submit(client, people["erin"], kind="assign", asset_id=asset.id, expect=409, code="conflict")["error"]
    assert error["details"] == {"asset_id": asset.id}
    assert count(Request) == before and request_state(first["id"]) == ("pending", 1, 1)
    listed = client.get(f"/api/assets/{asset.id}", headers=people["erin"].headers).get_json()
    assert listed["locked"] is True


def test_lock_released_after_rejection(client, people):
    asset = make_asset()
    req = submit(client, people["alice"], kind="assign", asset_id=asset.id)
    reject(client, people["bob"], req["id"], comment="no")
    submit(client, people["erin"], kind="assign", asset_id=asset.id)


def test_self_approval_is_403(client, people):
    bob = people["bob"]
    req = submit(client, bob, kind="assign", asset_id=make_asset().id)
    approve(client, bob, req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 1, 1) and count(Decision) == 0
    approve(client, people["carol"], req["id"])


def test_employee_cannot_approve_and_sees_404_for_others(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    approve(client, people["erin"], req["id"], expect=404, code="not_found")
    detail(client, people["erin"], req["id"], expect=404, code="not_found")
    assert request_state(req["id"]) == ("pending", 1, 1) and count(Decision) == 0


def test_reject_needs_comment(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    for body in ({}, {"comment": "  "}):
        decide(client, people["bob"], req["id"], "reject", **body, expect=422, code="validation_error")
    assert count(Decision) == 0 and request_state(req["id"]) == ("pending", 1, 1)


def test_final_state_is_immutable_and_says_who_decided(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    approve(client, people["bob"], req["id"])
    for action, body in (("reject", {"comment": "late"}), ("approve", {})):
        error = decide(client, people["carol"], req["id"], action, **body, expect=409, code="conflict")["error"]
        assert error["details"]["decided_by"]["display_name"] == people["bob"].user.display_name
        assert "already approved by" in error["message"]
    withdraw(client, people["alice"], req["id"], expect=409, code="conflict")
    assert count(Decision) == 1 and request_state(req["id"]) == ("approved", 1, 2)


def test_withdraw(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    withdraw(client, people["bob"], req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 1, 1)
    assert withdraw(client, people["alice"], req["id"])["state"] == "withdrawn"


def test_stale_version_is_409(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    approve(client, people["bob"], req["id"], version=7, expect=409, code="conflict")
    assert request_state(req["id"]) == ("pending", 1, 1) and count(Decision) == 0
    assert approve(client, people["bob"], req["id"], version=1)["version"] == 2


def test_unknown_request_is_404(client, people):
    detail(client, people["admin"], 424242, expect=404, code="not_found")
    approve(client, people["bob"], 424242, expect=404, code="not_found")
    assert (count(Request), count(Decision), count(RequestEvent)) == (0, 0, 0)


def test_scopes(client, people):
    alice_h, bob_h = people["alice"].headers, people["bob"].headers
    mine = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    other = submit(client, people["erin"], kind="assign", asset_id=make_asset().id)
    ids = lambda h, **q: [r["id"] for r in client.get("/api/requests", headers=h, query_string=q).get_json()["items"]]
    assert ids(alice_h) == [mine["id"]]
    assert ids(alice_h, scope="all") == [mine["id"]]
    assert ids(bob_h, scope="inbox") == [other["id"], mine["id"]]
    approve(client, people["bob"], mine["id"])
    assert ids(bob_h, scope="inbox") == [other["id"]]
    assert ids(bob_h, scope="all") == [other["id"], mine["id"]]
    assert ids(bob_h, scope="all", state="approved") == [mine["id"]]
    assert ids(people["admin"].headers, scope="inbox") == []
    page = client.get("/api/requests", headers=people["root"].headers, query_string={"scope": "all", "per_page": 1}).get_json()
    assert (page["total"], len(page["items"]), page["per_page"]) == (2, 1, 1)


@pytest.mark.parametrize("query", [{"scope": "everything"}, {"state": "lost"}, {"per_page": 0},
                                   {"per_page": 101}, {"page": "x"}])
def test_bad_list_query_is_422(client, people, query):
    response = client.get("/api/requests", headers=people["alice"].headers, query_string=query)
    assert_refused(response, 422, "validation_error")


def test_bulk_approve_reports_each_item(client, people):
    a = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    own = submit(client, people["bob"], kind="assign", asset_id=make_asset().id)
    response = client.post("/api/requests/bulk-approve", headers=people["bob"].headers,
                           json={"ids": [a["id"], own["id"], 999999]})
    results = response.get_json()["results"]
    assert [(r["id"], r["ok"]) for r in results] == [(a["id"], True), (own["id"], False), (999999, False)]
    assert [r.get("status") for r in results[1:]] == [403, 404]
    assert results[0]["request"]["state"] == "approved"


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": list(range(1, 502))}, {"ids": [1], "filter": {}}, {"ids": ["a"]}])
def test_bulk_approve_validates(client, people, body):
    pending = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    response = client.post("/api/requests/bulk-approve", headers=people["bob"].headers, json=body)
    assert_refused(response, 422, "validation_error")
    assert request_state(pending["id"]) == ("pending", 1, 1) and count(Decision) == 0


def test_stats(client, people):
    a = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    approve(client, people["bob"], a["id"])
    body = client.get("/api/requests/stats", headers=people["admin"].headers).get_json()
    assert body["counts"] == {"pending": 1, "returned": 0, "approved": 1, "rejected": 0, "withdrawn": 0}
    assert body["median_decision_seconds"] >= 0


def test_audit_rows_written_once_per_action(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    withdraw(client, people["alice"], req["id"])
    assert count(RequestEvent) == 2


def test_an_acquire_stays_approvable_when_an_older_asset_holds_its_tag(client, people):
    req = submit(client, people["alice"], kind="acquire", name="Dock", category="Accessory", value="10")
    # Registered before the ACQ- prefix was reserved: the tag the approval would pick is taken.
    db.session.add(make_asset_row(tag=f"ACQ-{req['id']:06d}"))
    db.session.commit()
    approved = approve(client, people["bob"], req["id"])
    asset = db.session.get(Asset, approved["asset_id"])
    assert asset.tag == f"ACQ-{req['id']:06d}-2"
    assert (asset.name, asset.custodian_id) == ("Dock", people["alice"].user.id)


def make_asset_row(tag: str) -> Asset:
    return Asset(tag=tag, name="Old", category="Misc", value=Decimal(1), currency="CNY", status="in_stock")


def test_a_final_approval_rechecks_that_the_kind_still_fits_the_asset(client, people):
    asset = make_asset()
    req = submit(client, people["alice"], kind="assign", asset_id=asset.id)
    # Any path that moves the asset on while the request waits (here: the database directly).
    db.session.get(Asset, asset.id).status = "in_repair"
    db.session.commit()
    before = (count(Decision), count(RequestEvent), count(Notification))
    error = approve(client, people["bob"], req["id"], expect=409, code="precondition_failed")["error"]
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
    custodian = people["alice"].user if status != "in_stock" else None
    asset = make_asset(status=status, custodian=custodian)
    before = count(Request)
    target = people["erin"] if asker != "erin" else people["bob"]
    body = submit(client, people[asker], kind=kind, asset_id=asset.id, target_user_id=target.id, expect=expected)
    if expected == 403:
        assert body["error"]["code"] == "forbidden"
    assert count(Request) == before + (expected == 201)


def test_a_request_nobody_could_decide_is_refused_naming_the_step(client, people):
    people["root"].user.active = False  # the admin is now the only active admin
    db.session.commit()
    before = (count(Request), count(Notification))
    error = submit(client, people["admin"], kind="assign", asset_id=make_asset(value=10000).id,
                   expect=422, code="validation_error")["error"]
    assert "step 2 (admin)" in error["message"] and error["details"] == {"step": 2, "role": "admin"}
    assert (count(Request), count(Notification)) == before
    # The same request from someone else has a possible decider at every step.
    submit(client, people["alice"], kind="assign", asset_id=make_asset(value=10000).id)


def test_four_eyes_counts_across_steps_when_one_role_decides_two(app, client, people):
    approver = {"decider": "role", "role": "approver", "scope": "company"}
    set_rules([{"match": {"min_value": "10000"}, "steps": [approver, approver]}, {"match": {}, "steps": [approver]}])
    # Two approvers exist: Carol's own request leaves only Bob, who may decide one step, not two.
    refused = submit(client, people["carol"], kind="assign", asset_id=make_asset(value=20000).id, expect=422)
    assert refused["error"]["details"] == {"step": 2, "role": "approver"}
    submit(client, people["alice"], kind="assign", asset_id=make_asset(value=20000).id)


def test_audit_row_keeps_the_step_that_was_decided(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset(value=50000).id)
    approve(client, people["bob"], req["id"])
    approve(client, people["admin"], req["id"])
    events = detail(client, people["admin"], req["id"])["events"]
    assert [(e["action"], e["step"]) for e in events] == [("submit", 1), ("approve", 1), ("approve", 2)]
