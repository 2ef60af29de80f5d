"""Comments on a request (stored in the trail, delivered live) and resubmitting an ended request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import ApprovalRule, Department, Notification, Request

from .factories import make_asset
from .test_realtime import act, connect, token


def submit(client, headers, asset_id: int | None = None, reason: str = "first try") -> dict:
    response = client.post("/api/requests", headers=headers,
                           json={"kind": "assign", "asset_id": asset_id or make_asset().id, "reason": reason})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def comment(client, headers, request_id: int, body) -> tuple[int, dict]:
    response = client.post(f"/api/requests/{request_id}/comments", headers=headers, json={"body": body})
    return response.status_code, response.get_json()


@pytest.fixture
def departments(people):
    """Engineering (alice, bob) and Sales (carol), each approver deciding for their own department only."""
    eng = Department(name="Engineering", code="ENG", parent_id=1)
    sales = Department(name="Sales", code="SALES", parent_id=1)
    db.session.add_all([eng, sales])
    db.session.flush()
    for name, dept in (("alice", eng), ("bob", eng), ("carol", sales)):
        people[name].user.department_id = dept.id
    db.session.add(ApprovalRule(position=0, match={},
                                steps=[{"decider": "role", "role": "approver", "scope": "department"}]))
    db.session.commit()
    return eng, sales


def test_a_comment_reaches_the_others_involved_live_and_stays_in_the_trail(app, client, people, departments):
    alice, alice_headers = people["alice"]
    bob, bob_headers = people["bob"]
    req = submit(client, alice_headers)
    alice_socket, bob_socket, carol_socket = (connect(app, token(people[n].headers)) for n in ("alice", "bob", "carol"))
    for socket in (alice_socket, bob_socket, carol_socket):
        socket.get_received()

    status, body = comment(client, bob_headers, req["id"], "  Which floor should it go to?  ")
    assert status == 201
    assert body["body"] == "Which floor should it go to?" and body["author"]["id"] == bob.id and body["at"]

    [pushed] = [m["args"][0] for m in alice_socket.get_received() if m["name"] == "request_comment"]
    assert pushed["comment_id"] == body["id"] and pushed["body"] == body["body"] and pushed["request_id"] == req["id"]
    assert pushed["actor"] == {"id": bob.id, "name": bob.display_name} and pushed["seq"] >= 1
    assert pushed["step"] == 1 and pushed["steps_total"] == 1 and pushed["status"] == "pending"
    assert bob_socket.get_received() == []  # the author was answered over HTTP
    assert carol_socket.get_received() == []  # an approver of another department is not involved

    status, reply = comment(client, alice_headers, req["id"], "Third floor")
    assert status == 201
    assert [m["args"][0]["body"] for m in bob_socket.get_received() if m["name"] == "request_comment"] == [
        "Third floor"]

    inbox = client.get("/api/notifications", headers=alice_headers, query_string={"page": 1, "q": "floor"})
    assert [(n["type"], n["payload"]["body"]) for n in inbox.get_json()["items"]] == [
        ("request_comment", "Which floor should it go to?")]

    detail = client.get(f"/api/requests/{req['id']}", headers=alice_headers).get_json()
    assert [(c["author"]["id"], c["body"]) for c in detail["comments"]] == [
        (bob.id, "Which floor should it go to?"), (alice.id, "Third floor")]
    assert [e["action"] for e in detail["events"]] == ["submit", "comment", "comment"]
    assert "comment" in detail["allowed_actions"]
    # A decision after a comment still names the decider in a lost race's 409, not the commenter.
    act(client, bob_headers, req["id"], "approve")
    assert comment(client, alice_headers, req["id"], "Thanks")[0] == 201  # comments go on after the decision
    late = client.post(f"/api/requests/{req['id']}/approve", headers=bob_headers, json={})
    assert late.status_code == 409 and late.get_json()["error"]["details"]["decided_by"]["id"] == bob.id


def test_comments_are_refused_to_users_who_may_not_see_the_request(client, people, departments):
    req = submit(client, people["alice"].headers)
    for name in ("carol", "erin"):
        status, body = comment(client, people[name].headers, req["id"], "let me in")
        assert status == 404 and body["error"]["code"] == "not_found"
    assert comment(client, people["alice"].headers, 999999, "nobody")[0] == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.type == "request_comment")) == 0


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001, "nul\x00here", 42, None])
def test_a_comment_needs_one_to_2000_storable_characters(client, people, body):
    req = submit(client, people["alice"].headers)
    status, answer = comment(client, people["alice"].headers, req["id"], body)
    assert status == 422 and answer["error"]["code"] == "validation_error"
    assert "body" in answer["error"]["details"]["fields"]


def test_resubmit_makes_a_linked_pending_request(app, client, people):
    alice, alice_headers = people["alice"]
    bob_headers = people["bob"].headers
    old = submit(client, alice_headers)
    act(client, bob_headers, old["id"], "reject", "not this quarter")
    detail = client.get(f"/api/requests/{old['id']}", headers=alice_headers).get_json()
    assert detail["allowed_actions"] == ["comment", "resubmit"]
    bob_socket = connect(app, token(bob_headers))
    bob_socket.get_received()  # the replay of what came before

    response = client.post(f"/api/requests/{old['id']}/resubmit", headers=alice_headers,
                           json={"reason": "next quarter then"})
    assert response.status_code == 201, response.get_json()
    new = response.get_json()
    assert new["state"] == "pending" and new["id"] != old["id"] and new["asset_id"] == old["asset_id"]
    assert new["kind"] == "assign" and new["reason"] == "next quarter then" and new["step"] == 1
    assert [m["args"][0]["action"] for m in bob_socket.get_received() if m["name"] == "approval_update"] == [
        "resubmit"]
    stored = client.get(f"/api/requests/{new['id']}", headers=alice_headers).get_json()
    assert stored["events"][0]["action"] == "submit"
    assert db.session.get(Request, new["id"]).previous_id == old["id"]

    old_detail = client.get(f"/api/requests/{old['id']}", headers=alice_headers).get_json()
    assert old_detail["state"] == "rejected" and old_detail["events"][-1]["action"] == "resubmit"
    assert old_detail["allowed_actions"] == ["comment"]  # its asset is locked by the new request now
    again = client.post(f"/api/requests/{old['id']}/resubmit", headers=alice_headers, json={})
    assert again.status_code == 409  # the asset's pending-request lock


def test_resubmit_keeps_the_old_reason_and_routes_by_todays_rules(client, people):
    alice_headers = people["alice"].headers
    old = submit(client, alice_headers, reason="the original reason")
    client.post(f"/api/requests/{old['id']}/withdraw", headers=alice_headers, json={})
    db.session.add(ApprovalRule(position=0, match={}, steps=[{"decider": "role", "role": "approver"},
                                                             {"decider": "role", "role": "admin"}]))
    db.session.commit()
    new = client.post(f"/api/requests/{old['id']}/resubmit", headers=alice_headers, json={}).get_json()
    assert new["reason"] == "the original reason" and new["steps_total"] == 2


def test_resubmit_is_refused_with_the_right_status(client, people):
    alice_headers, bob_headers = people["alice"].headers, people["bob"].headers
    pending = submit(client, alice_headers)
    approved = submit(client, alice_headers)
    act(client, bob_headers, approved["id"], "approve")
    rejected = submit(client, alice_headers)
    act(client, bob_headers, rejected["id"], "reject", "no")

    def resubmit(headers, request_id, body=None):
        return client.post(f"/api/requests/{request_id}/resubmit", headers=headers, json=body or {})

    assert resubmit(alice_headers, pending["id"]).status_code == 409
    assert resubmit(alice_headers, approved["id"]).status_code == 409
    assert resubmit(bob_headers, rejected["id"]).status_code == 403  # sees it, is not the applicant
    assert resubmit(people["erin"].headers, rejected["id"]).status_code == 404
    assert resubmit(alice_headers, rejected["id"], {"reason": ""}).status_code == 422
    assert resubmit(alice_headers, rejected["id"], {"extra": 1}).status_code == 422


def test_resubmit_needs_the_asset_to_still_fit_and_be_free(client, people):
    alice_headers, bob_headers = people["alice"].headers, people["bob"].headers
    asset = make_asset()
    rejected = submit(client, alice_headers, asset.id)
    act(client, bob_headers, rejected["id"], "reject", "no")
    other = submit(client, people["erin"].headers, asset.id)
    locked = client.post(f"/api/requests/{rejected['id']}/resubmit", headers=alice_headers, json={})
    assert locked.status_code == 409 and locked.get_json()["error"]["details"]["asset_id"] == asset.id

    act(client, bob_headers, other["id"], "approve")  # assigned to erin: no longer in stock
    assert "resubmit" not in client.get(f"/api/requests/{rejected['id']}", headers=alice_headers
                                        ).get_json()["allowed_actions"]
    misfit = client.post(f"/api/requests/{rejected['id']}/resubmit", headers=alice_headers, json={})
    assert misfit.status_code == 422 and misfit.get_json()["error"]["code"] == "validation_error"
