"""Delegation: an approver's stand-in decides for them while the delegation is active, never otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Delegation

from .factories import make_asset, make_department, make_user, set_rules
from .test_realtime import connect, received, token

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
APPROVER_ANYWHERE = {"decider": "role", "role": "approver", "scope": "company"}


def at(**offset) -> str:
    return (datetime.now(UTC) + timedelta(**offset)).isoformat()


def delegate(client, headers, delegate_id: int, starts=None, ends=None, **extra):
    body = {"delegate_id": delegate_id, "starts_at": starts or at(minutes=-1), "ends_at": ends or at(days=1), **extra}
    return client.post("/api/delegations", headers=headers, json=body)


def submit(client, headers, value: int = 1000) -> dict:
    response = client.post("/api/requests", headers=headers,
                           json={"kind": "assign", "asset_id": make_asset(value=value).id, "reason": "x"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def inbox(client, headers) -> list[int]:
    return [r["id"] for r in client.get("/api/requests?scope=inbox", headers=headers).get_json()["items"]]


@pytest.fixture
def team(app, auth, people):
    """Alice and Bob in one department, Carol in another: Bob alone decides Alice's requests; Dan may stand in."""
    mine, other = make_department("Ops"), make_department("Legal")
    for name, department in (("alice", mine), ("bob", mine), ("carol", other)):
        people[name].user.department_id = department.id
    db.session.commit()
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    dan = make_user("employee", "dan")
    return {**people, "dan": (dan, auth.headers(dan))}


def test_an_active_delegation_lets_the_delegate_decide_for_the_principal(client, app, team):
    (bob, bob_h), (dan, dan_h), (_, alice_h) = team["bob"], team["dan"], team["alice"]
    created = delegate(client, bob_h, dan.id, note="on holiday")
    assert created.status_code == 201
    assert created.get_json()["active"] is True and created.get_json()["delegator"]["id"] == bob.id
    sockets = {name: connect(app, token(team[name].headers)) for name in ("bob", "dan", "alice", "carol")}
    req = submit(client, alice_h)
    # The request reaches the principal and the delegate alike, live and durably; nobody else.
    for name in ("bob", "dan"):
        assert [(e["request_id"], e["action"]) for e in received(sockets[name])] == [(req["id"], "submit")]
        assert client.get("/api/notifications", headers=team[name].headers).get_json()["items"][0]["payload"][
            "request_id"] == req["id"]
    assert received(sockets["carol"]) == []
    assert inbox(client, dan_h) == [req["id"]]
    assert client.get(f"/api/requests/{req['id']}", headers=dan_h).get_json()["allowed_actions"] == [
        "approve", "reject", "comment"]

    assert client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={}).status_code == 200
    detail = client.get(f"/api/requests/{req['id']}", headers=alice_h).get_json()
    assert detail["decisions"][0]["approver"]["id"] == dan.id
    assert detail["decisions"][0]["on_behalf_of"]["id"] == bob.id
    assert detail["events"][-1]["on_behalf_of"]["id"] == bob.id
    assert detail["steps"][0]["decided_by"]["on_behalf_of"]["id"] == bob.id
    behalf = {"id": bob.id, "name": bob.display_name}
    for headers, socket in ((bob_h, sockets["bob"]), (alice_h, sockets["alice"])):  # principal and applicant
        live = received(socket)
        assert [(e["action"], e["actor"]["id"], e["actor"]["on_behalf_of"]) for e in live] == [
            ("approve", dan.id, behalf)]
        stored = client.get("/api/notifications", headers=headers).get_json()["items"][0]["payload"]
        assert stored["actor"]["on_behalf_of"] == behalf and stored["seq"] == live[0]["seq"]


