"""Routing by the organisation: who a request reaches, resolved and frozen at submit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db

from .factories import make_asset, make_department, make_user, set_rules
from .test_realtime import connect, received, token

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
MANAGER = {"decider": "manager"}


def submit(client, headers, kind: str = "assign", value: int = 1000):
    return client.post("/api/requests", headers=headers,
                       json={"kind": kind, "asset_id": make_asset(value=value).id, "reason": "x"})


def submitted(client, headers, **kwargs) -> dict:
    response = submit(client, headers, **kwargs)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deciders(client, headers, request_id: int) -> list[list[int]]:
    steps = client.get(f"/api/requests/{request_id}", headers=headers).get_json()["steps"]
    return [[person["id"] for person in step["deciders"]] for step in steps]


def person(auth, role: str, department, username: str | None = None):
    user = make_user(role, username, department=department)
    return user, auth.headers(user)


@pytest.fixture
def org(app, auth):
    """Two sibling departments, each with an applicant and an approver; requests go to the department's approvers."""
    a, b = make_department("Alpha"), make_department("Beta")
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    return {"a": a, "b": b, "applicant": person(auth, "employee", a), "mine": person(auth, "approver", a),
            "theirs": person(auth, "approver", b)}


def test_a_request_never_reaches_an_approver_of_another_department(app, client, org):
    (_, applicant_h), (_, mine_h), (theirs, theirs_h) = org["applicant"], org["mine"], org["theirs"]
    mine_socket, theirs_socket = connect(app, token(mine_h)), connect(app, token(theirs_h))
    req = submitted(client, applicant_h)
    assert client.post(f"/api/requests/{req['id']}/approve", headers=theirs_h, json={}).status_code == 404
    other = submitted(client, applicant_h)
    assert client.post(f"/api/requests/{other['id']}/approve", headers=mine_h, json={}).status_code == 200

    for scope in ("inbox", "all"):
        assert client.get(f"/api/requests?scope={scope}", headers=theirs_h).get_json()["total"] == 0
    assert set(client.get("/api/requests/stats", headers=theirs_h).get_json()["counts"].values()) == {0}
    assert client.get(f"/api/requests/{req['id']}", headers=theirs_h).status_code == 404
    assert client.get("/api/notifications", headers=theirs_h).get_json()["items"] == []
    assert theirs_socket.get_received() == []
    # The same traffic did reach the approver of the applicant's department (the test could fail).
    assert [e["request_id"] for e in received(mine_socket, "approval_update")] == [req["id"], other["id"]]
    assert client.get("/api/requests?scope=inbox", headers=mine_h).get_json()["total"] == 1
    assert theirs.department_id == org["b"].id


def test_company_wide_approvers_above_the_department_are_deciders(client, auth, org):
    boss, _ = person(auth, "approver", None)  # in the company root: an ancestor of every department
    req = submitted(client, org["applicant"][1])
    assert deciders(client, org["applicant"][1], req["id"]) == [sorted([org["mine"][0].id, boss.id])]


@pytest.fixture
def tree(app, auth):
    """Sales (manager Sara) above Team (manager Tom) and Quiet (no manager); manager steps only."""
    sara = make_user("approver", "sara")
    sales = make_department("Sales", manager=sara)
    tom = make_user("approver", "tom")
    team = make_department("Team", parent=sales, manager=tom)
    quiet = make_department("Quiet", parent=sales)
    tom.department_id = team.id
    db.session.commit()
    set_rules([{"match": {}, "steps": [MANAGER]}])
    return {"sara": sara, "tom": (tom, auth.headers(tom)), "team": team, "quiet": quiet, "sales": sales}


def test_the_manager_step_goes_to_the_departments_manager(client, auth, tree):
    _, headers = person(auth, "employee", tree["team"])
    req = submitted(client, headers)
    assert req["required_role"] == "manager"
    assert deciders(client, headers, req["id"]) == [[tree["tom"][0].id]]


def test_the_manager_step_walks_up_when_the_applicant_is_the_manager(client, tree):
    _, headers = tree["tom"]
    req = submitted(client, headers)
    assert deciders(client, headers, req["id"]) == [[tree["sara"].id]]


def test_the_manager_step_goes_to_the_grandparent_when_the_parent_has_no_manager(client, auth, tree):
    sub = make_department("Sub", parent=tree["quiet"])
    _, headers = person(auth, "employee", sub)
    req = submitted(client, headers)
    assert deciders(client, headers, req["id"]) == [[tree["sara"].id]]


def test_no_manager_up_the_tree_refuses_the_submit(client, auth, tree):
    tree["sales"].manager_id = None
    db.session.commit()
    _, headers = person(auth, "employee", tree["quiet"])
    response = submit(client, headers)
    assert response.status_code == 422 and response.get_json()["error"]["details"]["step"] == 1


