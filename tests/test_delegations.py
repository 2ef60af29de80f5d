"""Delegation: an approver's stand-in decides for them while the delegation is active, never otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assetflow.auth.tokens import actor_for
from assetflow.extensions import db
from assetflow.models import Delegation
from assetflow.services import requests, routing, visibility

from .actions import Person, approve, assert_refused, count, detail, request_state, submit, withdraw
from .factories import make_asset, make_department, make_user, set_rules
from .test_realtime import connect, received

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
APPROVER_ANYWHERE = {"decider": "role", "role": "approver", "scope": "company"}


def at(**offset) -> str:
    return (datetime.now(UTC) + timedelta(**offset)).isoformat()


def delegate(client, person: Person, delegate_id: int, starts=None, ends=None, **extra):
    body = {"delegate_id": delegate_id, "starts_at": starts or at(minutes=-1), "ends_at": ends or at(days=1), **extra}
    return client.post("/api/delegations", headers=person.headers, json=body)


def inbox(client, person: Person) -> list[int]:
    return [r["id"] for r in client.get("/api/requests?scope=inbox", headers=person.headers).get_json()["items"]]


@pytest.fixture
def team(app, auth, people):
    """Alice and Bob in one department, Carol in another: Bob alone decides Alice's requests; Dan may stand in."""
    mine, other = make_department("Ops"), make_department("Legal")
    for name, department in (("alice", mine), ("bob", mine), ("carol", other)):
        people[name].user.department_id = department.id
    db.session.commit()
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    dan = make_user("employee", "dan")
    return {**people, "dan": auth.person(dan)}


def test_an_active_delegation_lets_the_delegate_decide_for_the_principal(client, app, team):
    bob, dan, alice = team["bob"], team["dan"], team["alice"]
    created = delegate(client, bob, dan.id, note="on holiday")
    assert created.status_code == 201
    assert created.get_json()["active"] is True and created.get_json()["delegator"]["id"] == bob.id
    sockets = {name: connect(app, team[name].token) for name in ("bob", "dan", "alice", "carol")}
    req = submit(client, alice)
    # The request reaches the principal and the delegate alike, live and durably; nobody else.
    for name in ("bob", "dan"):
        assert [(e["request_id"], e["action"]) for e in received(sockets[name])] == [(req["id"], "submit")]
        assert client.get("/api/notifications", headers=team[name].headers).get_json()["items"][0]["payload"][
            "request_id"] == req["id"]
    assert received(sockets["carol"]) == []
    assert inbox(client, dan) == [req["id"]]
    assert detail(client, dan, req["id"])["allowed_actions"] == ["approve", "reject", "return", "comment"]

    approve(client, dan, req["id"])
    shown = detail(client, alice, req["id"])
    assert shown["decisions"][0]["approver"]["id"] == dan.id
    assert shown["decisions"][0]["on_behalf_of"]["id"] == bob.id
    assert shown["events"][-1]["on_behalf_of"]["id"] == bob.id
    assert shown["steps"][0]["decided_by"]["on_behalf_of"]["id"] == bob.id
    assert shown["steps"][0]["decided_by"]["outcome"] == "approved"
    behalf = {"id": bob.id, "name": bob.user.display_name}
    for person, socket in ((bob, sockets["bob"]), (alice, sockets["alice"])):  # principal and applicant
        live = received(socket)
        assert [(e["action"], e["actor"]["id"], e["actor"]["on_behalf_of"]) for e in live] == [
            ("approve", dan.id, behalf)]
        stored = client.get("/api/notifications", headers=person.headers).get_json()["items"][0]["payload"]
        assert stored["actor"]["on_behalf_of"] == behalf and stored["seq"] == live[0]["seq"]


def _expired(client, principal: Person, delegate_user):
    db.session.add(Delegation(delegator_id=principal.id, delegate_id=delegate_user.id,
                              starts_at=datetime.now(UTC) - timedelta(days=3),
                              ends_at=datetime.now(UTC) - timedelta(seconds=1)))
    db.session.commit()


def _not_started(client, principal: Person, delegate_user):
    assert delegate(client, principal, delegate_user.id, starts=at(hours=1), ends=at(days=2)).status_code == 201


def _deleted(client, principal: Person, delegate_user):
    created = delegate(client, principal, delegate_user.id).get_json()
    assert client.delete(f"/api/delegations/{created['id']}", headers=principal.headers).status_code == 204


