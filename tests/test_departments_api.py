"""Departments: the tree with paths, the admin's create and edit, and every refusal."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Department

from .actions import assert_refused, count
from .factories import make_user
from .races import race


def create(client, headers, **body):
    return client.post("/api/departments", headers=headers, json=body)


def test_everyone_reads_the_tree_ordered_by_path_with_managers(client, people):
    admin = people["admin"].headers
    eng = create(client, admin, name="Engineering", code="ENG", manager_id=people["bob"].user.id).get_json()
    create(client, admin, name="Backend", code="ENG-BE", parent_id=eng["id"])
    create(client, admin, name="Accounts", code="ACC")
    body = client.get("/api/departments", headers=people["alice"].headers).get_json()
    assert [d["path"] for d in body["items"]] == [
        ["Company"], ["Company", "Accounts"], ["Company", "Engineering"], ["Company", "Engineering", "Backend"]]
    root, _, engineering, backend = body["items"]
    assert (root["id"], root["code"], root["parent_id"], root["manager"]) == (1, "HQ", None, None)
    assert engineering["manager"] == {"id": people["bob"].user.id, "display_name": people["bob"].user.display_name}
    assert backend["parent_id"] == engineering["id"]


def test_admin_creates_under_the_root_by_default(client, people):
    response = create(client, people["admin"].headers, name="Sales", code="SALES")
    assert response.status_code == 201
    assert response.get_json() | {"id": 0} == {
        "id": 0, "name": "Sales", "code": "SALES", "parent_id": 1, "manager": None, "path": ["Company", "Sales"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "X", "code": "lower"}, "code"),
    ({"name": "X", "code": "A B"}, "code"),
    ({"name": "X", "code": "A" * 33}, "code"),
    ({"name": " ", "code": "X"}, "name"),
    ({"code": "X"}, "name"),
    ({"name": "X", "code": "X", "parent_id": 999}, "parent_id"),
    ({"name": "X", "code": "X", "manager_id": 999}, "manager_id"),
    ({"name": "X", "code": "X", "extra": 1}, "extra"),
])
def test_create_refuses_bad_input_naming_the_field(client, people, body, field):
    before = count(Department)
    response = create(client, people["admin"].headers, **body)
    assert field in assert_refused(response, 422, "validation_error")["details"]["fields"]
    assert count(Department) == before


def test_an_inactive_manager_is_refused(client, people):
    gone = make_user("approver", active=False)
    before = count(Department)
    response = create(client, people["admin"].headers, name="X", code="X", manager_id=gone.id)
    assert "manager_id" in assert_refused(response, 422, "validation_error")["details"]["fields"]
    assert count(Department) == before


def test_a_taken_code_is_409_on_create_and_edit(client, people):
    admin = people["admin"].headers
    create(client, admin, name="Sales", code="SALES")
    other = create(client, admin, name="Finance", code="FIN").get_json()
    before = count(Department)
    assert_refused(create(client, admin, name="Other", code="SALES"), 409, "conflict")
    assert_refused(client.patch(f"/api/departments/{other['id']}", headers=admin, json={"code": "SALES"}), 409,
                   "conflict")
    db.session.expire_all()
    assert count(Department) == before and db.session.get(Department, other["id"]).code == "FIN"
    assert client.patch(f"/api/departments/{other['id']}", headers=admin, json={"code": "FIN"}).status_code == 200


def test_admin_moves_renames_and_changes_the_manager(client, people):
    admin = people["admin"].headers
    eng = create(client, admin, name="Engineering", code="ENG").get_json()
    ops = create(client, admin, name="Ops", code="OPS").get_json()
    response = client.patch(f"/api/departments/{ops['id']}", headers=admin,
                            json={"parent_id": eng["id"], "name": "Operations", "manager_id": people["carol"].user.id})
    assert response.status_code == 200
    body = response.get_json()
    assert body["path"] == ["Company", "Engineering", "Operations"] and body["manager"]["id"] == people["carol"].user.id
    cleared = client.patch(f"/api/departments/{ops['id']}", headers=admin, json={"manager_id": None}).get_json()
    assert cleared["manager"] is None


def test_no_department_becomes_its_own_ancestor(client, people):
    admin = people["admin"].headers
    top = create(client, admin, name="Top", code="TOP").get_json()
    mid = create(client, admin, name="Mid", code="MID", parent_id=top["id"]).get_json()
    low = create(client, admin, name="Low", code="LOW", parent_id=mid["id"]).get_json()
    for parent in (top["id"], low["id"]):  # itself, and its grandchild
        response = client.patch(f"/api/departments/{top['id']}", headers=admin, json={"parent_id": parent})
        assert response.status_code == 422, parent
        assert "parent_id" in response.get_json()["error"]["details"]["fields"]
    db.session.expire_all()
    assert db.session.get(Department, top["id"]).parent_id == 1


@pytest.mark.parametrize(("department_id", "body"), [
    (1, {"parent_id": 1}),       # the root cannot get a parent
    ("other", {"parent_id": None}),  # nor can another department become a second root
    ("other", {"parent_id": 999}),
    ("other", {"manager_id": 999}),
])
def test_edit_refuses_a_broken_tree_or_unknown_manager(client, people, department_id, body):
    admin = people["admin"].headers
    if department_id == "other":
        department_id = create(client, admin, name="Other", code="OTHER").get_json()["id"]
    before = db.session.execute(sa.select(Department.id, Department.parent_id, Department.manager_id)
                                .order_by(Department.id)).all()
    response = client.patch(f"/api/departments/{department_id}", headers=admin, json=body)
    assert set(assert_refused(response, 422, "validation_error")["details"]["fields"]) == set(body)
    db.session.expire_all()
    assert db.session.execute(sa.select(Department.id, Department.parent_id, Department.manager_id)
                              .order_by(Department.id)).all() == before


def test_only_admins_edit_and_only_known_ids(client, people):
    bob = people["bob"].headers
    before = db.session.execute(sa.select(Department.id, Department.name).order_by(Department.id)).all()
    assert_refused(create(client, bob, name="X", code="X"), 403, "forbidden")
    assert_refused(client.patch("/api/departments/1", headers=bob, json={"name": "X"}), 403, "forbidden")
    assert_refused(client.patch("/api/departments/999", headers=people["admin"].headers, json={"name": "X"}), 404,
                   "not_found")
    assert_refused(client.get("/api/departments"), 401, "unauthorized")
    db.session.expire_all()
    assert db.session.execute(sa.select(Department.id, Department.name).order_by(Department.id)).all() == before


def test_two_creates_with_one_code_give_one_department_and_a_409(shared_app):
    from .conftest import Auth

    headers = Auth(shared_app.test_client()).headers(make_user("admin"))
    statuses = race(shared_app, [("POST", "/api/departments", headers, {"name": f"Sales {i}", "code": "SALES"})
                                 for i in range(2)])
    assert sorted(statuses) == [201, 409]
    db.session.expire_all()
    assert db.session.query(Department).filter_by(code="SALES").count() == 1


def test_two_crossing_moves_cannot_make_a_cycle(shared_app):
    from .conftest import Auth

    client = shared_app.test_client()
    headers = Auth(client).headers(make_user("admin"))
    a = create(client, headers, name="A", code="A").get_json()["id"]
    b = create(client, headers, name="B", code="B").get_json()["id"]
    statuses = race(shared_app, [("PATCH", f"/api/departments/{a}", headers, {"parent_id": b}),
                                 ("PATCH", f"/api/departments/{b}", headers, {"parent_id": a})])
    assert sorted(statuses) in ([200, 409], [200, 422])
    db.session.expire_all()
    parents = {d.id: d.parent_id for d in db.session.query(Department)}
    assert parents[a] == 1 or parents[b] == 1
