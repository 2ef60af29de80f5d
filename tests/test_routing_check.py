"""The routing check: which departments' requests could not be decided today, and why.

The API, the CLI and the pure reachability of rules (workflow/rules.py) that it and the simulator share.
Organisation changes are made through the API, as an admin makes them, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest

from assetflow.extensions import db
from assetflow.models import User
from assetflow.models.request import REQUEST_KINDS
from assetflow.workflow.rules import covers, reachable, shadowed

from .actions import assert_refused, expect_status, submit
from .conftest import Auth
from .factories import make_department, make_user, set_rules
from .test_org_routing import _statements

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department"}
APPROVER_ANYWHERE = {"decider": "role", "role": "approver", "scope": "company"}
ADMIN = {"decider": "role", "role": "admin", "scope": "company"}
ALL_KINDS = list(REQUEST_KINDS)


class Company:
    """Engineering under the root with its approver Bob; an admin at the root."""

    def __init__(self, app):
        self.app, self.client = app, app.test_client()
        self.auth = Auth(self.client)
        self.eng = make_department("Engineering")
        self.bob = make_user("approver", "bob", department=self.eng)
        self.admin = make_user("admin", "admin")
        self.admin_headers = self.auth.headers(self.admin)

    def check(self) -> dict:
        return expect_status(self.client.get("/api/routing-check", headers=self.admin_headers), 200)

    def stuck(self) -> dict[str, list[dict]]:
        """{department code: its problems}."""
        return {item["department"]["code"]: item["problems"] for item in self.check()["items"]}

    def cli(self):
        return self.app.test_cli_runner().invoke(args=["routing-check"])


def test_a_department_whose_only_approver_is_demoted_appears(shared_app):
    company = Company(shared_app)
    set_rules([{"match": {"departments": [company.eng.id]}, "steps": [APPROVER_HERE]}, {"match": {}, "steps": [ADMIN]}])
    assert company.check() == {"items": [], "departments_checked": 2}
    result = company.cli()
    assert result.exit_code == 0, result.output
    assert "every request of the 2 departments can be decided" in result.output

    expect_status(company.client.patch(f"/api/users/{company.bob.id}", headers=company.admin_headers,
                                       json={"role": "employee"}), 200)
    body = company.check()
    assert body["departments_checked"] == 2
    assert body["items"] == [{
        "department": {"id": company.eng.id, "code": company.eng.code, "name": "Engineering"},
        "members": 1,
        "problems": [{"kinds": ALL_KINDS, "rule": 0, "step": 1, "label": "approver",
                      "message": "rule 1, step 1 (approver) has no possible decider"}],
    }]
    result = company.cli()
    assert result.exit_code == 1
    assert f"{company.eng.code} Engineering (1 active users):" in result.output
    assert "rule 1, step 1 (approver) has no possible decider" in result.output
    assert "1 of 2 departments have requests that could not be decided" in result.output


def test_a_user_created_at_the_root_with_no_approver_path_appears(shared_app):
    company = Company(shared_app)
    set_rules([{"match": {}, "steps": [APPROVER_HERE]}])
    # Only the root is stuck, but nobody works there who could ask yet but the admin.
    assert company.stuck() == {"HQ": [{"kinds": ALL_KINDS, "rule": 0, "step": 1, "label": "approver",
                                       "message": "rule 1, step 1 (approver) has no possible decider"}]}
    created = expect_status(company.client.post("/api/users", headers=company.admin_headers, json={
        "username": "erin", "password": "correct horse battery", "role": "employee"}), 201)
    assert created["department"]["id"] == 1
    [root] = company.check()["items"]
    assert root["department"]["code"] == "HQ" and root["members"] == 2
    # What the check predicted is what Erin meets.
    erin = db.session.get(User, created["id"])
    refused = submit(company.client, company.auth.person(erin), expect=422, code="validation_error")
    assert refused["error"]["details"] == {"step": 1, "role": "approver"}
    # Moving her to Engineering fixes her, not the root.
    expect_status(company.client.patch(f"/api/users/{created['id']}", headers=company.admin_headers,
                                       json={"department_id": company.eng.id}), 200)
    assert company.check()["items"][0]["members"] == 1
    submit(company.client, company.auth.person(erin))


def test_four_eyes_a_second_step_with_only_the_first_steps_person_appears(shared_app):
    company = Company(shared_app)
    set_rules([{"match": {"min_value": "5000"}, "steps": [APPROVER_HERE, APPROVER_ANYWHERE]},
               {"match": {}, "steps": [APPROVER_ANYWHERE]}])
    stuck = company.stuck()
    assert stuck[company.eng.code] == [{"kinds": ALL_KINDS, "rule": 0, "step": 2, "label": "approver",
                                        "message": "rule 1, step 2 (approver) has no possible decider"}]
    # The root has no approver of its own: step 1 of the high-value rule.
    assert [(p["rule"], p["step"]) for p in stuck["HQ"]] == [(0, 1)]
    make_user("approver", department=company.eng)
    assert company.stuck() == {"HQ": stuck["HQ"]}


def test_requests_no_rule_applies_to_are_a_problem_by_kind(shared_app):
    company = Company(shared_app)
    set_rules([{"match": {"kinds": ["acquire"]}, "steps": [APPROVER_ANYWHERE]},
               {"match": {"kinds": ["dispose"], "min_value": "100"}, "steps": [ADMIN]}])
    gap = {"kinds": ["assign", "transfer", "repair", "dispose"], "rule": None, "step": None, "label": None,
           "message": "no rule applies to some of these requests (another category or a lower value)"}
    assert company.stuck() == {"HQ": [gap], company.eng.code: [gap]}


def test_a_rule_out_of_reach_is_not_held_against_a_department(shared_app):
    company = Company(shared_app)
    # Rule 2 names a manager nobody has, but rule 1 takes every request first.
    set_rules([{"match": {}, "steps": [APPROVER_ANYWHERE]},
               {"match": {"departments": [company.eng.id]}, "steps": [{"decider": "manager"}]}])
    assert company.stuck() == {}


def test_an_inactive_manager_is_nobody(shared_app):
    company = Company(shared_app)
    lead = make_user("employee", department=company.eng)
    company.eng.manager_id = lead.id
    db.session.commit()
    set_rules([{"match": {"departments": [company.eng.id]}, "steps": [{"decider": "manager"}]},
               {"match": {}, "steps": [ADMIN]}])
    assert company.stuck() == {}
    expect_status(company.client.patch(f"/api/users/{lead.id}", headers=company.admin_headers,
                                       json={"active": False}), 200)
    assert [(p["rule"], p["label"]) for p in company.stuck()[company.eng.code]] == [(0, "manager")]


def test_only_admins_may_run_the_check(client, people):
    for name in ("alice", "bob"):
        assert_refused(client.get("/api/routing-check", headers=people[name].headers), 403, "forbidden")
    assert_refused(client.get("/api/routing-check"), 401, "unauthorized")


def test_the_check_counts_the_same_statements_for_many_departments_as_for_few(app, client, people):
    """One pass: the rules, the organisation, the members and the departments are each read once."""
    set_rules([{"match": {}, "steps": [{"decider": "manager"}]}])  # nobody manages anything: all stuck
    url, headers = "/api/routing-check", people["admin"].headers
    few = _statements(client, url, headers)
    for n in range(30):
        make_department(f"Dept {n}")
    assert len(client.get(url, headers=headers).get_json()["items"]) == 31
    assert _statements(client, url, headers) == few


# The reachability of rules, without an app.

def _path(tree: dict[int, int | None]):
    def path(department: int) -> list[int]:
        found = []
        while department is not None:
            found.append(department)
            department = tree[department]
        return found
    return path


TREE = _path({1: None, 2: 1, 3: 2, 4: 1})  # 3 lies below 2; 4 beside it


@pytest.mark.parametrize(("earlier", "later", "expected"), [
    ({}, {"kinds": ["acquire"]}, True),
    ({"kinds": ["acquire", "assign"]}, {"kinds": ["acquire"]}, True),
    ({"kinds": ["acquire"]}, {"kinds": ["acquire", "assign"]}, False),
    ({"kinds": ["acquire"]}, {}, False),
    ({"categories": ["Laptop"]}, {"categories": ["Laptop"], "min_value": "10"}, True),
    ({"min_value": "100"}, {"min_value": "500.00"}, True),
    ({"min_value": "500"}, {"min_value": "100"}, False),
    ({"min_value": "500"}, {}, False),
    ({"departments": [2]}, {"departments": [3]}, True),
    ({"departments": [3]}, {"departments": [2]}, False),
    ({"departments": [2]}, {"departments": [3, 4]}, False),
    ({"departments": [1]}, {"departments": [3, 4]}, True),
])
def test_a_rule_covers_another_when_it_matches_all_it_would(earlier, later, expected):
    assert covers(earlier, later, TREE) is expected


def test_shadowed_names_the_first_earlier_rule_that_takes_everything():
    rules = [{"match": {"kinds": ["dispose"]}}, {"match": {}}, {"match": {"kinds": ["dispose"]}}, {"match": {}}]
    assert shadowed(rules, TREE) == [(2, 0), (3, 1)]


def test_reachable_rules_of_a_kind_and_department():
    rules = [
        {"match": {"kinds": ["dispose"]}},                      # 0: not for acquire
        {"match": {"min_value": "1000"}},                       # 1: high value
        {"match": {"min_value": "5000"}},                       # 2: covered by 1
        {"match": {"departments": [4]}},                        # 3: another branch
        {"match": {"departments": [2], "categories": ["X"]}},   # 4: reachable from 3
        {"match": {}},                                          # 5: the rest
        {"match": {"kinds": ["acquire"]}},                      # 6: after the rest
    ]
    assert reachable(rules, "acquire", frozenset(TREE(3))) == ([1, 4, 5], True)
    assert reachable(rules, "acquire", frozenset(TREE(4))) == ([1, 3], True)
    assert reachable(rules[:3], "acquire", frozenset(TREE(3))) == ([1], False)
    assert reachable([], "acquire", frozenset({1})) == ([], False)
