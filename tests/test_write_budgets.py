"""Write budgets: each kind of write has a per-user limit; past it, 429 with Retry-After and nothing written."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import redis
import sqlalchemy as sa
from flask_jwt_extended import jwt_required

from assetflow.api.budgets import write_budget
from assetflow.extensions import db, limiter
from assetflow.models import (
    ApiToken,
    ApprovalRuleChange,
    Asset,
    Delegation,
    Department,
    Notification,
    Request,
    RequestEvent,
    User,
    Webhook,
)
from assetflow.services import email_links
from config import WRITE_BUDGETS

from .actions import assert_refused, count, decide, submit, withdraw
from .conftest import QUEUE_URL, Auth, build_app, require_redis
from .factories import PASSWORD, make_asset, make_user

_numbers = itertools.count(1)


def from_now(**offset) -> str:
    return (datetime.now(UTC) + timedelta(**offset)).isoformat()


# Each family: (budget, who writes, a function (client, people) -> write(), and what a write changes).
# write() makes one new, valid write of that family each time it is called.
def _comments(client, people):
    req = submit(client, people["alice"])
    return lambda: client.post(f"/api/requests/{req['id']}/comments", headers=people["alice"].headers,
                               json={"body": "one more thing"})


def _submits(client, people):
    return lambda: client.post("/api/requests", headers=people["alice"].headers,
                               json={"kind": "assign", "asset_id": make_asset().id, "reason": "again"})


def _decisions(client, people):
    pending = [submit(client, people["alice"])["id"] for _ in range(2)]
    return lambda: client.post(f"/api/requests/{pending.pop()}/approve", headers=people["bob"].headers, json={})


def _rules(client, people):
    steps = [{"decider": "role", "role": "admin", "scope": "company"}]
    return lambda: client.put("/api/approval-rules", headers=people["admin"].headers,
                              json={"items": [{"match": {"min_value": next(_numbers)}, "steps": steps}]})


def _users(client, people):
    return lambda: client.post("/api/users", headers=people["admin"].headers,
                               json={"username": f"new{next(_numbers)}", "password": PASSWORD, "role": "employee"})


def _departments(client, people):
    def write():
        code = f"D{next(_numbers)}"
        return client.post("/api/departments", headers=people["admin"].headers, json={"name": code, "code": code})
    return write


def _assets(client, people):
    return lambda: client.post("/api/assets", headers=people["admin"].headers, json={
        "tag": f"AST-{next(_numbers):06d}", "name": "Plotter", "category": "Printer", "value": "10", "location": "HQ"})


def _webhooks(client, people):
    return lambda: client.post("/api/webhooks", headers=people["admin"].headers, json={
        "url": "https://hooks.example.com/assetflow", "events": ["request.approved"], "secret": "a-secret-of-16-chars+"})


def _delegations(client, people):
    stand_ins = [people["carol"].user.id, people["root"].user.id]
    return lambda: client.post("/api/delegations", headers=people["bob"].headers,
                               json={"delegate_id": stand_ins.pop(), "starts_at": from_now(minutes=-1),
                                     "ends_at": from_now(days=1)})


def _preferences(client, people):
    modes = ["digest", "off"]
    return lambda: client.put("/api/me/preferences", headers=people["bob"].headers, json={"email": modes.pop()})


def _notifications(client, people):
    for _ in range(2):
        submit(client, people["alice"])  # two unread notifications for Bob to mark read
    unread = list(db.session.scalars(sa.select(Notification.id).where(Notification.user_id == people["bob"].user.id)))
    return lambda: client.post(f"/api/notifications/{unread.pop()}/read", headers=people["bob"].headers)


def _simulations(client, people):
    return lambda: client.post("/api/approval-rules/simulate", headers=people["alice"].headers,
                               json={"kind": "acquire", "value": "10"})


def _tokens(client, people):
    return lambda: client.post("/api/tokens", headers=people["bob"].headers, json={"name": "ERP", "scopes": ["read"]})


def _imports(client, people):
    def write():
        tag = f"IMP-{next(_numbers)}"
        return client.post("/api/imports/assets?dry_run=0", headers=people["admin"].headers,
                           data={"file": (io.BytesIO(f"tag,name,category,value\n{tag},Desk,Furniture,5\n".encode()),
                                          "a.csv")}, content_type="multipart/form-data")
    return write


FAMILIES: dict[str, tuple[Callable, Callable[[dict], object]]] = {
    "comments": (_comments, lambda people: (count(RequestEvent), count(Notification))),
    "submits": (_submits, lambda people: count(Request)),
    "decisions": (_decisions, lambda people: db.session.scalars(sa.select(Request.state).order_by(Request.id)).all()),
    "rules": (_rules, lambda people: count(ApprovalRuleChange)),
    "users": (_users, lambda people: count(User)),
    "departments": (_departments, lambda people: count(Department)),
    "assets": (_assets, lambda people: count(Asset)),
    "webhooks": (_webhooks, lambda people: count(Webhook)),
    "delegations": (_delegations, lambda people: count(Delegation)),
    "preferences": (_preferences, lambda people: db.session.get(User, people["bob"].user.id).email_mode),
    "notifications": (_notifications, lambda people: db.session.scalar(sa.select(sa.func.count()).where(
        Notification.user_id == people["bob"].user.id, Notification.read_at.is_(None)))),
    # Writes nothing: what is checked is that the 429 comes, and still nothing changed.
    "simulations": (_simulations, lambda people: (count(Request), count(ApprovalRuleChange))),
    "tokens": (_tokens, lambda people: count(ApiToken)),
    "imports": (_imports, lambda people: count(Asset)),
}


def set_budget(app, budget: str, limit: str) -> None:
    """What <BUDGET>_RATE_LIMIT sets, changed on a built app (the limit is read on each request)."""
    app.config["WRITE_BUDGETS"][budget] = limit


def assert_over_budget(response, budget: str) -> None:
    error = assert_refused(response, 429, "rate_limited")
    assert error["details"]["budget"] == budget
    assert 1 <= int(response.headers["Retry-After"]) <= 61 and error["details"]["retry_after"] == int(
        response.headers["Retry-After"])


@pytest.mark.parametrize("budget", FAMILIES)
def test_a_write_past_its_budget_is_429_with_retry_after_and_writes_nothing(app, client, people, budget):
    make_write, state = FAMILIES[budget]
    write = make_write(client, people)
    set_budget(app, budget, "1 per minute")
    first = write()
    assert first.status_code in (200, 201), first.get_json()
    before = state(people)

    assert_over_budget(write(), budget)
    db.session.expire_all()
    assert state(people) == before


def test_every_budget_has_a_family_test_or_is_uploads():
    assert set(WRITE_BUDGETS) == set(FAMILIES) | {"uploads"}


def test_a_budget_is_per_user(app, client, people):
    req = submit(client, people["alice"])
    set_budget(app, "comments", "2 per minute")
    url = f"/api/requests/{req['id']}/comments"
    for _ in range(2):
        assert client.post(url, headers=people["alice"].headers, json={"body": "hi"}).status_code == 201
    assert_over_budget(client.post(url, headers=people["alice"].headers, json={"body": "hi"}), "comments")
    # Bob, from the same address, still has his own budget.
    assert client.post(url, headers=people["bob"].headers, json={"body": "hello"}).status_code == 201


def test_decisions_share_one_budget_across_buttons_bulk_and_email_links(app, client, people):
    bob = people["bob"]
    first, second, third = (submit(client, people["alice"]) for _ in range(3))
    set_budget(app, "decisions", "2 per minute")
    decide(client, bob, first["id"], "approve")
    bulk = client.post("/api/requests/bulk-approve", headers=bob.headers, json={"ids": [second["id"]]})
    assert bulk.status_code == 200, bulk.get_json()
    link = email_links.sign(bob.id, db.session.get(Request, third["id"]), "approve")
    assert_over_budget(client.post("/api/email-actions/confirm", json={"token": link, "comment": ""}), "decisions")
    db.session.expire_all()
    assert db.session.get(Request, third["id"]).state == "pending"


def test_an_email_link_of_another_user_spends_that_users_budget(app, client, people):
    req = submit(client, people["alice"])
    set_budget(app, "decisions", "1 per minute")
    carol_link = email_links.sign(people["carol"].user.id, db.session.get(Request, req["id"]), "approve")
    withdraw(client, people["alice"], req["id"])
    # Alice's budget is spent; Carol's link is Carol's: it is refused for being stale, not limited.
    response = client.post("/api/email-actions/confirm", json={"token": carol_link, "comment": ""})
    assert_refused(response, 409, "link_unusable")
    assert db.session.get(Request, req["id"]).state == "withdrawn"


def test_a_malformed_budget_setting_stops_the_start():
    with pytest.raises(RuntimeError, match=r"COMMENTS_RATE_LIMIT must be a limit"):
        build_app(COMMENTS_RATE_LIMIT="thirty a minute")
    app = build_app(COMMENTS_RATE_LIMIT=" 5 per minute;100 per hour ")
    assert app.config["WRITE_BUDGETS"]["comments"] == "5 per minute;100 per hour"


def test_uploads_is_a_budget_ready_for_the_attachment_endpoints():
    app = build_app(UPLOADS_RATE_LIMIT="1 per minute")

    @app.post("/api/test-upload")
    @jwt_required()
    @write_budget("uploads")
    def upload():
        return {"stored": True}, 201

    with app.app_context():
        headers = Auth(app.test_client()).headers(make_user("employee"))
        client = app.test_client()
        assert client.post("/api/test-upload", headers=headers).status_code == 201
        assert_over_budget(client.post("/api/test-upload", headers=headers), "uploads")
    with pytest.raises(KeyError, match="no write budget 'upload'"):
        write_budget("upload")


def test_the_openapi_document_lists_429_on_budgeted_writes(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "429" in paths["/api/requests/{request_id}/comments"]["post"]["responses"]
    assert "429" in paths["/api/email-actions/confirm"]["post"]["responses"]
    assert "429" not in paths["/api/requests"]["get"]["responses"]


def test_the_budget_is_shared_across_apps_through_redis(tmp_path):
    """Two app instances (as two server processes would be) on one database and one Redis share a budget."""
    require_redis()
    storage = QUEUE_URL.rsplit("/", 1)[0] + "/13"  # a database of its own: the test empties it first
    redis.Redis.from_url(storage).flushdb()
    settings = {"RATELIMIT_STORAGE_URI": storage, "COMMENTS_RATE_LIMIT": "2 per minute"}
    uri = f"sqlite:///{tmp_path / 'shared.db'}"
    first = build_app(uri, **settings)
    with first.app_context():
        alice = make_user("employee", "alice")
        make_user("approver", "bob")
        applicant = Auth(first.test_client()).person(alice)
        headers = applicant.headers
        req = submit(first.test_client(), applicant)
        url = f"/api/requests/{req['id']}/comments"
        for _ in range(2):
            assert first.test_client().post(url, headers=headers, json={"body": "hi"}).status_code == 201
        db.session.remove()
    assert redis.Redis.from_url(storage).keys("*budget:comments*")  # the count lives in Redis

    # A second instance, with its own connection to the limiter's storage, finds the budget spent.
    second = _app_on_existing(uri, **settings)
    assert limiter.storage is not None and type(limiter.storage).__name__ == "RedisStorage"
    with second.app_context():
        assert_over_budget(second.test_client().post(url, headers=headers, json={"body": "hi"}), "comments")
        assert db.session.scalar(sa.select(sa.func.count()).where(RequestEvent.action == "comment")) == 2
        db.session.remove()
    # The control: an instance counting in its own memory starts from zero (why production needs Redis).
    alone = _app_on_existing(uri, **{**settings, "RATELIMIT_STORAGE_URI": "memory://"})
    with alone.app_context():
        assert alone.test_client().post(url, headers=headers, json={"body": "hi"}).status_code == 201
        db.session.remove()


def _app_on_existing(uri: str, **settings):
    """A second app instance on the same database (build_app would empty it)."""
    from assetflow import create_app
    from config import TestingConfig

    return create_app(type("SecondInstance", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": uri, **settings}))
