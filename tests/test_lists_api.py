"""Lists (search, filters, sort, pages), bulk approval over a filter, my assets, custody, CSV, meta."""

import csv
import io
import json
from pathlib import Path

import pytest

from assetflow.extensions import db
from assetflow.models import Request

from .actions import approve, assert_refused, reject, submit
from .conftest import app_on
from .factories import make_asset


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    """Every list test on both databases: search (ILIKE, JSON fields) and sorts are SQL that differs."""
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


def listing(client, headers, path="/api/requests", **query):
    response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def queue(client, people):
    """Five pending assigns by Alice (values 100..500) and one by Erin, oldest first."""
    mine = [submit(client, people["alice"], kind="assign", asset_id=make_asset(value=100 * (i + 1)).id,
                   reason=f"laptop {i}") for i in range(5)]
    theirs = submit(client, people["erin"], kind="repair", asset_id=make_asset(value=50).id, reason="screen 100% broken")
    return mine, theirs


def test_inbox_pages_carry_the_total_and_never_overlap(client, people, queue):
    bob_h = people["bob"].headers
    pages = [listing(client, bob_h, scope="inbox", per_page=4, page=p, sort="-age") for p in (1, 2)]
    assert [p["total"] for p in pages] == [6, 6]
    ids = [r["id"] for p in pages for r in p["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 6  # oldest first, each once
    row = pages[0]["items"][0]
    assert row["applicant"]["display_name"] and row["reason"] == "laptop 0" and row["step"] == 1
    assert row["asset"]["value"] == "100.00" and row["created_at"]


@pytest.mark.parametrize("sort, expected", [("value", [50, 100, 200, 300, 400, 500]),
                                             ("-value", [500, 400, 300, 200, 100, 50])])
def test_sort_by_value(client, people, queue, sort, expected):
    items = listing(client, people["bob"].headers, scope="inbox", sort=sort)["items"]
    assert [int(float(r["asset"]["value"])) for r in items] == expected


def test_search_and_filters(client, people, queue):
    mine, theirs = queue
    bob_h = people["bob"].headers
    assert [r["id"] for r in listing(client, bob_h, scope="all", q="100%")["items"]] == [theirs["id"]]
    by_person = listing(client, bob_h, scope="all", q=people["erin"].user.display_name)
    assert [r["id"] for r in by_person["items"]] == [theirs["id"]]
    assert listing(client, bob_h, scope="all", q=f"#{mine[2]['id']}")["items"][0]["id"] == mine[2]["id"]
    assert listing(client, bob_h, scope="all", kind="repair")["total"] == 1
    assert listing(client, bob_h, scope="all", min_value="200", max_value="400")["total"] == 3
    tag = mine[3]["asset"]["tag"]
    assert [r["id"] for r in listing(client, bob_h, scope="all", q=tag.lower())["items"]] == [mine[3]["id"]]
    assert listing(client, people["alice"].headers, scope="mine", q="screen")["total"] == 0  # Erin's, not hers


@pytest.mark.parametrize("query", [{"sort": "reason"}, {"sort": "-password"}, {"q": "x" * 101},
                                   {"min_value": "abc"}, {"step": 0}, {"applicant_id": "me"}])
def test_bad_list_params_are_422(client, people, query):
    response = client.get("/api/requests", headers=people["bob"].headers, query_string=query)
    assert_refused(response, 422, "validation_error")


def test_bulk_approve_a_filter_across_pages(client, people, queue):
    mine, theirs = queue
    bob_h = people["bob"].headers
    response = client.post("/api/requests/bulk-approve", headers=bob_h,
                           json={"filter": {"kind": "assign", "q": "laptop"}, "comment": "all at once"})
    body = response.get_json()
    assert response.status_code == 200 and body["matched"] == 5
    assert [r["id"] for r in body["results"]] == [r["id"] for r in mine] and all(r["ok"] for r in body["results"])
    assert db.session.get(Request, theirs["id"]).state == "pending"
    assert listing(client, bob_h, scope="inbox")["total"] == 1


def test_bulk_approve_filter_is_bounded(client, people, queue, monkeypatch):
    from assetflow.services import listing as service
    monkeypatch.setattr(service, "BULK_LIMIT", 3)
    response = client.post("/api/requests/bulk-approve", headers=people["bob"].headers, json={"filter": {}})
    assert "more than 3" in assert_refused(response, 422, "validation_error")["message"]
    assert listing(client, people["bob"].headers, scope="inbox")["total"] == 6  # nothing approved


def test_my_assets_and_asset_sort(client, people):
    alice_h = people["alice"].headers
    held = [make_asset(status="in_use", custodian=people["alice"].user, value=v) for v in (300, 100)]
    make_asset(status="in_use", custodian=people["erin"].user)
    body = listing(client, alice_h, "/api/assets", mine="true", sort="value")
    assert body["total"] == 2 and [a["id"] for a in body["items"]] == [held[1].id, held[0].id]
    assert_refused(client.get("/api/assets", headers=alice_h, query_string={"sort": "custodian"}), 422,
                   "validation_error")


def test_notification_pages_search_and_filter(client, people, queue):
    bob_h = people["bob"].headers
    body = listing(client, bob_h, "/api/notifications", page=2, per_page=4)
    assert body["total"] == 6 and len(body["items"]) == 2 and body["unread_count"] == 6
    assert [n["seq"] for n in body["items"]] == [2, 1]
    erin = people["erin"].user.display_name
    found = listing(client, bob_h, "/api/notifications", page=1, q=erin.upper())
    assert found["total"] == 1 and found["items"][0]["payload"]["kind"] == "repair"
    assert listing(client, bob_h, "/api/notifications", page=1, kind="assign")["total"] == 5
    assert listing(client, bob_h, "/api/notifications", page=1, sort="seq")["items"][0]["seq"] == 1


def test_custody_history_from_requests_and_admin_edits(client, people):
    alice = people["alice"]
    alice_h, admin_h = alice.headers, people["admin"].headers
    asset = client.post("/api/assets", headers=admin_h, json={
        "tag": "CUS-1", "name": "Dell", "category": "Laptop", "value": "900"}).get_json()
    req = submit(client, alice, kind="assign", asset_id=asset["id"])
    approve(client, people["bob"], req["id"])
    req = submit(client, alice, kind="repair", asset_id=asset["id"])
    approve(client, people["bob"], req["id"])
    client.patch(f"/api/assets/{asset['id']}", headers=admin_h, json={"status": "in_stock"})
    client.patch(f"/api/assets/{asset['id']}", headers=admin_h, json={"location": "Shelf 2"})  # not custody
    items = listing(client, alice_h, f"/api/assets/{asset['id']}/history")["items"]
    steps = [(i["source"], i["action"], i["status_from"], i["status_to"],
              (i["custodian_from"] or {}).get("id"), (i["custodian_to"] or {}).get("id")) for i in items]
    assert steps == [
        ("admin", "create", None, "in_stock", None, None),
        ("request", "assign", "in_stock", "in_use", None, alice.id),
        ("request", "repair", "in_use", "in_repair", alice.id, alice.id),
        ("admin", "update", "in_repair", "in_stock", alice.id, None),
    ]
    assert [i["request_id"] for i in items if i["source"] == "request"] == [req["id"] - 1, req["id"]]
    # Another employee sees the same custody, but not which requests (alice's) moved it.
    others = listing(client, people["erin"].headers, f"/api/assets/{asset['id']}/history")["items"]
    assert [(i["status_to"], i["request_id"]) for i in others] == [(i["status_to"], None) for i in items]
    assert_refused(client.get("/api/assets/999/history", headers=alice_h), 404, "not_found")


def read_csv(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # the BOM, so Excel reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_request_export_is_streamed_filtered_and_formula_safe(client, people):
    alice_h = people["alice"].headers
    submit(client, people["alice"], kind="assign", asset_id=make_asset().id, reason="=HYPERLINK(\"http://x\")")
    submit(client, people["alice"], kind="acquire", name="显示器", category="屏幕", value="1999.50", reason="@SUM(1)")
    submit(client, people["alice"], kind="acquire", name="Pen", category="Office", value="5", reason="-2+3")
    response = client.get("/api/requests/export.csv", headers=alice_h, query_string={"kind": "acquire", "sort": "value"})
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["id", "kind", "state"] and len(rows) == 3
    by_name = {row[6]: row for row in rows[1:]}
    assert by_name["显示器"][8] == "'@SUM(1)" and by_name["显示器"][9] == "1999.50"
    assert by_name["Pen"][8] == "'-2+3"
    assert [row[6] for row in rows[1:]] == ["Pen", "显示器"]
    everything = read_csv(client.get("/api/requests/export.csv", headers=alice_h))
    assert "'=HYPERLINK(\"http://x\")" in [row[8] for row in everything]


def test_trail_export(client, people):
    req = submit(client, people["alice"], kind="assign", asset_id=make_asset().id)
    reject(client, people["bob"], req["id"], comment="+不行")
    rows = read_csv(client.get(f"/api/requests/{req['id']}/trail.csv", headers=people["alice"].headers))
    assert [r[2:6] for r in rows[1:]] == [["submit", "", "pending", "1"], ["reject", "pending", "rejected", "1"]]
    assert rows[2][6] == "'+不行"
    hidden = client.get(f"/api/requests/{req['id']}/trail.csv", headers=people["erin"].headers)
    assert hidden.status_code == 404 and hidden.get_json()["error"]["code"] == "not_found"


def test_meta_publishes_the_server_tables(client, people, app):
    from assetflow.services.kinds import KIND_FITS
    response = client.get("/api/meta", headers=people["alice"].headers)
    body = response.get_json()
    assert {k["name"]: k["fits"] for k in body["kinds"]} == {"acquire": None, **{k: list(v) for k, v in KIND_FITS.items()}}
    assert body["high_value_threshold"] == f"{app.config['HIGH_VALUE_THRESHOLD']}.00"
    assert body["limits"]["reason"] == 2000 and body["limits"]["bulk"] == 500
    assert body["roles"] == ["employee", "approver", "admin"]
    assert client.get("/api/meta").get_json() == body  # public: the same for everyone
    spec = client.get("/api/openapi.json").get_json()
    assert "Meta" in spec["components"]["schemas"] and "/api/meta" in spec["paths"]
    for path in ("/api/requests/export.csv", "/api/requests/{request_id}/trail.csv", "/api/assets/{asset_id}/history"):
        assert path in spec["paths"], path
    sorts = spec["paths"]["/api/requests"]["get"]["parameters"]
    assert "-age" in next(p for p in sorts if p["name"] == "sort")["schema"]["enum"]


def test_the_spa_test_fixture_is_the_real_meta_document(client, people):
    # frontend/src/testing/meta.json feeds the Vitest specs of the rule functions: it must not drift.
    fixture = json.loads((Path(__file__).parents[1] / "frontend/src/testing/meta.json").read_text())
    assert client.get("/api/meta", headers=people["alice"].headers).get_json() == fixture