def _expired(client, headers, principal, delegate_user):
    db.session.add(Delegation(delegator_id=principal.id, delegate_id=delegate_user.id,
                              starts_at=datetime.now(UTC) - timedelta(days=3),
                              ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()


def _not_started(client, headers, principal, delegate_user):
    assert delegate(client, headers, delegate_user.id, starts=at(hours=1), ends=at(days=2)).status_code == 201


def _deleted(client, headers, principal, delegate_user):
    created = delegate(client, headers, delegate_user.id).get_json()
    assert client.delete(f"/api/delegations/{created['id']}", headers=headers).status_code == 204


@pytest.mark.parametrize("make", [_expired, _not_started, _deleted], ids=["expired", "not_started", "deleted"])
def test_an_inactive_delegation_gives_nothing(client, team, make):
    (bob, bob_h), (dan, dan_h), (_, alice_h) = team["bob"], team["dan"], team["alice"]
    make(client, bob_h, bob, dan)
    req = submit(client, alice_h)
    assert inbox(client, dan_h) == []
    assert client.get(f"/api/requests/{req['id']}", headers=dan_h).status_code == 404
    assert client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={}).status_code == 404
    assert client.post(f"/api/requests/{req['id']}/approve", headers=bob_h, json={}).status_code == 200


def test_a_delegate_never_decides_their_own_request(client, team):
    (_, bob_h), (alice, alice_h) = team["bob"], team["alice"]
    assert delegate(client, bob_h, alice.id).status_code == 201
    req = submit(client, alice_h)
    assert inbox(client, alice_h) == []
    assert client.get(f"/api/requests/{req['id']}", headers=alice_h).get_json()["allowed_actions"] == ["withdraw", "comment"]
    assert client.post(f"/api/requests/{req['id']}/approve", headers=alice_h, json={}).status_code == 403


@pytest.fixture
def two_steps(team):
    """Bob and Carol are both named for both steps of every request."""
    set_rules([{"match": {}, "steps": [APPROVER_ANYWHERE, APPROVER_ANYWHERE]}])
    return team


def test_a_delegate_who_decided_step_one_cannot_decide_step_two_for_someone_else(client, two_steps):
    (bob, bob_h), (_, carol_h), (dan, dan_h) = two_steps["bob"], two_steps["carol"], two_steps["dan"]
    assert delegate(client, bob_h, dan.id).status_code == 201
    assert delegate(client, carol_h, dan.id).status_code == 201
    req = submit(client, two_steps["alice"][1])
    assert client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={}).status_code == 200
    detail = client.get(f"/api/requests/{req['id']}", headers=dan_h).get_json()
    assert detail["step"] == 2 and detail["allowed_actions"] == ["comment"] and inbox(client, dan_h) == []
    assert client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={}).status_code == 403
    # Whom Dan stood in for at step 1 may not decide step 2 either; the other decider may.
    principal = detail["decisions"][0]["on_behalf_of"]["id"]
    other_h = carol_h if principal == bob.id else bob_h
    same_h = bob_h if principal == bob.id else carol_h
    assert client.post(f"/api/requests/{req['id']}/approve", headers=same_h, json={}).status_code == 403
    assert client.post(f"/api/requests/{req['id']}/approve", headers=other_h, json={}).status_code == 200


def test_a_principal_whose_delegate_decided_step_one_cannot_decide_step_two(client, two_steps):
    (_, bob_h), (_, carol_h), (dan, dan_h) = two_steps["bob"], two_steps["carol"], two_steps["dan"]
    assert delegate(client, bob_h, dan.id).status_code == 201
    req = submit(client, two_steps["alice"][1])
    assert client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={}).status_code == 200
    assert req["id"] not in inbox(client, bob_h)
    assert client.post(f"/api/requests/{req['id']}/approve", headers=bob_h, json={}).status_code == 403
    assert client.post(f"/api/requests/{req['id']}/approve", headers=carol_h, json={}).status_code == 200


@pytest.mark.parametrize("who, body, status, field", [
    ("alice", {}, 403, None),  # employees have nothing to delegate
    ("bob", {"delegate_id": "self"}, 422, "delegate_id"),
    ("bob", {"delegate_id": 999999}, 422, "delegate_id"),
    ("bob", {"starts_at": at(days=2), "ends_at": at(days=1)}, 422, "ends_at"),
    ("bob", {"starts_at": at(days=-3), "ends_at": at(days=-1)}, 422, "ends_at"),
    ("bob", {"ends_at": at(days=91)}, 422, "ends_at"),
    ("bob", {"ends_at": "2030-01-01T00:00:00"}, 422, "ends_at"),  # no time zone
    ("bob", {"note": "x" * 501}, 422, "note"),
])
def test_a_delegation_is_validated(client, team, who, body, status, field):
    user, headers = team[who]
    if body.get("delegate_id") == "self":
        body = {**body, "delegate_id": user.id}
    response = delegate(client, headers, team["dan"].user.id, **body) if "delegate_id" not in body else \
        client.post("/api/delegations", headers=headers,
                    json={"starts_at": at(minutes=-1), "ends_at": at(days=1), **body})
    assert response.status_code == status, response.get_json()
    if field:
        assert field in response.get_json()["error"]["details"]["fields"]