def test_no_matching_rule_is_a_422(client, org):
    set_rules([{"match": {"kinds": ["dispose"]}, "steps": [APPROVER_HERE]}])
    response = submit(client, org["applicant"][1])
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_a_chain_without_distinct_deciders_is_a_422(client, auth, tree):
    # Manager, then an approver of the department: Sara is both, and nobody else can take either step.
    set_rules([{"match": {}, "steps": [MANAGER, APPROVER_HERE]}])
    _, headers = person(auth, "employee", tree["quiet"])
    response = submit(client, headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"step": 2, "role": "approver"}
    person(auth, "approver", tree["quiet"])  # a second person: now the chain can be decided by two
    assert submit(client, headers).status_code == 201


def test_rules_and_managers_changed_while_pending_do_not_change_the_chain(client, auth, tree):
    _, headers = person(auth, "employee", tree["team"])
    req = submitted(client, headers)
    newcomer, newcomer_h = person(auth, "approver", tree["team"])
    tree["team"].manager_id = newcomer.id
    db.session.commit()
    set_rules([{"match": {}, "steps": [APPROVER_HERE, APPROVER_HERE]}])

    assert client.get(f"/api/requests/{req['id']}", headers=headers).get_json()["steps_total"] == 1
    assert deciders(client, headers, req["id"]) == [[tree["tom"][0].id]]
    assert client.post(f"/api/requests/{req['id']}/approve", headers=newcomer_h, json={}).status_code == 404
    approved = client.post(f"/api/requests/{req['id']}/approve", headers=tree["tom"][1], json={})
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    # A new request follows the new rules and the new manager.
    assert submitted(client, headers)["steps_total"] == 2


def test_the_first_matching_rule_wins(client, org):
    admin_step = {"decider": "role", "role": "admin", "scope": "company"}
    make_user("admin")
    set_rules([
        {"match": {"min_value": "5000"}, "steps": [APPROVER_HERE, admin_step]},
        {"match": {"kinds": ["assign"]}, "steps": [APPROVER_HERE]},
    ])
    headers = org["applicant"][1]
    assert submitted(client, headers, value=6000)["steps_total"] == 2  # both rules match: the first wins
    assert submitted(client, headers, value=100)["steps_total"] == 1


def test_a_rule_naming_a_department_matches_the_departments_below_it(client, auth, tree):
    other = make_department("Elsewhere")
    person(auth, "approver", other)
    set_rules([{"match": {"departments": [tree["sales"].id]}, "steps": [MANAGER]},
               {"match": {}, "steps": [APPROVER_HERE]}])
    _, below = person(auth, "employee", tree["team"])  # Team is under Sales
    assert submitted(client, below)["required_role"] == "manager"
    _, outside = person(auth, "employee", other)
    assert submitted(client, outside)["required_role"] == "approver"


def test_the_request_list_filters_by_department_and_below(client, auth, tree):
    _, team_h = person(auth, "employee", tree["team"])
    _, quiet_h = person(auth, "employee", tree["quiet"])
    in_team, in_quiet = submitted(client, team_h)["id"], submitted(client, quiet_h)["id"]
    admin_h = auth.headers(make_user("admin"))

    def listed(department_id) -> list[int]:
        response = client.get(f"/api/requests?scope=all&department_id={department_id}", headers=admin_h)
        assert response.status_code == 200, response.get_json()
        return sorted(r["id"] for r in response.get_json()["items"])

    assert listed(tree["sales"].id) == [in_team, in_quiet]
    assert listed(tree["team"].id) == [in_team]
    for path in ("/api/requests", "/api/requests/export.csv"):  # the export refuses before streaming
        bad = client.get(f"{path}?scope=all&department_id=999999", headers=admin_h)
        assert bad.status_code == 422 and "department_id" in bad.get_json()["error"]["details"]["fields"]


def _statements(client, url: str, headers: dict) -> int:
    """How many SQL statements one GET runs, from an empty session (nothing already loaded)."""
    seen = []
    db.session.expunge_all()

    def count(*args) -> None:
        seen.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url, headers=headers).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def test_a_list_page_runs_as_many_queries_for_many_rows_as_for_few(client, auth, org):
    _, applicant_h = org["applicant"]
    mine_h = org["mine"][1]
    url = f"/api/requests?scope=all&per_page=50&department_id={org['a'].id}"
    submitted(client, applicant_h)
    few = _statements(client, url, mine_h)
    for _ in range(8):
        submitted(client, applicant_h)
    assert client.get(url, headers=mine_h).get_json()["total"] == 9
    assert _statements(client, url, mine_h) == few
