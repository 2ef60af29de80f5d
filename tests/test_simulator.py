"""The rule simulator: where a request would go, by the same route() as submit, writing nothing."""

from __future__ import annotations

import pytest

from assetflow.models import ApprovalRule, ApprovalRuleChange, Request

from .actions import assert_refused, count, detail, expect_status, submit
from .conftest import Auth
from .factories import make_asset, make_department, make_user, set_rules

SIMULATE = "/api/approval-rules/simulate"
APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
APPROVER_ANYWHERE = {"decider": "role", "role": "approver", "scope": "company"}
ADMIN = {"decider": "role", "role": "admin", "scope": "company"}
MANAGER = {"decider": "manager"}


def simulate(client, person, expect: int = 200, code: str | None = None, **body) -> dict:
    return expect_status(client.post(SIMULATE, headers=person.headers, json=body), expect, code)


def people_of(simulation: dict) -> list[list[int]]:
    return [[p["id"] for p in step["people"]] for step in simulation["steps"]]


@pytest.fixture
def org(app, auth):
    """Engineering (managed by Erik) with Alice and its approver Bob; Dana, an approver elsewhere; an admin."""
    eng = make_department("Engineering")
    erik = make_user("approver", "erik", department=eng)
    eng.manager_id = erik.id
    users = {"alice": make_user("employee", "alice", department=eng), "erik": erik,
             "bob": make_user("approver", "bob", department=eng),
             "dana": make_user("approver", "dana", department=make_department("Sales")),
             "admin": make_user("admin", "admin")}
    return {"eng": eng, **{name: auth.person(user) for name, user in users.items()}}


def test_an_employee_sees_the_rule_and_each_steps_people_by_name(client, org):
    set_rules([{"match": {"min_value": "5000"}, "steps": [MANAGER, ADMIN]}, {"match": {}, "steps": [APPROVER_HERE]}])
    body = simulate(client, org["alice"], kind="acquire", value="6000.00", currency="CNY", category="Laptop")
    assert body["rule"] == {"index": 0, "match": {"min_value": "5000"}}
    assert body["steps"] == [
        {"step": 1, "decider": "manager", "role": None, "scope": None, "label": "manager",
         "people": [{"id": org["erik"].id, "display_name": org["erik"].user.display_name}]},
        {"step": 2, "decider": "role", "role": "admin", "scope": "company", "label": "admin",
         "people": [{"id": org["admin"].id, "display_name": org["admin"].user.display_name}]},
    ]
    assert body["problems"] == []
    assert body["applicant"]["id"] == org["alice"].id and body["department"]["id"] == org["eng"].id
    low = simulate(client, org["alice"], kind="acquire", value="10")
    assert low["rule"]["index"] == 1 and people_of(low) == [[org["erik"].id, org["bob"].id]]
    # No value routes as 0.
    assert simulate(client, org["alice"], kind="acquire")["rule"]["index"] == 1


def test_the_applicant_is_left_out_and_a_step_with_nobody_is_the_submit_refusal(client, org):
    set_rules([{"match": {}, "steps": [MANAGER]}])
    body = simulate(client, org["erik"], kind="acquire", value="10")  # Erik manages his own department
    assert people_of(body) == [[]]
    [problem] = body["problems"]
    refusal = submit(client, org["erik"], "acquire", value="10", name="Desk", category="Furniture",
                     expect=422, code="validation_error")
    assert problem == {"code": "no_decider", "step": 1, "label": "manager", "message": refusal["error"]["message"]}


def test_no_rule_is_a_problem_and_no_steps(client, org):
    set_rules([{"match": {"kinds": ["dispose"]}, "steps": [ADMIN]}])
    body = simulate(client, org["alice"], kind="acquire", value="10")
    assert body["rule"] is None and body["steps"] == []
    assert [p["code"] for p in body["problems"]] == ["no_rule"]


def test_an_asset_routes_by_its_own_category_and_value(client, org):
    set_rules([{"match": {"categories": ["Vehicle"]}, "steps": [ADMIN]}, {"match": {}, "steps": [MANAGER]}])
    van = make_asset(category="Vehicle", value=90000)
    assert simulate(client, org["alice"], kind="assign", asset_id=van.id)["rule"]["index"] == 0
    assert simulate(client, org["alice"], kind="assign", asset_id=make_asset().id)["rule"]["index"] == 1
    error = assert_refused(client.post(SIMULATE, headers=org["alice"].headers, json={
        "kind": "assign", "asset_id": van.id, "category": "Laptop"}), 422, "validation_error")
    assert list(error["details"]["fields"]) == ["asset_id"]
    error = assert_refused(client.post(SIMULATE, headers=org["alice"].headers, json={
        "kind": "assign", "asset_id": 999999}), 422, "validation_error")
    assert list(error["details"]["fields"]) == ["asset_id"]


def test_others_than_admins_simulate_only_their_own_request_under_the_saved_rules(client, org):
    alice, headers = org["alice"], org["alice"].headers
    draft = [{"match": {}, "steps": [ADMIN]}]
    for body, why in (({"applicant_id": org["bob"].id}, "own request"), ({"rules": draft}, "draft rules"),
                      ({"department_id": 1}, "own department")):
        error = assert_refused(client.post(SIMULATE, headers=headers, json={"kind": "acquire", **body}),
                               403, "forbidden")
        assert why in error["message"]
    # Naming themselves and their own department is allowed; it is still their own request (they are left out).
    simulate(client, alice, kind="acquire", applicant_id=alice.id, department_id=org["eng"].id)
    own = simulate(client, org["bob"], kind="acquire", department_id=org["eng"].id)
    assert own["applicant"]["id"] == org["bob"].id and org["bob"].id not in people_of(own)[0]
    # An approver is no admin either.
    assert_refused(client.post(SIMULATE, headers=org["bob"].headers, json={"kind": "acquire", "rules": draft}),
                   403, "forbidden")


