"""Users managed by admins: the full list, create, edit; deactivation and role changes end sessions at once."""

from __future__ import annotations

import pytest

from assetflow.errors import ValidationFailed
from assetflow.extensions import db
from assetflow.models import User
from assetflow.services import users

from .actions import assert_refused, count
from .conftest import Auth
from .factories import PASSWORD, make_user
from .races import race
from .test_realtime import connect


def department(client, headers, code: str) -> int:
    return client.post("/api/departments", headers=headers, json={"name": code.title(), "code": code}).get_json()["id"]


def test_admins_list_every_user_with_filters_and_pages(client, people):
    admin = people["admin"].headers
    sales = department(client, admin, "SALES")
    make_user("employee", "gone", active=False)
    client.patch(f"/api/users/{people['carol'].user.id}", headers=admin, json={"department_id": sales})
    body = client.get("/api/users", headers=admin, query_string={"per_page": 2}).get_json()
    assert (body["total"], len(body["items"]), body["page"], body["per_page"]) == (7, 2, 1, 2)
    assert set(body["items"][0]) == {"id", "username", "display_name", "email", "role", "active", "department"}

    def names(**query):
        return [u["username"] for u in client.get("/api/users", headers=admin, query_string=query).get_json()["items"]]

    assert names(active="false") == ["gone"]
    assert names(department_id=sales) == ["carol"]
    assert sorted(names(role="approver")) == ["bob", "carol"]
    assert names(q="CAR") == ["carol"]
    carol = client.get("/api/users", headers=admin, query_string={"q": "carol"}).get_json()["items"][0]
    assert carol["department"] == {"id": sales, "name": "Sales"}


def test_others_keep_the_short_list_of_active_users(client, people):
    make_user("employee", "gone", active=False)
    body = client.get("/api/users", headers=people["alice"].headers).get_json()
    assert "total" not in body
    assert "gone" not in [u["username"] for u in body["items"]]
    assert set(body["items"][0]) == {"id", "username", "display_name", "role"}  # no e-mail for everyone


def test_admin_creates_a_user_in_a_department_who_can_log_in(client, people):
    admin = people["admin"].headers
    sales = department(client, admin, "SALES")
    response = client.post("/api/users", headers=admin, json={
        "username": "Dave", "password": PASSWORD, "role": "employee", "department_id": sales,
        "display_name": "Dave D", "email": "dave@example.com"})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["username"], body["department"]["id"], body["active"]) == ("dave", sales, True)
    assert client.post("/api/auth/login", json={"username": "dave", "password": PASSWORD}).status_code == 200
    default = client.post("/api/users", headers=admin, json={"username": "eve", "password": PASSWORD, "role": "approver"})
    assert default.get_json()["department"] == {"id": 1, "name": "Company"}


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"username": "alice", "password": PASSWORD, "role": "employee"}, 409, None),
    ({"username": "x", "password": "short", "role": "employee"}, 422, "password"),
    ({"username": "new", "password": PASSWORD, "role": "boss"}, 422, "role"),
    ({"username": "new", "password": PASSWORD, "role": "employee", "department_id": 999}, 422, "department_id"),
    ({"username": "new", "password": PASSWORD, "role": "employee", "email": "not-an-address"}, 422, "email"),
    ({"username": "new", "role": "employee"}, 422, "password"),
])
def test_create_refuses(client, people, body, status, field):
    response = client.post("/api/users", headers=people["admin"].headers, json=body)
    assert response.status_code == status
    if field:
        assert field in response.get_json()["error"]["details"]["fields"]


def test_admin_edits_name_email_and_department(client, people):
    admin, alice = people["admin"].headers, people["alice"].user
    sales = department(client, admin, "SALES")
    response = client.patch(f"/api/users/{alice.id}", headers=admin,
                            json={"display_name": " Alice A ", "email": "a@example.com", "department_id": sales})
    assert response.status_code == 200
    assert {k: response.get_json()[k] for k in ("display_name", "email", "department")} == {
        "display_name": "Alice A", "email": "a@example.com", "department": {"id": sales, "name": "Sales"}}
    assert client.get("/api/auth/me", headers=people["alice"].headers).status_code == 200  # her session goes on


@pytest.mark.parametrize(("body", "field"), [
    ({"department_id": 999}, "department_id"),
    ({"role": "boss"}, "role"),
    ({"active": 0}, "active"),
    ({"display_name": "   "}, "display_name"),
    ({"username": "renamed"}, "username"),
])
def test_edit_refuses_bad_input(client, people, body, field):
    alice = people["alice"].user
    before = (alice.username, alice.display_name, alice.role, alice.active, alice.department_id)
    response = client.patch(f"/api/users/{alice.id}", headers=people["admin"].headers, json=body)
    assert field in assert_refused(response, 422, "validation_error")["details"]["fields"]
    db.session.expire_all()
    assert (alice.username, alice.display_name, alice.role, alice.active, alice.department_id) == before