@pytest.mark.parametrize("make", [_expired, _not_started, _deleted], ids=["expired", "not_started", "deleted"])
def test_an_inactive_delegation_gives_nothing(client, team, make):
    bob, dan, alice = team["bob"], team["dan"], team["alice"]
    make(client, bob, dan.user)
    req = submit(client, alice)
    assert inbox(client, dan) == []
    detail(client, dan, req["id"], expect=404, code="not_found")
    approve(client, dan, req["id"], expect=404, code="not_found")
    assert request_state(req["id"]) == ("pending", 1, 1)
    approve(client, bob, req["id"])


def test_a_delegate_never_decides_their_own_request(client, team):
    alice = team["alice"]
    assert delegate(client, team["bob"], alice.id).status_code == 201
    req = submit(client, alice)
    assert inbox(client, alice) == []
    assert detail(client, alice, req["id"])["allowed_actions"] == ["withdraw", "edit", "comment"]
    approve(client, alice, req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 1, 1)


@pytest.fixture
def two_steps(team):
    """Bob and Carol are both named for both steps of every request."""
    set_rules([{"match": {}, "steps": [APPROVER_ANYWHERE, APPROVER_ANYWHERE]}])
    return team


def test_a_delegate_who_decided_step_one_cannot_decide_step_two_for_someone_else(client, two_steps):
    bob, carol, dan = two_steps["bob"], two_steps["carol"], two_steps["dan"]
    assert delegate(client, bob, dan.id).status_code == 201
    assert delegate(client, carol, dan.id).status_code == 201
    req = submit(client, two_steps["alice"])
    approve(client, dan, req["id"])
    shown = detail(client, dan, req["id"])
    assert shown["step"] == 2 and shown["allowed_actions"] == ["comment"] and inbox(client, dan) == []
    approve(client, dan, req["id"], expect=403, code="forbidden")
    # Whom Dan stood in for at step 1 may not decide step 2 either; the other decider may.
    principal = shown["decisions"][0]["on_behalf_of"]["id"]
    other = carol if principal == bob.id else bob
    same = bob if principal == bob.id else carol
    approve(client, same, req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 2, 2)
    approve(client, other, req["id"])


def test_a_principal_whose_delegate_decided_step_one_cannot_decide_step_two(client, two_steps):
    bob, dan = two_steps["bob"], two_steps["dan"]
    assert delegate(client, bob, dan.id).status_code == 201
    req = submit(client, two_steps["alice"])
    approve(client, dan, req["id"])
    assert req["id"] not in inbox(client, bob)
    approve(client, bob, req["id"], expect=403, code="forbidden")
    assert request_state(req["id"]) == ("pending", 2, 2)
    approve(client, two_steps["carol"], req["id"])


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
    person = team[who]
    if body.get("delegate_id") == "self":
        body = {**body, "delegate_id": person.id}
    response = delegate(client, person, team["dan"].id, **body) if "delegate_id" not in body else \
        client.post("/api/delegations", headers=person.headers,
                    json={"starts_at": at(minutes=-1), "ends_at": at(days=1), **body})
    error = assert_refused(response, status, "forbidden" if status == 403 else "validation_error")
    if field:
        assert field in error["details"]["fields"]
    assert count(Delegation) == 0


def test_inactive_delegate_is_refused(client, team):
    ghost = make_user("employee", active=False)
    error = assert_refused(delegate(client, team["bob"], ghost.id), 422, "validation_error")
    assert "delegate_id" in error["details"]["fields"] and count(Delegation) == 0


def test_listing_and_deleting(client, team):
    bob, dan = team["bob"], team["dan"]
    bob_h, dan_h = bob.headers, dan.headers
    given = delegate(client, bob, dan.id).get_json()
    other = delegate(client, team["carol"], bob.id).get_json()
    assert {d["id"] for d in client.get("/api/delegations", headers=bob_h).get_json()["items"]} == {
        given["id"], other["id"]}  # given and received
    assert [d["id"] for d in client.get("/api/delegations", headers=dan_h).get_json()["items"]] == [given["id"]]
    assert_refused(client.get("/api/delegations?all=1", headers=bob_h), 403, "forbidden")
    admin_h = team["admin"].headers
    assert len(client.get("/api/delegations?all=1", headers=admin_h).get_json()["items"]) == 2
    assert_refused(client.delete(f"/api/delegations/{given['id']}", headers=dan_h), 403, "forbidden")  # the delegate
    assert_refused(client.delete(f"/api/delegations/{given['id']}", headers=team["erin"].headers), 404, "not_found")
    assert count(Delegation) == 2
    assert client.delete(f"/api/delegations/{other['id']}", headers=admin_h).status_code == 204
    assert client.delete(f"/api/delegations/{given['id']}", headers=bob_h).status_code == 204
    assert_refused(client.delete(f"/api/delegations/{given['id']}", headers=bob_h), 404, "not_found")
    assert client.get("/api/delegations", headers=bob_h).get_json()["items"] == []


