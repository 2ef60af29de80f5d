"""Comments on a request (stored in the trail, delivered live) and resubmitting an ended request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import ApprovalRule, Department, Notification, Request

from .actions import approve, comment, count, detail, reject, request_state, resubmit, submit, withdraw
from .factories import make_asset
from .test_realtime import connect


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
    alice, bob = people["alice"], people["bob"]
    req = submit(client, alice)
    alice_socket, bob_socket, carol_socket = (connect(app, people[n].token) for n in ("alice", "bob", "carol"))
    for socket in (alice_socket, bob_socket, carol_socket):
        socket.get_received()

    body = comment(client, bob, req["id"], "  Which floor should it go to?  ")
    assert body["body"] == "Which floor should it go to?" and body["author"]["id"] == bob.id and body["at"]

    [pushed] = [m["args"][0] for m in alice_socket.get_received() if m["name"] == "request_comment"]
    assert pushed["comment_id"] == body["id"] and pushed["body"] == body["body"] and pushed["request_id"] == req["id"]
    assert pushed["actor"] == {"id": bob.id, "name": bob.user.display_name} and pushed["seq"] >= 1
    assert pushed["step"] == 1 and pushed["steps_total"] == 1 and pushed["status"] == "pending"
    assert bob_socket.get_received() == []  # the author was answered over HTTP
    assert carol_socket.get_received() == []  # an approver of another department is not involved

    comment(client, alice, req["id"], "Third floor")
    assert [m["args"][0]["body"] for m in bob_socket.get_received() if m["name"] == "request_comment"] == [
        "Third floor"]

    inbox = client.get("/api/notifications", headers=alice.headers, query_string={"page": 1, "q": "floor"})
    assert [(n["type"], n["payload"]["body"]) for n in inbox.get_json()["items"]] == [
        ("request_comment", "Which floor should it go to?")]

    shown = detail(client, alice, req["id"])
    assert [(c["author"]["id"], c["body"]) for c in shown["comments"]] == [
        (bob.id, "Which floor should it go to?"), (alice.id, "Third floor")]
    assert [e["action"] for e in shown["events"]] == ["submit", "comment", "comment"]
    assert "comment" in shown["allowed_actions"]
    # A decision after a comment still names the decider in a lost race's 409, not the commenter.
    approve(client, bob, req["id"])
    comment(client, alice, req["id"], "Thanks")  # comments go on after the decision
    late = approve(client, bob, req["id"], expect=409, code="conflict")
    assert late["error"]["details"]["decided_by"]["id"] == bob.id


def test_comments_are_refused_to_users_who_may_not_see_the_request(client, people, departments):
    req = submit(client, people["alice"])
    for name in ("carol", "erin"):
        comment(client, people[name], req["id"], "let me in", expect=404, code="not_found")
    comment(client, people["alice"], 999999, "nobody", expect=404, code="not_found")
    assert detail(client, people["alice"], req["id"])["comments"] == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)
                             .where(Notification.type == "request_comment")) == 0


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001, "nul\x00here", 42, None])
def test_a_comment_needs_one_to_2000_storable_characters(client, people, body):
    req = submit(client, people["alice"])
    answer = comment(client, people["alice"], req["id"], body, expect=422, code="validation_error")
    assert "body" in answer["error"]["details"]["fields"]
    assert detail(client, people["alice"], req["id"])["comments"] == []


def test_resubmit_makes_a_linked_pending_request(app, client, people):
    alice, bob = people["alice"], people["bob"]
    old = submit(client, alice)
    reject(client, bob, old["id"], "not this quarter")
    assert detail(client, alice, old["id"])["allowed_actions"] == ["comment", "resubmit"]
    bob_socket = connect(app, bob.token)
    bob_socket.get_received()  # the replay of what came before

    new = resubmit(client, alice, old["id"], reason="next quarter then")
    assert new["state"] == "pending" and new["id"] != old["id"] and new["asset_id"] == old["asset_id"]
    assert new["kind"] == "assign" and new["reason"] == "next quarter then" and new["step"] == 1
    assert [m["args"][0]["action"] for m in bob_socket.get_received() if m["name"] == "approval_update"] == [
        "resubmit"]
    assert detail(client, alice, new["id"])["events"][0]["action"] == "submit"
    assert db.session.get(Request, new["id"]).previous_id == old["id"]

    old_detail = detail(client, alice, old["id"])
    assert old_detail["state"] == "rejected" and old_detail["events"][-1]["action"] == "resubmit"
    assert old_detail["allowed_actions"] == ["comment"]  # its asset is locked by the new request now
    before = count(Request), request_state(old["id"])
    resubmit(client, alice, old["id"], expect=409, code="conflict")  # the asset's pending-request lock
    assert (count(Request), request_state(old["id"])) == before


def test_resubmit_keeps_the_old_reason_and_routes_by_todays_rules(client, people):
    alice = people["alice"]
    old = submit(client, alice, reason="the original reason")
    withdraw(client, alice, old["id"])
    db.session.add(ApprovalRule(position=0, match={}, steps=[{"decider": "role", "role": "approver"},
                                                             {"decider": "role", "role": "admin"}]))
    db.session.commit()
    new = resubmit(client, alice, old["id"])
    assert new["reason"] == "the original reason" and new["steps_total"] == 2


def test_resubmit_is_refused_with_the_right_status(client, people):
    alice, bob = people["alice"], people["bob"]
    pending = submit(client, alice)
    approved = submit(client, alice)
    approve(client, bob, approved["id"])
    rejected = submit(client, alice)
    reject(client, bob, rejected["id"], "no")
    before = count(Request), [request_state(r["id"]) for r in (pending, approved, rejected)]

    resubmit(client, alice, pending["id"], expect=409, code="conflict")
    resubmit(client, alice, approved["id"], expect=409, code="conflict")
    resubmit(client, bob, rejected["id"], expect=403, code="forbidden")  # sees it, is not the applicant
    resubmit(client, people["erin"], rejected["id"], expect=404, code="not_found")
    resubmit(client, alice, rejected["id"], reason="", expect=422, code="validation_error")
    resubmit(client, alice, rejected["id"], extra=1, expect=422, code="validation_error")
    assert (count(Request), [request_state(r["id"]) for r in (pending, approved, rejected)]) == before


def test_resubmit_needs_the_asset_to_still_fit_and_be_free(client, people):
    alice, bob = people["alice"], people["bob"]
    asset = make_asset()
    rejected = submit(client, alice, asset_id=asset.id)
    reject(client, bob, rejected["id"], "no")
    other = submit(client, people["erin"], asset_id=asset.id)
    locked = resubmit(client, alice, rejected["id"], expect=409, code="conflict")
    assert locked["error"]["details"]["asset_id"] == asset.id

    approve(client, bob, other["id"])  # assigned to erin: no longer in stock
    assert "resubmit" not in detail(client, alice, rejected["id"])["allowed_actions"]
    before = count(Request)
    resubmit(client, alice, rejected["id"], expect=422, code="validation_error")
    assert count(Request) == before
