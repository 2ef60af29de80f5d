"""Imports of departments, users and assets through the API: dry run, all or nothing, idempotency, any row order,
CSV and XLSX, clear errors, and the export's round trip (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from assetflow.extensions import db
from assetflow.models import ApiToken, Asset, AssetEvent, Department, User
from assetflow.services.export import safe_cell, unguard

from .actions import assert_refused, submit
from .conftest import app_on
from .factories import make_asset, make_user, set_rules


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


def upload(client, person, kind: str, content: str | bytes, dry_run: int = 0, name: str = "file.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(f"/api/imports/{kind}?dry_run={dry_run}", headers=person.headers,
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def imported(client, person, kind: str, content, dry_run: int = 0) -> dict:
    response = upload(client, person, kind, content, dry_run)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def actions(report: dict) -> dict[str, str]:
    return {row["key"]: row["action"] for row in report["rows"]}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def xlsx(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


DEPARTMENTS = "code,name,parent_code\nENG-FE,Frontend,ENG\nENG-BE,Backend,ENG\nENG,Engineering,\n"


def test_a_department_tree_in_any_row_order_then_unchanged(client, people):
    admin = people["admin"]
    dry = imported(client, admin, "departments", DEPARTMENTS, dry_run=1)
    assert dry["summary"] == {"create": 3, "update": 0, "unchanged": 0, "error": 0} and dry["applied"] is False
    assert count(Department) == 1  # a dry run writes nothing
    report = imported(client, admin, "departments", DEPARTMENTS)
    assert report["applied"] is True and [row["row"] for row in report["rows"]] == [2, 3, 4]
    paths = {d["code"]: d["path"] for d in client.get("/api/departments", headers=admin.headers).get_json()["items"]}
    assert paths["ENG-FE"] == ["Company", "Engineering", "Frontend"]
    again = imported(client, admin, "departments", DEPARTMENTS)
    assert again["summary"] == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    moved = imported(client, admin, "departments", "code,parent_code\nENG-BE,ENG-FE\n")
    assert actions(moved) == {"ENG-BE": "update"} and moved["rows"][0]["changes"] == ["parent_code"]


def test_a_cycle_is_an_error_on_its_rows_and_nothing_is_written(client, people):
    admin = people["admin"]
    response = upload(client, admin, "departments", "code,name,parent_code\nA,A,B\nB,B,A\nC,C,\n")
    error = assert_refused(response, 422, "import_rejected")
    assert error["details"]["summary"] == {"create": 1, "update": 0, "unchanged": 0, "error": 2}
    assert {row["key"]: row["action"] for row in error["details"]["rows"]} == {"A": "error", "B": "error", "C": "create"}
    assert "cycle" in error["details"]["rows"][0]["errors"][0]
    assert count(Department) == 1


def test_users_then_managers_who_sit_in_the_departments_they_manage(client, people):
    """Departments, then the people in them, then the departments again naming their managers: a manager may
    manage the department they sit in, and routing follows at once."""
    admin = people["admin"]
    imported(client, admin, "departments", DEPARTMENTS)
    users = imported(client, admin, "users", "username,display_name,role,department_code,email\n"
                     "Dora,Dora D,approver,ENG,dora@example.com\nana,Ana,employee,ENG-FE,\n")
    assert actions(users) == {"dora": "create", "ana": "create"}  # usernames in their canonical form
    assert imported(client, admin, "users", "username,department_code\ndora,ENG\nana,ENG-FE\n")["summary"][
        "unchanged"] == 2
    with_managers = ("code,name,parent_code,manager_username\n"
                     "ENG-FE,Frontend,ENG,\nENG-BE,Backend,ENG,\nENG,Engineering,,DORA\n")
    managers = imported(client, admin, "departments", with_managers)
    assert actions(managers) == {"ENG-FE": "unchanged", "ENG-BE": "unchanged", "ENG": "update"}
    assert managers["rows"][2]["changes"] == ["manager_username"]
    bob = db.session.scalar(sa.select(User).where(User.username == "dora"))
    eng = db.session.scalar(sa.select(Department).where(Department.code == "ENG"))
    assert eng.manager_id == bob.id and bob.department_id == eng.id
    set_rules([{"match": {}, "steps": [{"decider": "manager"}]}])
    ana = db.session.scalar(sa.select(User).where(User.username == "ana"))
    ana.password_hash = make_user().password_hash  # an imported user has no password: an admin gives one here
    db.session.commit()
    from .conftest import Auth
    request = submit(client, Auth(client).person(ana))
    detail = client.get(f"/api/requests/{request['id']}", headers=admin.headers).get_json()
    assert [d["id"] for d in detail["steps"][0]["deciders"]] == [bob.id]


def test_an_imported_user_has_no_password_until_an_admin_sets_one(app, client, people):
    imported(client, people["admin"], "users", "username,department_code\nnew.person,HQ\n")
    for password in ("", "!", "correct horse battery"):
        response = client.post("/api/auth/login", json={"username": "new.person", "password": password})
        assert response.status_code in (401, 422)
    runner = app.test_cli_runner()
    short = runner.invoke(args=["set-password", "new.person", "--password", "short"])
    assert short.exit_code != 0 and "At least 8 characters" in short.output
    done = runner.invoke(args=["set-password", "New.Person", "--password", "a long new password"])
    assert done.exit_code == 0, done.output
    response = client.post("/api/auth/login", json={"username": "new.person", "password": "a long new password"})
    assert response.status_code == 200, response.get_json()


def test_a_users_import_ends_sessions_and_tokens_as_the_admin_screens_do(client, people):
    admin, alice = people["admin"], people["alice"]
    secret = client.post("/api/tokens", headers=alice.headers, json={"name": "x", "scopes": ["read"]}).get_json()[
        "secret"]
    report = imported(client, admin, "users", f"username,active\n{alice.user.username},false\n")
    assert actions(report) == {alice.user.username: "update"} and report["rows"][0]["changes"] == ["active"]
    assert_refused(client.get("/api/requests", headers=alice.headers), 401, "unauthorized")
    assert_refused(client.get("/api/requests", headers={"Authorization": f"Bearer {secret}"}), 401, "unauthorized")
    assert db.session.scalar(sa.select(ApiToken.revoked_at)) is not None


def test_an_admin_cannot_import_away_their_own_role(client, people):
    admin = people["admin"]
    response = upload(client, admin, "users", f"username,role\n{admin.user.username},employee\n")
    error = assert_refused(response, 422, "import_rejected")
    assert error["details"]["rows"][0]["errors"] == ["role: You cannot change your own role"]
    assert db.session.get(User, admin.id).role == "admin"


ASSETS = ("tag,name,category,value,currency,status,department_code,custodian_username,location\n"
          "LT-1,Laptop,IT,1200.5,CNY,in_use,HQ,alice,Shanghai\n"
          "LT-2,=cmd|' /C calc'!A0,IT,800,USD,in_stock,HQ,,-1 floor\n"
          "DK-1,Desk,Furniture,300,CNY,in_repair,HQ,,\n")


def test_assets_are_created_audited_and_a_second_import_is_unchanged(client, people):
    admin = people["admin"]
    report = imported(client, admin, "assets", ASSETS)
    assert report["summary"] == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    laptop = db.session.scalar(sa.select(Asset).where(Asset.tag == "LT-1"))
    assert (laptop.value, laptop.custodian_id, laptop.status) == (Decimal("1200.50"), people["alice"].id, "in_use")
    assert count(AssetEvent) == 3
    assert imported(client, admin, "assets", ASSETS)["summary"]["unchanged"] == 3
    assert count(AssetEvent) == 3
    changed = imported(client, admin, "assets", "tag,value,custodian_username\nLT-1,1300,bob\n")
    assert changed["rows"][0]["changes"] == ["custodian_username", "value"]
    db.session.expire_all()
    laptop = db.session.scalar(sa.select(Asset).where(Asset.tag == "LT-1"))
    assert (laptop.value, laptop.custodian_id, laptop.version) == (Decimal("1300.00"), people["bob"].id, 2)
    event = db.session.scalar(sa.select(AssetEvent).order_by(AssetEvent.id.desc()))
    assert (event.action, event.changes) == ("update", {"value": ["1200.50", "1300.00"],
                                                        "custodian_id": [people["alice"].id, people["bob"].id]})
    history = client.get(f"/api/assets/{laptop.id}/history", headers=admin.headers).get_json()["items"]
    assert [(h["action"], h["custodian_to"]["id"]) for h in history] == [("create", people["alice"].id),
                                                                         ("update", people["bob"].id)]


def test_the_asset_export_reimports_as_unchanged(client, people):
    admin = people["admin"]
    imported(client, admin, "assets", ASSETS)
    make_asset(custodian=people["bob"].user, status="in_use")
    exported = client.get("/api/assets/export.csv", headers=admin.headers)
    assert exported.status_code == 200 and "'=cmd" in exported.data.decode()  # the export guards the formula
    report = imported(client, admin, "assets", exported.data)
    assert report["summary"] == {"create": 0, "update": 0, "unchanged": 4, "error": 0}


def test_all_or_nothing_and_every_rows_error_named(client, people):
    admin = people["admin"]
    bad = ("tag,name,category,value,status,custodian_username,department_code\n"
           "OK-1,Fine,IT,10,in_stock,,HQ\n"
           "BAD-1,Bad,IT,ten,in_stock,,HQ\n"
           "BAD-2,Bad,IT,10,lost,,HQ\n"
           "BAD-3,Bad,IT,10,in_use,,HQ\n"
           "BAD-4,Bad,IT,10,in_use,nobody,HQ\n"
           "BAD-5,Bad,IT,10,in_stock,,NOPE\n"
           "ACQ-9,Bad,IT,10,in_stock,,HQ\n"
           "OK-1,Twice,IT,10,in_stock,,HQ\n"
           "BAD-6,,IT,10,in_stock,,HQ\n")
    dry = imported(client, admin, "assets", bad, dry_run=1)
    errors = {row["row"]: row["errors"] for row in dry["rows"]}
    assert errors[2] == []
    assert errors[3][0].startswith("value: Not a valid amount")
    assert errors[4][0].startswith("status: Must be one of")
    assert errors[5] == ["status: An asset in use needs a custodian (custodian_username)"]
    assert errors[6] == ["custodian_username: no active user 'nobody'"]
    assert errors[7] == ["department_code: no department 'NOPE'"]
    assert errors[8] == ["tag: Tags starting with ACQ- are given to acquired assets by the system"]
    assert errors[9] == ["The key OK-1 is also on row 2"]
    assert errors[10] == ["name: must not be empty"]
    error = assert_refused(upload(client, admin, "assets", bad), 422, "import_rejected")
    assert error["details"]["summary"]["error"] == 8 and error["details"]["applied"] is False
    assert count(Asset) == 0


def test_an_asset_with_a_pending_request_keeps_its_status_and_custodian(client, people):
    admin = people["admin"]
    asset = make_asset()
    submit(client, people["alice"], asset_id=asset.id)
    report = imported(client, admin, "assets", f"tag,status,name\n{asset.tag},in_repair,Renamed\n", dry_run=1)
    assert report["rows"][0]["errors"] == [f"Asset {asset.tag} has a pending request"]
    assert actions(imported(client, admin, "assets", f"tag,name\n{asset.tag},Renamed\n")) == {asset.tag: "update"}


def test_xlsx_reads_as_the_csv_does(client, people):
    admin = people["admin"]
    book = xlsx([["Tag", "name", "category", "value", "status", "custodian_username"],
                 ["LT-1", "Laptop", "IT", 1200.5, "in_use", "alice"], [None, None, None, None, None, None],
                 ["LT-2", "Desk", "Furniture", 300, "in_stock", None]])
    report = imported(client, admin, "assets", book)
    assert [(row["row"], row["action"]) for row in report["rows"]] == [(2, "create"), (4, "create")]
    csv = "tag,name,category,value,status,custodian_username\nLT-1,Laptop,IT,1200.50,in_use,alice\nLT-2,Desk,Furniture,300,in_stock,\n"
    assert imported(client, admin, "assets", csv)["summary"]["unchanged"] == 2
    users = xlsx([["username", "active", "department_code"], ["alice", False, "HQ"]])
    assert actions(imported(client, admin, "users", users, dry_run=1)) == {"alice": "update"}


def test_a_semicolon_separated_csv_with_a_bom(client, people):
    text = "\ufefftag;name;category;value\nLT-1;Laptop;IT;10\n"
    assert actions(imported(client, people["admin"], "assets", text)) == {"LT-1": "create"}


@pytest.mark.parametrize(("content", "message"), [
    ("tag,name,colour\nA,B,red\n", "Unknown column: colour. A assets file has the columns tag, name"),
    ("name,category\nA,B\n", "No tag column"),
    ("tag,tag\nA,A\n", "Repeated column: tag"),
    ("", "The file is empty"),
    ("tag,name\nA,Caf\u00e9\n".encode("latin-1"), "Line 2 is not UTF-8 text"),
    (b"PK\x03\x04 not really a zip", "The file is not a readable XLSX workbook"),
])
def test_a_file_that_cannot_be_read_is_422_naming_why(client, people, content, message):
    response = upload(client, people["admin"], "assets", content)
    error = assert_refused(response, 422, "validation_error")
    assert error["details"]["fields"]["file"][0].startswith(message)
    assert count(Asset) == 0


def test_limits_on_rows_and_bytes(app, client, people):
    admin = people["admin"]
    app.config["IMPORT_MAX_ROWS"] = 2
    response = upload(client, admin, "assets", "tag,name,category,value\nA,a,c,1\nB,b,c,1\nC,c,c,1\n")
    assert "more than 2 rows" in assert_refused(response, 422, "validation_error")["message"]
    app.config["IMPORT_MAX_BYTES"] = 100
    assert_refused(upload(client, admin, "assets", "tag,name\n" + "A,b\n" * 100), 413, "payload_too_large")


def test_only_admins_import_and_a_token_needs_the_admin_scope(client, people):
    assert_refused(upload(client, people["bob"], "assets", "tag\nA\n"), 403, "forbidden")
    admin = people["admin"]
    tokens = {scope: client.post("/api/tokens", headers=admin.headers, json={"name": scope, "scopes": [scope]})
              .get_json()["secret"] for scope in ("assets:write", "admin")}
    for scope, expected in (("assets:write", 403), ("admin", 200)):
        response = client.post("/api/imports/assets?dry_run=1", headers={"Authorization": f"Bearer {tokens[scope]}"},
                               data={"file": (io.BytesIO(b"tag,name,category,value\nA,a,c,1\n"), "a.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == expected, response.get_json()
    assert_refused(client.post("/api/imports/assets", headers=admin.headers), 422, "validation_error")  # no file
    assert_refused(upload(client, admin, "buildings", "tag\nA\n"), 404, "not_found")


@given(st.text())
def test_unguard_undoes_the_exports_formula_guard(text):
    assert unguard(safe_cell(text)) == text
