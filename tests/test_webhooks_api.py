"""The webhook admin API: register, validate, switch off, ping, and read the delivery log."""

from __future__ import annotations

import json

import pytest

from assetflow.delivery import worker

from .actions import approve, assert_refused, submit
from .receivers import WebhookReceiver

# A public address (no DNS needed, never called: these tests deliver only to receivers they start).
HOOK = {"url": "http://192.0.32.10:9/hook", "events": ["request.approved", "request.rejected"],
        "secret": "a-secret-of-16-chars+"}


def create(client, headers, **changes):
    return client.post("/api/webhooks", headers=headers, json={**HOOK, **changes})


def test_admin_registers_a_webhook_and_the_secret_is_never_shown(client, people):
    admin_h = people["admin"].headers
    response = create(client, admin_h)
    body = response.get_json()
    assert response.status_code == 201 and "secret" not in body
    assert body["events"] == ["request.approved", "request.rejected"] and body["active"] is True
    listing = client.get("/api/webhooks", headers=admin_h).get_json()
    assert [h["id"] for h in listing["items"]] == [body["id"]] and "request.submitted" in listing["events"]
    assert all("secret" not in item for item in listing["items"])


@pytest.mark.parametrize("changes, field", [
    ({"url": "ftp://example.com/x"}, "url"), ({"url": "not a url"}, "url"), ({"events": []}, "events"),
    ({"events": ["request.exploded"]}, "events"), ({"secret": "short"}, "secret"), ({"active": "yes"}, "active"),
    ({"url": None}, "url"),
])
def test_bad_webhooks_are_refused_with_the_field_named(client, people, changes, field):
    response = create(client, people["admin"].headers, **changes)
    assert field in assert_refused(response, 422, "validation_error")["details"]["fields"]
    assert client.get("/api/webhooks", headers=people["admin"].headers).get_json()["items"] == []


def test_only_admins_manage_webhooks(client, people):
    hook = create(client, people["admin"].headers).get_json()
    for name in ("alice", "bob"):
        headers = people[name].headers
        assert_refused(create(client, headers), 403, "forbidden")
        assert_refused(client.get("/api/webhooks", headers=headers), 403, "forbidden")
        assert_refused(client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=headers), 403, "forbidden")
        assert_refused(client.patch(f"/api/webhooks/{hook['id']}", headers=headers, json={"active": False}), 403,
                       "forbidden")
    assert [(h["id"], h["active"]) for h in client.get("/api/webhooks", headers=people["admin"].headers)
            .get_json()["items"]] == [(hook["id"], True)]


def test_patch_switches_off_and_a_missing_hook_is_404(client, people):
    admin_h = people["admin"].headers
    hook = create(client, admin_h).get_json()
    response = client.patch(f"/api/webhooks/{hook['id']}", headers=admin_h, json={"active": False})
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert_refused(client.patch("/api/webhooks/999", headers=admin_h, json={"active": False}), 404, "not_found")
    assert_refused(client.get("/api/webhooks/999/deliveries", headers=admin_h), 404, "not_found")
    assert [h["id"] for h in client.get("/api/webhooks", headers=admin_h).get_json()["items"]] == [hook["id"]]


def test_ping_is_delivered_and_the_log_shows_each_call(app, loopback_receivers, client, people):
    admin_h = people["admin"].headers
    app.config["DELIVERY_RETRY_SECONDS"] = 0
    with WebhookReceiver([500]) as receiver:
        hook = create(client, admin_h, url=receiver.url).get_json()
        queued = client.post(f"/api/webhooks/{hook['id']}/ping", headers=admin_h)
        assert queued.status_code == 202 and queued.get_json()["state"] == "pending"
        assert worker.run_once().retried == 1
        assert worker.run_once().sent == 1
    [call_500, call_200] = receiver.received
    assert call_500.headers["X-AssetFlow-Event"] == "webhook.ping"
    log = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=admin_h).get_json()
    [delivery] = log["items"]
    assert delivery["id"] == queued.get_json()["id"] == call_200.headers["X-AssetFlow-Delivery"]
    assert delivery["state"] == "sent" and delivery["attempts"] == 2 and delivery["next_attempt_at"] is None
    assert [(c["attempt"], c["status_code"]) for c in delivery["calls"]] == [(1, 500), (2, 200)]


def test_request_changes_reach_subscribed_webhooks_and_a_refused_action_sends_nothing(loopback_receivers, client, people):
    admin_h = people["admin"].headers
    with WebhookReceiver() as receiver:
        create(client, admin_h, url=receiver.url, events=["request.submitted", "request.approved"])
        req = submit(client, people["alice"])
        approve(client, people["bob"], req["id"])
        approve(client, people["bob"], req["id"], expect=409, code="conflict")
        assert worker.run_once().sent == 2
    bodies = [json.loads(call.body) for call in receiver.received]
    assert [(b["event"], b["data"]["state"], b["data"]["action"]) for b in bodies] == [
        ("request.submitted", "pending", "submit"), ("request.approved", "approved", "approve")]
    assert bodies[1]["data"]["actor"] == {"id": people["bob"].user.id, "name": people["bob"].user.display_name}
