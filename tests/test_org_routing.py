"""Routing by the organisation: who a request reaches, resolved and frozen at submit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Request

from .actions import Person, approve, assert_refused, count, detail, request_state, submit
from .factories import make_asset, make_department, make_user, set_rules
from .test_realtime import connect, received

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
MANAGER = {"decider": "manager"}


def deciders(client, person: Person, request_id: int) -> list[list[int]]:
    steps = detail(client, person, request_id)["steps"]
    return [[decider["id"] for decider in step["deciders"]] for step in steps]


def person(auth, role: str, department, username: str | None = None) -> Person:
    return auth.person(make_user(role, username, department=department))


@pytest.fixture
def org(app, auth):
    """Two sibling departments, each with an applicant and an approver; requests go to the department's approvers."""
    a, b = make_department("Alpha"), make_department("Beta")
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    return {"a": a, "b": b, "applicant": person(auth, "employee", a), "mine": person(auth, "approver", a),
            "theirs": person(auth, "approver", b)}


def test_a_request_never_reaches_an_approver_of_another_department(app, client, org):
    applicant, mine, theirs = org["applicant"], org["mine"], org["theirs"]
    mine_h, theirs_h = mine.headers, theirs.headers
    mine_socket, theirs_socket = connect(app, mine.token), connect(app, theirs.token)
    req = submit(client, applicant)
    approve(client, theirs, req["id"], expect=404, code="not_found")
    assert request_state(req["id"]) == ("pending", 1, 1)
    other = submit(client, applicant)
    approve(client, mine, other["id"])

    for scope in ("inbox", "all"):
        assert client.get(f"/api/requests?scope={scope}", headers=theirs_h).get_json()["total"] == 0
    assert set(client.get("/api/requests/stats", headers=theirs_h).get_json()["counts"].values()) == {0}
    detail(client, theirs, req["id"], expect=404, code="not_found")
    assert client.get("/api/notifications", headers=theirs_h).get_json()["items"] == []
    assert theirs_socket.get_received() == []
    # The same traffic did reach the approver of the applicant's department (the test could fail).
    assert [e["request_id"] for e in received(mine_socket, "approval_update")] == [req["id"], other["id"]]
    assert client.get("/api/requests?scope=inbox", headers=mine_h).get_json()["total"] == 1
    assert theirs.user.department_id == org["b"].id


def test_company_wide_approvers_above_the_department_are_deciders(client, auth, org):
    boss = person(auth, "approver", None)  # in the company root: an ancestor of every department
    req = submit(client, org["applicant"])
    assert deciders(client, org["applicant"], req["id"]) == [sorted([org["mine"].id, boss.id])]


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
    return {"sara": sara, "tom": auth.person(tom), "team": team, "quiet": quiet, "sales": sales}


def test_the_manager_step_goes_to_the_departments_manager(client, auth, tree):
    applicant = person(auth, "employee", tree["team"])
    req = submit(client, applicant)
    assert req["required_role"] == "manager"
    assert deciders(client, applicant, req["id"]) == [[tree["tom"].id]]


def test_the_manager_step_walks_up_when_the_applicant_is_the_manager(client, tree):
    req = submit(client, tree["tom"])
    assert deciders(client, tree["tom"], req["id"]) == [[tree["sara"].id]]


def test_the_manager_step_goes_to_the_grandparent_when_the_parent_has_no_manager(client, auth, tree):
    sub = make_department("Sub", parent=tree["quiet"])
    applicant = person(auth, "employee", sub)
    req = submit(client, applicant)
    assert deciders(client, applicant, req["id"]) == [[tree["sara"].id]]


def test_no_manager_up_the_tree_refuses_the_submit(client, auth, tree):
    tree["sales"].manager_id = None
    db.session.commit()
    refused = submit(client, person(auth, "employee", tree["quiet"]), expect=422, code="validation_error")
    assert refused["error"]["details"]["step"] == 1 and count(Request) == 0


def test_no_matching_rule_is_a_422(client, org):
    set_rules([{"match": {"kinds": ["dispose"]}, "steps": [APPROVER_HERE]}])
    submit(client, org["applicant"], expect=422, code="validation_error")
    assert count(Request) == 0