def test_inactive_delegate_is_refused(client, team):
    ghost = make_user("employee", active=False)
    response = delegate(client, team["bob"].headers, ghost.id)
    assert response.status_code == 422 and "delegate_id" in response.get_json()["error"]["details"]["fields"]


def test_listing_and_deleting(client, team):
    (bob, bob_h), (_, carol_h), (dan, dan_h) = team["bob"], team["carol"], team["dan"]
    given = delegate(client, bob_h, dan.id).get_json()
    other = delegate(client, carol_h, bob.id).get_json()
    assert {d["id"] for d in client.get("/api/delegations", headers=bob_h).get_json()["items"]} == {
        given["id"], other["id"]}  # given and received
    assert [d["id"] for d in client.get("/api/delegations", headers=dan_h).get_json()["items"]] == [given["id"]]
    assert client.get("/api/delegations?all=1", headers=bob_h).status_code == 403
    admin_h = team["admin"].headers
    assert len(client.get("/api/delegations?all=1", headers=admin_h).get_json()["items"]) == 2
    assert client.delete(f"/api/delegations/{given['id']}", headers=dan_h).status_code == 403  # the delegate
    assert client.delete(f"/api/delegations/{given['id']}", headers=team["erin"].headers).status_code == 404
    assert client.delete(f"/api/delegations/{other['id']}", headers=admin_h).status_code == 204
    assert client.delete(f"/api/delegations/{given['id']}", headers=bob_h).status_code == 204
    assert client.delete(f"/api/delegations/{given['id']}", headers=bob_h).status_code == 404
    assert client.get("/api/delegations", headers=bob_h).get_json()["items"] == []


def test_a_request_page_opens_for_exactly_whom_the_lists_show_it(client, team):
    """One request is checked on the loaded row (visibility.may_see), lists in SQL (`_visible`): the two
    must agree for applicants, named deciders, delegates, who decided for whom, outsiders and admins,
    also once a delegation has ended."""
    bob_h, (dan, dan_h), alice_h = team["bob"].headers, team["dan"], team["alice"].headers
    given = delegate(client, bob_h, dan.id).get_json()
    pending = submit(client, alice_h)["id"]
    decided_by_delegate = submit(client, alice_h)["id"]
    assert client.post(f"/api/requests/{decided_by_delegate}/approve", headers=dan_h, json={}).status_code == 200
    withdrawn = submit(client, alice_h)["id"]
    assert client.post(f"/api/requests/{withdrawn}/withdraw", headers=alice_h, json={}).status_code == 200
    ids = (pending, decided_by_delegate, withdrawn)

    def seen() -> dict[str, tuple[set[int], set[int]]]:
        out = {}
        for name, (_, headers) in team.items():
            listed = {r["id"] for r in client.get("/api/requests?scope=all&per_page=100", headers=headers)
                      .get_json()["items"]}
            opened = {i for i in ids if client.get(f"/api/requests/{i}", headers=headers).status_code == 200}
            out[name] = (listed & set(ids), opened)
        return out

    during = seen()
    assert all(listed == opened for listed, opened in during.values()), during
    assert during["dan"][1] == set(ids)  # stands in for Bob, who is named on all three
    assert during["carol"][1] == set() and during["erin"][1] == set()
    assert during["admin"][1] == set(ids)
    assert client.delete(f"/api/delegations/{given['id']}", headers=bob_h).status_code == 204
    after = seen()
    assert all(listed == opened for listed, opened in after.values()), after
    assert after["dan"][1] == {decided_by_delegate}  # what he decided stays his to see; the rest went with the delegation


def test_whom_a_delegate_stands_in_for_is_read_with_their_token(client, team):
    """No query of its own: the blocklist check that every authenticated request makes reads it."""
    (_, bob_h), (dan, dan_h), (_, alice_h) = team["bob"], team["dan"], team["alice"]
    assert delegate(client, bob_h, dan.id).status_code == 201
    req = submit(client, alice_h)
    statements: list[str] = []

    def record(*args) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post(f"/api/requests/{req['id']}/approve", headers=dan_h, json={})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    reading_delegators = [s for s in statements if "delegations.delegator_id" in s and "delegate_id =" in s]
    assert len(reading_delegators) == 1 and "revoked_tokens" in reading_delegators[0]
