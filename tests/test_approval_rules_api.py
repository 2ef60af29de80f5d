"""Approval rules: read, replace (validated, audited, race-safe), the audit, and routing by the new list."""

from __future__ import annotations

import pytest

from assetflow.extensions import db
from assetflow.models import ApprovalRule, ApprovalRuleChange

from .actions import assert_refused
from .conftest import Auth
from .factories import make_asset, make_user
from .races import race

ADMIN_ONLY = [{"match": {}, "steps": [{"decider": "role", "role": "admin", "scope": "company"}]}]
STEP = {"decider": "role", "role": "approver"}


def put(client, headers, items):
    return client.put("/api/approval-rules", headers=headers, json={"items": items})


def test_approvers_and_admins_read_the_defaults_until_a_list_is_saved(client, people):
    for name in ("bob", "admin"):
        body = client.get("/api/approval-rules", headers=people[name].headers).get_json()
        assert body["default"] is True and body["updated_at"] is None and body["updated_by"] is None
        assert body["items"][0]["match"] == {"kinds": ["dispose"]}
        assert [len(rule["steps"]) for rule in body["items"]] == [2, 2, 1]
    assert_refused(client.get("/api/approval-rules", headers=people["alice"].headers), 403, "forbidden")


def test_a_replacement_is_stored_normalised_audited_and_returned(client, people):
    admin, headers = people["admin"].user, people["admin"].headers
    items = [
        {"match": {"kinds": ["dispose"], "min_value": 5000}, "steps": [
            {"decider": "manager", "remind_after_hours": 24, "escalate_after_hours": 72, "escalate_to": "admin"},
            {"decider": "role", "role": "admin", "scope": None}]},
        {"steps": [STEP]},
    ]
    response = put(client, headers, items)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["default"] is False and body["updated_by"] == {"id": admin.id, "display_name": admin.display_name}
    assert body["items"] == [
        {"match": {"kinds": ["dispose"], "min_value": "5000.00"}, "steps": [
            {"decider": "manager", "remind_after_hours": 24.0, "escalate_after_hours": 72.0, "escalate_to": "admin"},
            {"decider": "role", "role": "admin", "scope": "company"}]},
        {"match": {}, "steps": [{"decider": "role", "role": "approver", "scope": "company"}]},
    ]
    assert client.get("/api/approval-rules", headers=people["bob"].headers).get_json() == body
    changes = client.get("/api/approval-rules/changes", headers=headers).get_json()
    assert changes["total"] == 1
    change = changes["items"][0]
    assert [len(r["steps"]) for r in change["before"]] == [2, 2, 1] and change["after"] == body["items"]
    assert change["actor"]["id"] == admin.id
    assert [r.position for r in db.session.query(ApprovalRule).order_by(ApprovalRule.position)] == [0, 1]


def test_the_audit_lists_the_newest_change_first(client, people):
    headers = people["admin"].headers
    put(client, headers, ADMIN_ONLY)
    put(client, headers, [{"match": {}, "steps": [STEP]}])
    items = client.get("/api/approval-rules/changes", headers=headers).get_json()["items"]
    assert [i["after"][0]["steps"][0]["role"] for i in items] == ["approver", "admin"]
    assert items[0]["before"] == items[1]["after"]


def test_only_admins_replace_or_read_the_audit(client, people):
    bob = people["bob"].headers
    assert_refused(put(client, bob, ADMIN_ONLY), 403, "forbidden")
    assert_refused(client.get("/api/approval-rules/changes", headers=bob), 403, "forbidden")
    assert db.session.query(ApprovalRule).count() == 0
    assert db.session.query(ApprovalRuleChange).count() == 0


def rule(**step):
    return {"match": {}, "steps": [{**STEP, **step}]}


