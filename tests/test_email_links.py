"""One-click links: signed, single use, expiring, bound to the request's version, confirmed by POST."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeTimedSerializer

from assetflow.extensions import db
from assetflow.models import Request
from assetflow.services import email_links

from .actions import assert_refused
from .factories import make_asset


@pytest.fixture
def pending(client, people):
    body = {"kind": "assign", "asset_id": make_asset().id, "reason": "I need it"}
    response = client.post("/api/requests", headers=people["alice"].headers, json=body)
    return db.session.get(Request, response.get_json()["id"])


def link(user, req, action="approve") -> str:
    return email_links.sign(user.id, req, action)


def reason_of(response) -> str:
    assert response.status_code == 409, response.get_json()
    return response.get_json()["error"]["details"]["reason"]


def test_preview_changes_nothing_and_confirm_decides_as_the_linked_user(client, people, pending):
    bob = people["bob"].user
    token = link(bob, pending)
    preview = client.post("/api/email-actions/preview", json={"token": token})
    assert preview.status_code == 200
    assert preview.get_json() == {"action": "approve", "user": bob.display_name, "request": {
        "id": pending.id, "kind": "assign", "state": "pending", "step": 1, "steps_total": 1,
        "reason": "I need it", "asset_tag": pending.asset.tag, "applicant": pending.applicant.display_name}}
    assert db.session.get(Request, pending.id).state == "pending"
    confirmed = client.post("/api/email-actions/confirm", json={"token": token})
    assert confirmed.status_code == 200 and confirmed.get_json()["request"]["state"] == "approved"
    db.session.expire_all()
    [decision] = db.session.get(Request, pending.id).decisions
    assert decision.approver_id == bob.id


def test_a_used_link_gets_a_clear_answer_not_an_error(client, people, pending):
    token = link(people["bob"].user, pending)
    assert client.post("/api/email-actions/confirm", json={"token": token}).status_code == 200
    assert reason_of(client.post("/api/email-actions/confirm", json={"token": token})) == "used"
    assert reason_of(client.post("/api/email-actions/preview", json={"token": token})) == "used"


def test_a_link_to_an_older_version_is_stale(client, people, pending):
    token = link(people["bob"].user, pending)
    carol_h = people["carol"].headers
    assert client.post(f"/api/requests/{pending.id}/approve", headers=carol_h, json={}).status_code == 200
    response = client.post("/api/email-actions/confirm", json={"token": token})
    assert reason_of(response) == "stale" and response.get_json()["error"]["details"]["state"] == "approved"


def test_forged_and_expired_links(app, client, people, pending):
    token = link(people["bob"].user, pending)
    assert reason_of(client.post("/api/email-actions/preview", json={"token": token[:-2] + "xx"})) == "invalid"
    forged = URLSafeTimedSerializer("another-secret", salt=email_links.SALT).dumps(
        {"u": people["bob"].user.id, "r": pending.id, "v": pending.version, "a": "approve", "n": "0" * 32})
    assert reason_of(client.post("/api/email-actions/confirm", json={"token": forged})) == "invalid"
    app.config["EMAIL_LINK_HOURS"] = -1  # every link is past its age
    assert reason_of(client.post("/api/email-actions/confirm", json={"token": token})) == "expired"
    assert db.session.get(Request, pending.id).state == "pending"


def test_reject_needs_a_comment_and_the_link_survives_the_refusal(client, people, pending):
    token = link(people["bob"].user, pending, "reject")
    assert_refused(client.post("/api/email-actions/confirm", json={"token": token}), 422, "validation_error")
    assert db.session.get(Request, pending.id).state == "pending"
    response = client.post("/api/email-actions/confirm", json={"token": token, "comment": "Not this quarter"})
    assert response.status_code == 200 and response.get_json()["request"]["state"] == "rejected"


def test_a_link_for_someone_who_may_not_decide_is_refused(client, people, pending):
    token = link(people["erin"].user, pending)  # an employee: never a decider
    assert client.post("/api/email-actions/confirm", json={"token": token}).status_code in (403, 404)
    assert db.session.get(Request, pending.id).state == "pending"


def test_links_are_never_acted_on_by_get(client, people, pending):
    token = link(people["bob"].user, pending)
    assert client.get(f"/api/email-actions/confirm?token={token}").status_code in (404, 405)
    assert db.session.get(Request, pending.id).state == "pending"