def test_an_admin_tries_a_draft_for_anyone_and_nothing_is_saved(client, org):
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    saved = simulate(client, org["admin"], kind="acquire", value="10", applicant_id=org["alice"].id)
    assert saved["rule"]["index"] == 0 and people_of(saved) == [[org["erik"].id, org["bob"].id]]
    draft = [{"match": {"kinds": ["acquire"]}, "steps": [MANAGER, {**APPROVER_ANYWHERE, "scope": None}]},
             {"match": {}, "steps": [APPROVER_HERE]}]
    tried = simulate(client, org["admin"], kind="acquire", value="10", applicant_id=org["alice"].id, rules=draft)
    assert tried["rule"] == {"index": 0, "match": {"kinds": ["acquire"]}}
    # As saving would store it: the scope spelled out.
    assert [s["scope"] for s in tried["steps"]] == [None, "company"]
    assert people_of(tried) == [[org["erik"].id], [org["erik"].id, org["bob"].id, org["dana"].id]]
    assert count(ApprovalRule) == 1 and count(ApprovalRuleChange) == 0 and count(Request) == 0


def test_an_admin_simulates_a_newcomer_of_a_department(client, org):
    set_rules([{"match": {}, "steps": [MANAGER]}])
    # A newcomer of Engineering is not Erik: Erik decides. Erik himself would need a manager above.
    newcomer = simulate(client, org["admin"], kind="acquire", department_id=org["eng"].id)
    assert newcomer["applicant"] is None and people_of(newcomer) == [[org["erik"].id]]
    erik = simulate(client, org["admin"], kind="acquire", applicant_id=org["erik"].id)
    assert people_of(erik) == [[]]
    # An applicant with another department: what if Alice moved to the root?
    moved = simulate(client, org["admin"], kind="acquire", applicant_id=org["alice"].id, department_id=1)
    assert moved["department"] == {"id": 1, "name": "Company"} and people_of(moved) == [[]]


def test_an_admin_sees_what_is_wrong_with_the_list(client, org):
    draft = [{"match": {}, "steps": [APPROVER_ANYWHERE]},
             {"match": {"kinds": ["dispose"]}, "steps": [ADMIN]},
             {"match": {"kinds": ["acquire"], "min_value": "5000"}, "steps": [APPROVER_HERE]}]
    body = simulate(client, org["admin"], kind="acquire", rules=draft)
    assert [(p["code"], p.get("rule"), p.get("by")) for p in body["problems"]] == [
        ("shadowed", 1, 0), ("shadowed", 2, 0)]
    draft = [{"match": {"min_value": "5000"}, "steps": [APPROVER_HERE]}, {"match": {}, "steps": [ADMIN]}]
    [nobody] = simulate(client, org["admin"], kind="acquire", department_id=org["eng"].id, rules=draft)["problems"]
    assert nobody["code"] == "nobody" and (nobody["rule"], nobody["step"], nobody["label"]) == (0, 1, "approver")
    # Engineering and Sales have approvers of their own; the root has none.
    assert nobody["departments"] == [{"id": 1, "name": "Company"}]
    # The list's problems are the admin's to fix: an employee sees only their request's.
    set_rules(draft)
    assert simulate(client, org["alice"], kind="acquire")["problems"] == []


@pytest.mark.parametrize(("field", "body"), [
    ("department_id", {"department_id": 999999}),
    ("applicant_id", {"applicant_id": 999999}),
    ("rules.0.steps.0.role", {"rules": [{"match": {}, "steps": [{"decider": "role"}]}]}),
    ("rules.0.match.departments", {"rules": [{"match": {"departments": [999999]}, "steps": [ADMIN]}]}),
    ("kind", {"kind": "borrow"}),
    ("value", {"value": "-1"}),
    ("currency", {"currency": "yuan"}),
])
def test_bad_input_is_a_422_naming_the_field(client, org, field, body):
    error = assert_refused(client.post(SIMULATE, headers=org["admin"].headers, json={"kind": "acquire", **body}),
                           422, "validation_error")
    assert field in error["details"]["fields"], error


CHAINS = {
    "manager then admin": [MANAGER, ADMIN],
    "department approvers": [APPROVER_HERE],
    "approvers anywhere, twice": [APPROVER_ANYWHERE, APPROVER_ANYWHERE],
}


@pytest.mark.parametrize("steps", CHAINS.values(), ids=CHAINS.keys())
def test_what_simulate_says_is_what_submit_then_freezes(shared_app, steps):
    client = shared_app.test_client()
    auth = Auth(client)
    eng = make_department("Engineering")
    manager = make_user("approver", department=eng)
    eng.manager_id = manager.id
    applicant = auth.person(make_user("employee", department=eng))
    for department in (eng, make_department("Sales"), None):
        make_user("approver", department=department)
    make_user("admin")
    set_rules([{"match": {"kinds": ["dispose"]}, "steps": [ADMIN]}, {"match": {}, "steps": steps}])
    asset = make_asset()
    predicted = simulate(client, applicant, kind="assign", asset_id=asset.id)
    assert predicted["problems"] == [] and predicted["rule"]["index"] == 1
    created = submit(client, applicant, asset_id=asset.id)
    frozen = detail(client, applicant, created["id"])["steps"]
    assert [[d["id"] for d in step["deciders"]] for step in frozen] == people_of(predicted)
    assert [step["label"] for step in frozen] == [step["label"] for step in predicted["steps"]]