@pytest.mark.parametrize(("items", "field"), [
    ([], "items"),
    ([rule()] * 101, "items"),
    ([{"match": {}, "steps": []}], "items.0.steps"),
    ([{"match": {}, "steps": [STEP] * 11}], "items.0.steps"),
    ([{"match": {}}], "items.0.steps"),
    ([rule(), rule(decider="boss")], "items.1.steps.0.decider"),
    ([rule(), {"match": {}, "steps": [STEP, {"decider": "role"}]}], "items.1.steps.1.role"),
    ([rule(role="employee")], "items.0.steps.0.role"),
    ([rule(decider="manager")], "items.0.steps.0.role"),  # a manager step names no role
    ([rule(scope="team")], "items.0.steps.0.scope"),
    ([rule(remind_after_hours=0)], "items.0.steps.0.remind_after_hours"),
    ([rule(remind_after_hours=-1)], "items.0.steps.0.remind_after_hours"),
    ([rule(remind_after_hours=8761)], "items.0.steps.0.remind_after_hours"),
    ([rule(remind_after_hours="soon")], "items.0.steps.0.remind_after_hours"),
    ([rule(remind_after_hours=10, escalate_after_hours=10, escalate_to="admin")],
     "items.0.steps.0.escalate_after_hours"),
    ([rule(escalate_after_hours=10)], "items.0.steps.0.escalate_to"),
    ([rule(escalate_to="admin")], "items.0.steps.0.escalate_after_hours"),
    ([rule(escalate_after_hours=10, escalate_to="employee")], "items.0.steps.0.escalate_to"),
    ([rule(colour="red")], "items.0.steps.0.colour"),
    ([{"match": {"kinds": ["steal"]}, "steps": [STEP]}], "items.0.match.kinds.0"),
    ([{"match": {"kinds": []}, "steps": [STEP]}], "items.0.match.kinds"),
    ([{"match": {"categories": [""]}, "steps": [STEP]}], "items.0.match.categories.0"),
    ([{"match": {"departments": [999]}, "steps": [STEP]}], "items.0.match.departments"),
    ([{"match": {"departments": [1.5]}, "steps": [STEP]}], "items.0.match.departments.0"),
    ([{"match": {"min_value": "1e3"}, "steps": [STEP]}], "items.0.match.min_value"),
    ([{"match": {"min_value": "-5"}, "steps": [STEP]}], "items.0.match.min_value"),
    ([{"match": {"owner": 1}, "steps": [STEP]}], "items.0.match.owner"),
    ([{"match": {}, "steps": [STEP], "name": "x"}], "items.0.name"),
    ("all", "items"),
])
def test_every_invalid_list_is_a_422_keyed_by_the_field_path(client, people, items, field):
    response = put(client, people["admin"].headers, items)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]["fields"], response.get_json()
    assert db.session.query(ApprovalRule).count() == 0 and db.session.query(ApprovalRuleChange).count() == 0


def test_an_unknown_top_level_key_is_refused(client, people):
    response = client.put("/api/approval-rules", headers=people["admin"].headers, json={"items": ADMIN_ONLY, "x": 1})
    assert response.status_code == 422 and "x" in response.get_json()["error"]["details"]["fields"]


def test_a_submit_after_a_replacement_routes_by_the_new_rules(client, people):
    alice = people["alice"].headers
    first = client.post("/api/requests", headers=alice, json={"kind": "assign", "asset_id": make_asset().id,
                                                              "reason": "before"}).get_json()
    assert first["required_role"] == "approver"
    assert put(client, people["admin"].headers, ADMIN_ONLY).status_code == 200
    second = client.post("/api/requests", headers=alice, json={"kind": "assign", "asset_id": make_asset().id,
                                                               "reason": "after"}).get_json()
    assert (second["required_role"], second["steps_total"]) == ("admin", 1)
    # The pending request keeps the chain it was submitted with.
    assert client.get(f"/api/requests/{first['id']}", headers=alice).get_json()["required_role"] == "approver"


def test_two_simultaneous_replacements_never_interleave(shared_app):
    headers = Auth(shared_app.test_client()).headers(make_user("admin"))
    lists = [[rule(role=role)] * size for role, size in (("approver", 3), ("admin", 2))]
    wins = 0
    for _ in range(5):  # from the defaults (an empty table), then from stored lists
        statuses = race(shared_app, [("PUT", "/api/approval-rules", headers, {"items": items}) for items in lists])
        assert sorted(statuses) == [200, 409], statuses  # both read the same list: one lands
        db.session.expire_all()
        stored = [(r.position, r.steps[0]["role"]) for r in db.session.query(ApprovalRule).order_by(ApprovalRule.position)]
        assert stored in ([(0, "approver"), (1, "approver"), (2, "approver")], [(0, "admin"), (1, "admin")]), stored
        wins += statuses.count(200)
    assert db.session.query(ApprovalRuleChange).count() == wins  # an audit row for each replacement that landed