def test_a_chain_without_distinct_deciders_is_a_422(client, auth, tree):
    # Manager, then an approver of the department: Sara is both, and nobody else can take either step.
    set_rules([{"match": {}, "steps": [MANAGER, APPROVER_HERE]}])
    applicant = person(auth, "employee", tree["quiet"])
    refused = submit(client, applicant, expect=422, code="validation_error")
    assert refused["error"]["details"] == {"step": 2, "role": "approver"} and count(Request) == 0
    person(auth, "approver", tree["quiet"])  # a second person: now the chain can be decided by two
    submit(client, applicant)


def test_rules_and_managers_changed_while_pending_do_not_change_the_chain(client, auth, tree):
    applicant = person(auth, "employee", tree["team"])
    req = submit(client, applicant)
    newcomer = person(auth, "approver", tree["team"])
    tree["team"].manager_id = newcomer.id
    db.session.commit()
    set_rules([{"match": {}, "steps": [APPROVER_HERE, APPROVER_HERE]}])

    assert detail(client, applicant, req["id"])["steps_total"] == 1
    assert deciders(client, applicant, req["id"]) == [[tree["tom"].id]]
    approve(client, newcomer, req["id"], expect=404, code="not_found")
    assert request_state(req["id"]) == ("pending", 1, 1)
    assert approve(client, tree["tom"], req["id"])["state"] == "approved"
    # A new request follows the new rules and the new manager.
    assert submit(client, applicant)["steps_total"] == 2


def test_the_first_matching_rule_wins(client, org):
    admin_step = {"decider": "role", "role": "admin", "scope": "company"}
    make_user("admin")
    set_rules([
        {"match": {"min_value": "5000"}, "steps": [APPROVER_HERE, admin_step]},
        {"match": {"kinds": ["assign"]}, "steps": [APPROVER_HERE]},
    ])
    applicant = org["applicant"]
    assert submit(client, applicant, asset_id=make_asset(value=6000).id)["steps_total"] == 2  # the first wins
    assert submit(client, applicant, asset_id=make_asset(value=100).id)["steps_total"] == 1


def test_a_rule_naming_a_department_matches_the_departments_below_it(client, auth, tree):
    other = make_department("Elsewhere")
    person(auth, "approver", other)
    set_rules([{"match": {"departments": [tree["sales"].id]}, "steps": [MANAGER]},
               {"match": {}, "steps": [APPROVER_HERE]}])
    below = person(auth, "employee", tree["team"])  # Team is under Sales
    assert submit(client, below)["required_role"] == "manager"
    outside = person(auth, "employee", other)
    assert submit(client, outside)["required_role"] == "approver"


def test_the_request_list_filters_by_department_and_below(client, auth, tree):
    in_team = submit(client, person(auth, "employee", tree["team"]))["id"]
    in_quiet = submit(client, person(auth, "employee", tree["quiet"]))["id"]
    admin_h = auth.headers(make_user("admin"))

    def listed(department_id) -> list[int]:
        response = client.get(f"/api/requests?scope=all&department_id={department_id}", headers=admin_h)
        assert response.status_code == 200, response.get_json()
        return sorted(r["id"] for r in response.get_json()["items"])

    assert listed(tree["sales"].id) == [in_team, in_quiet]
    assert listed(tree["team"].id) == [in_team]
    for path in ("/api/requests", "/api/requests/export.csv"):  # the export refuses before streaming
        bad = assert_refused(client.get(f"{path}?scope=all&department_id=999999", headers=admin_h), 422,
                             "validation_error")
        assert "department_id" in bad["details"]["fields"]


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
    mine_h = org["mine"].headers
    url = f"/api/requests?scope=all&per_page=50&department_id={org['a'].id}"
    submit(client, org["applicant"])
    few = _statements(client, url, mine_h)
    for _ in range(8):
        submit(client, org["applicant"])
    assert client.get(url, headers=mine_h).get_json()["total"] == 9
    assert _statements(client, url, mine_h) == few