def test_an_admin_cannot_deactivate_or_demote_themselves(client, people):
    admin = people["admin"]
    for body in ({"active": False}, {"role": "approver"}):
        response = client.patch(f"/api/users/{admin.id}", headers=admin.headers, json=body)
        assert set(assert_refused(response, 422, "validation_error")["details"]["fields"]) == set(body)
    db.session.expire_all()
    assert (admin.user.role, admin.user.active) == ("admin", True)
    assert client.patch(f"/api/users/{admin.id}", headers=admin.headers, json={"role": "admin", "active": True}
                        ).status_code == 200
    assert client.get("/api/auth/me", headers=admin.headers).status_code == 200  # a no-op keeps the session


def test_only_admins_manage_users(client, people):
    bob = people["bob"]
    users_before = count(User)
    assert_refused(client.post("/api/users", headers=bob.headers, json={"username": "x", "password": PASSWORD,
                                                                        "role": "admin"}), 403, "forbidden")
    assert_refused(client.patch(f"/api/users/{bob.id}", headers=bob.headers, json={"role": "admin"}), 403, "forbidden")
    assert_refused(client.patch("/api/users/999", headers=people["admin"].headers, json={"active": False}), 404,
                   "not_found")
    db.session.expire_all()
    assert count(User) == users_before and bob.user.role == "approver"


def test_deactivation_through_the_api_drops_the_live_socket_and_every_token(app, client, people):
    bob = people["bob"]
    bob_headers = bob.headers
    bob_socket, carol_socket = connect(app, bob.token), connect(app, people["carol"].token)
    assert bob_socket.is_connected()
    response = client.patch(f"/api/users/{bob.id}", headers=people["admin"].headers, json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert not bob_socket.is_connected() and carol_socket.is_connected()
    assert_refused(client.get("/api/auth/me", headers=bob_headers), 401, "unauthorized")
    assert_refused(client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}), 401, "unauthorized")
    client.patch(f"/api/users/{bob.id}", headers=people["admin"].headers, json={"active": True})
    assert_refused(client.get("/api/auth/me", headers=bob_headers), 401, "unauthorized")  # no old token revived
    assert client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).status_code == 200


def test_a_role_change_ends_the_sessions_so_the_new_role_applies_at_once(app, client, people):
    bob = people["bob"]
    bob_socket = connect(app, bob.token)
    response = client.patch(f"/api/users/{bob.id}", headers=people["admin"].headers, json={"role": "employee"})
    assert response.status_code == 200 and response.get_json()["role"] == "employee"
    assert not bob_socket.is_connected()
    # The old token carried role "approver": it is refused rather than kept with a stale role claim.
    assert_refused(client.get("/api/auth/me", headers=bob.headers), 401, "unauthorized")
    login = client.post("/api/auth/login", json={"username": "bob", "password": PASSWORD}).get_json()
    assert login["user"]["role"] == "employee"
    fresh = {"Authorization": f"Bearer {login['access_token']}"}
    assert_refused(client.get("/api/approval-rules", headers=fresh), 403, "forbidden")
    db.session.expire_all()
    assert db.session.get(User, bob.id).role == "employee"


def test_assets_carry_their_department(client, people):
    admin = people["admin"].headers
    sales = department(client, admin, "SALES")
    created = client.post("/api/assets", headers=admin, json={
        "tag": "D-1", "name": "Desk", "category": "Furniture", "value": "100"})
    assert created.get_json()["department"] == {"id": 1, "name": "Company"}
    moved = client.patch(f"/api/assets/{created.get_json()['id']}", headers=admin, json={"department_id": sales})
    assert moved.status_code == 200 and moved.get_json()["department"] == {"id": sales, "name": "Sales"}
    in_sales = client.post("/api/assets", headers=admin, json={
        "tag": "D-2", "name": "Desk", "category": "Furniture", "value": "100", "department_id": sales})
    assert in_sales.get_json()["department"]["id"] == sales
    for response in (client.post("/api/assets", headers=admin, json={"tag": "D-3", "name": "Desk", "category": "F",
                                                                     "value": "1", "department_id": 999}),
                     client.patch(f"/api/assets/{created.get_json()['id']}", headers=admin,
                                  json={"department_id": 999})):
        assert response.status_code == 422 and "department_id" in response.get_json()["error"]["details"]["fields"]


def test_two_admins_removing_each_other_at_once_leave_one_admin(shared_app):
    auth = Auth(shared_app.test_client())
    first, second = make_user("admin"), make_user("admin")
    headers = {user.id: auth.headers(user) for user in (first, second)}
    statuses = race(shared_app, [("PATCH", f"/api/users/{second.id}", headers[first.id], {"role": "employee"}),
                                 ("PATCH", f"/api/users/{first.id}", headers[second.id], {"active": False})])
    assert sorted(statuses) == [200, 422], statuses
    db.session.expire_all()
    assert db.session.query(User).filter_by(role="admin", active=True).count() == 1


def test_the_last_active_admin_cannot_be_deactivated_even_by_the_service_the_cli_uses(app, people):
    users.set_active(people["root"].user.id, False)
    with pytest.raises(ValidationFailed, match="no active admin"):
        users.set_active(people["admin"].user.id, False)
    db.session.expire_all()
    assert db.session.get(User, people["admin"].user.id).active is True