def test_a_request_page_opens_for_exactly_whom_the_lists_show_it(client, team):
    """One request is checked on the loaded row (visibility.may_see), lists in SQL (`_visible`): the two
    must agree for applicants, named deciders, delegates, who decided for whom, outsiders and admins,
    also once a delegation has ended."""
    bob, dan, alice = team["bob"], team["dan"], team["alice"]
    given = delegate(client, bob, dan.id).get_json()
    pending = submit(client, alice)["id"]
    decided_by_delegate = submit(client, alice)["id"]
    approve(client, dan, decided_by_delegate)
    withdrawn = submit(client, alice)["id"]
    withdraw(client, alice, withdrawn)
    ids = (pending, decided_by_delegate, withdrawn)

    def seen() -> dict[str, tuple[set[int], set[int]]]:
        out = {}
        for name, person in team.items():
            listed = {r["id"] for r in client.get("/api/requests?scope=all&per_page=100", headers=person.headers)
                      .get_json()["items"]}
            opened = {i for i in ids if client.get(f"/api/requests/{i}", headers=person.headers).status_code == 200}
            out[name] = (listed & set(ids), opened)
        return out

    during = seen()
    assert all(listed == opened for listed, opened in during.values()), during
    assert during["dan"][1] == set(ids)  # stands in for Bob, who is named on all three
    assert during["carol"][1] == set() and during["erin"][1] == set()
    assert during["admin"][1] == set(ids)
    assert client.delete(f"/api/delegations/{given['id']}", headers=bob.headers).status_code == 204
    after = seen()
    assert all(listed == opened for listed, opened in after.values()), after
    assert after["dan"][1] == {decided_by_delegate}  # what he decided stays his to see; the rest went with the delegation


def test_whom_a_delegate_stands_in_for_is_read_with_their_token(client, team):
    """No query of its own: the blocklist check that every authenticated request makes reads it."""
    dan = team["dan"]
    assert delegate(client, team["bob"], dan.id).status_code == 201
    req = submit(client, team["alice"])
    statements: list[str] = []

    def record(*args) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = client.post(f"/api/requests/{req['id']}/approve", headers=dan.headers, json={})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_json()
    reading_delegators = [s for s in statements if "delegations.delegator_id" in s and "delegate_id =" in s]
    assert len(reading_delegators) == 1 and "revoked_tokens" in reading_delegators[0]


def test_the_named_people_read_with_a_request_say_what_its_rows_and_the_delegations_say(shared_app):
    """A decision reads the request's named people, and their delegates now, in the request's own query
    (routing.named_on): the same people, flags and delegates as the StepDecider rows and delegates_of."""
    applicant, named, away = make_user(), make_user("approver"), make_user("approver")
    stand_in, gone, late = make_user(), make_user(), make_user()  # not named themselves
    req = requests.submit(actor_for(applicant), {"kind": "assign", "asset_id": make_asset().id, "reason": "r"})
    now = datetime.now(UTC)
    db.session.add_all([
        Delegation(delegator_id=named.id, delegate_id=stand_in.id, starts_at=now - timedelta(hours=1),
                   ends_at=now + timedelta(hours=1)),
        Delegation(delegator_id=away.id, delegate_id=late.id, starts_at=now + timedelta(hours=1),  # not yet
                   ends_at=now + timedelta(hours=2)),
        Delegation(delegator_id=away.id, delegate_id=gone.id, starts_at=now - timedelta(hours=1),
                   ends_at=now + timedelta(hours=1)),
    ])
    gone.active = False
    db.session.commit()
    db.session.expire_all()

    loaded = visibility.get_visible(actor_for(applicant), req.id)
    rows = routing.named_on(loaded)
    assert rows and all(isinstance(row, routing.Named) for row in rows) and "deciders" not in loaded.__dict__
    people = {(d.user_id, d.step, d.active, d.entitled, d.via): routing.delegates_of([d.user_id])
              for d in loaded.deciders}  # now loaded: named_on answers with the rows of the collection
    assert {tuple(row[:5]): row.delegates for row in rows} == people
    assert people[(named.id, 1, True, True, "rule")] == {stand_in.id} and not people[(away.id, 1, True, True, "rule")]
    assert routing.named_on(loaded) == loaded.deciders
    from_the_collection = routing.may_decide_now(loaded)  # delegates_of asked
    db.session.expire_all()
    again = visibility.get_visible(actor_for(applicant), req.id)
    assert "deciders" not in again.__dict__
    assert routing.may_decide_now(again) == from_the_collection >= {named.id, away.id, stand_in.id}
    assert late.id not in from_the_collection and gone.id not in from_the_collection
