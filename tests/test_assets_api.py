"""Assets: filters, pagination, detail with history, admin create and edit."""

import pytest

from assetflow.extensions import db
from assetflow.models import Asset

from .actions import assert_refused, count, detail, submit, withdraw
from .factories import make_asset


def test_list_filters_and_paginates(client, people):
    h = people["alice"].headers
    for _ in range(3):
        make_asset(category="Monitor")
    make_asset(status="in_repair", category="Laptop")
    body = client.get("/api/assets", headers=h, query_string={"category": "Monitor", "per_page": 2}).get_json()
    assert (body["total"], len(body["items"]), body["page"]) == (3, 2, 1)
    repair = client.get("/api/assets", headers=h, query_string={"status": "in_repair"}).get_json()
    assert [a["status"] for a in repair["items"]] == ["in_repair"]
    first = body["items"][0]
    assert set(first) >= {"id", "tag", "name", "value", "currency", "status", "custodian", "locked"}
    assert first["value"] == "1000.00" and first["locked"] is False


def test_text_search_and_custodian_filter(client, people):
    alice = people["alice"].user
    held = make_asset(status="in_use", custodian=alice)
    make_asset()
    h = people["bob"].headers
    by_custodian = client.get("/api/assets", headers=h, query_string={"custodian_id": alice.id}).get_json()
    assert [a["id"] for a in by_custodian["items"]] == [held.id]
    by_text = client.get("/api/assets", headers=h, query_string={"q": held.tag}).get_json()
    assert [a["id"] for a in by_text["items"]] == [held.id]


def test_detail_includes_request_history(client, people):
    asset = make_asset()
    submit(client, people["alice"], asset_id=asset.id)
    body = client.get(f"/api/assets/{asset.id}", headers=people["alice"].headers).get_json()
    assert body["locked"] is True and [r["kind"] for r in body["requests"]] == ["assign"]


def test_unknown_asset_is_404(client, people):
    assert_refused(client.get("/api/assets/999999", headers=people["alice"].headers), 404, "not_found")


def test_admin_creates_asset(client, people):
    response = client.post("/api/assets", headers=people["admin"].headers, json={
        "tag": "AST-900001", "name": "Plotter", "category": "Printer", "value": "4999.5", "location": "HQ"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["value"], body["status"], body["currency"]) == ("4999.50", "in_stock", "CNY")


def test_duplicate_tag_is_409(client, people):
    existing = make_asset()
    response = client.post("/api/assets", headers=people["admin"].headers, json={
        "tag": existing.tag, "name": "x", "category": "y", "value": 1})
    assert assert_refused(response, 409, "conflict")["details"] == {"tag": existing.tag}
    assert count(Asset) == 1


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_only_admin_creates_or_edits(client, people, who):
    asset = make_asset()
    body = {"tag": "AST-1", "name": "x", "category": "y", "value": 1}
    assert_refused(client.post("/api/assets", headers=people[who].headers, json=body), 403, "forbidden")
    assert_refused(client.patch(f"/api/assets/{asset.id}", headers=people[who].headers, json={"name": "z"}), 403,
                   "forbidden")
    db.session.expire_all()
    assert count(Asset) == 1 and db.session.get(Asset, asset.id).name == asset.name


def test_admin_edits_and_closes_a_repair(client, people):
    asset = make_asset(status="in_repair")
    response = client.patch(f"/api/assets/{asset.id}", headers=people["admin"].headers,
                            json={"name": "Fixed", "status": "in_stock"})
    assert response.status_code == 200
    assert (response.get_json()["name"], response.get_json()["status"]) == ("Fixed", "in_stock")


@pytest.mark.parametrize("status, body, expected", [
    ("in_stock", {"status": "disposed"}, 422),   # not an allowed value here
    ("disposed", {"status": "in_stock"}, 409),   # disposal is final
    ("in_stock", {"status": "in_use"}, 422),     # no custodian
])
def test_status_edits_that_bypass_the_workflow_are_refused(client, people, status, body, expected):
    asset = make_asset(status=status)
    response = client.patch(f"/api/assets/{asset.id}", headers=people["admin"].headers, json=body)
    assert response.status_code == expected
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).status == status


def test_locked_asset_status_cannot_be_edited(client, people):
    asset = make_asset(status="in_use", custodian=people["alice"].user)
    submit(client, people["alice"], "repair", asset_id=asset.id)
    response = client.patch(f"/api/assets/{asset.id}", headers=people["admin"].headers, json={"status": "in_stock"})
    assert assert_refused(response, 409, "conflict")["details"] == {"asset_id": asset.id}
    db.session.expire_all()
    assert db.session.get(Asset, asset.id).status == "in_use"


def test_list_users_for_transfer_targets(client, people):
    body = client.get("/api/users", headers=people["alice"].headers, query_string={"role": "approver"}).get_json()
    assert sorted(u["username"] for u in body["items"]) == ["bob", "carol"]


def test_categories(client, people):
    make_asset(category="Monitor")
    make_asset(category="Laptop")
    make_asset(category="Laptop")
    body = client.get("/api/assets/categories", headers=people["alice"].headers).get_json()
    assert body == {"items": ["Laptop", "Monitor"]}


def test_detail_history_holds_only_the_requests_the_caller_may_see(client, people):
    asset = make_asset()
    first = submit(client, people["alice"], asset_id=asset.id, reason="mine, private")
    withdraw(client, people["alice"], first["id"])
    second = submit(client, people["erin"], asset_id=asset.id, reason="erin's")
    history = lambda who: [r["id"] for r in client.get(f"/api/assets/{asset.id}", headers=people[who].headers).get_json()["requests"]]
    # The same rule as GET /api/requests/<id>: an employee sees only their own requests.
    assert history("erin") == [second["id"]]
    assert history("alice") == [first["id"]]
    assert history("bob") == history("admin") == [second["id"], first["id"]]
    detail(client, people["erin"], first["id"], expect=404, code="not_found")


@pytest.mark.parametrize("tag", ["ACQ-000001", "acq-7", "Acq-"])
def test_the_acq_prefix_is_reserved_for_acquired_assets(client, people, tag):
    response = client.post("/api/assets", headers=people["admin"].headers, json={
        "tag": tag, "name": "Plotter", "category": "Printer", "value": "10"})
    assert "tag" in assert_refused(response, 422, "validation_error")["details"]["fields"]
    assert db.session.query(Asset).count() == 0
