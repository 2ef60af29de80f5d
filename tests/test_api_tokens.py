"""API tokens through the API: each scope, the owner's role as a ceiling, death with the owner, expiry,
revocation, sockets refused, and a rate limit per token (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_socketio import SocketIOTestClient

from assetflow.auth.scopes import WRITE_SCOPES, needed_scope
from assetflow.extensions import db, socketio
from assetflow.models import ApiToken, Asset, Request, User
from assetflow.models.base import utcnow

from .actions import assert_refused, submit
from .conftest import app_on
from .factories import PASSWORD, make_asset


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


def make_token(client, person, *scopes: str, **fields) -> str:
    """A new token of the person's with these scopes; its secret."""
    response = client.post("/api/tokens", headers=person.headers, json={"name": "ERP", "scopes": list(scopes),
                                                                        **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["secret"]


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


NEW_ASSET = {"tag": "ERP-1", "name": "Plotter", "category": "Printer", "value": "10"}


def new_user() -> dict:
    return {"username": f"u{count(User)}", "password": PASSWORD, "role": "employee"}


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(client, people):
    secret = make_token(client, people["alice"], "read")
    assert secret.startswith("af_") and len(secret) >= 3 + 43  # 32 random bytes, base64url
    row = db.session.scalar(sa.select(ApiToken))
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {row.name, row.prefix, row.scopes} and secret.startswith(row.prefix)
    listed = client.get("/api/tokens", headers=people["alice"].headers).get_json()["items"]
    assert [set(item) for item in listed] == [{"id", "name", "scopes", "prefix", "created_at", "expires_at",
                                               "last_used_at"}]
    assert secret not in str(listed)
    assert client.get("/api/tokens", headers=people["bob"].headers).get_json()["items"] == []  # only one's own


@pytest.mark.parametrize(("role", "refused"), [("employee", "assets:write"), ("employee", "admin"),
                                               ("approver", "assets:write"), ("approver", "admin")])
def test_a_token_never_gets_a_scope_beyond_its_owners_role(client, people, role, refused):
    person = next(p for p in people.values() if p.user.role == role)
    response = client.post("/api/tokens", headers=person.headers, json={"name": "x", "scopes": ["read", refused]})
    error = assert_refused(response, 422, "validation_error")
    assert refused in error["details"]["fields"]["scopes"][0]
    assert count(ApiToken) == 0


@pytest.mark.parametrize("body", [{"name": "x", "scopes": []}, {"name": "x", "scopes": ["write"]},
                                  {"name": " ", "scopes": ["read"]}, {"scopes": ["read"]},
                                  {"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"},
                                  {"name": "x", "scopes": ["read"], "expires_at": "2030-01-01T00:00:00"}])
def test_a_bad_token_request_is_422_and_makes_nothing(client, people, body):
    assert_refused(client.post("/api/tokens", headers=people["admin"].headers, json=body), 422, "validation_error")
    assert count(ApiToken) == 0


def test_read_reads_what_its_owner_may_and_writes_nothing(client, people):
    alice = people["alice"]
    mine = submit(client, alice)
    others = submit(client, people["erin"])
    secret = make_token(client, alice, "read")
    listed = client.get("/api/requests", headers=bearer(secret)).get_json()["items"]
    assert [item["id"] for item in listed] == [mine["id"]]  # what alice sees, not erin's request
    assert_refused(client.get(f"/api/requests/{others['id']}", headers=bearer(secret)), 404, "not_found")
    before = count(Request)
    error = assert_refused(client.post("/api/requests", headers=bearer(secret), json={
        "kind": "assign", "asset_id": make_asset().id, "reason": "x"}), 403, "insufficient_scope")
    assert error["details"] == {"required": "requests:write", "scopes": ["read"]}
    assert_refused(client.post(f"/api/requests/{mine['id']}/withdraw", headers=bearer(secret), json={}),
                   403, "insufficient_scope")
    assert count(Request) == before
    assert db.session.get(Request, mine["id"]).state == "pending"


def test_requests_write_submits_and_decides_within_the_role(client, people):
    alice_token = make_token(client, people["alice"], "requests:write")
    created = client.post("/api/requests", headers=bearer(alice_token),
                          json={"kind": "assign", "asset_id": make_asset().id, "reason": "for the ERP"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["applicant"]["id"] == people["alice"].id
    bob_token = make_token(client, people["bob"], "requests:write")
    decided = client.post(f"/api/requests/{created.get_json()['id']}/approve", headers=bearer(bob_token), json={})
    assert decided.status_code == 200, decided.get_json()
    # The role still rules: alice's token cannot approve, whatever its scope.
    other = submit(client, people["erin"])
    assert_refused(client.post(f"/api/requests/{other['id']}/approve", headers=bearer(alice_token), json={}),
                   404, "not_found")


def test_an_admins_token_writes_only_the_parts_its_scopes_name(client, people):
    admin = people["admin"]
    requests_only = make_token(client, admin, "requests:write")
    assets = make_token(client, admin, "assets:write")
    administer = make_token(client, admin, "admin")

    assert_refused(client.post("/api/assets", headers=bearer(requests_only), json=NEW_ASSET), 403,
                   "insufficient_scope")
    assert_refused(client.post("/api/users", headers=bearer(assets), json=new_user()), 403, "insufficient_scope")
    assert_refused(client.post("/api/assets", headers=bearer(administer), json=NEW_ASSET), 403, "insufficient_scope")
    assert count(Asset) == 0 and count(User) == len(people)

    assert client.post("/api/assets", headers=bearer(assets), json=NEW_ASSET).status_code == 201
    assert client.post("/api/users", headers=bearer(administer), json=new_user()).status_code == 201
    assert count(Asset) == 1 and count(User) == len(people) + 1


def test_only_a_person_signed_in_makes_or_revokes_tokens_or_changes_preferences(client, people):
    admin = people["admin"]
    secret = make_token(client, admin, *WRITE_SCOPES_ALL)
    own_id = db.session.scalar(sa.select(ApiToken.id))
    for method, url, body in [("post", "/api/tokens", {"name": "more", "scopes": ["read"]}),
                              ("delete", f"/api/tokens/{own_id}", None),
                              ("put", "/api/me/preferences", {"email": "off"}),
                              ("post", "/api/auth/logout", {})]:
        response = getattr(client, method)(url, headers=bearer(secret), json=body)
        assert assert_refused(response, 403, "insufficient_scope")["details"] == {"required": None}, url
    assert_refused(client.post("/api/auth/refresh", headers=bearer(secret)), 401, "unauthorized")
    assert count(ApiToken) == 1 and db.session.scalar(sa.select(ApiToken.revoked_at)) is None


WRITE_SCOPES_ALL = ("read", "requests:write", "assets:write", "admin")


def test_every_write_route_declares_its_scope_or_is_closed_to_tokens(app):
    """The routes a token may never write through are exactly these; any other write names a scope."""
    closed = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}:
            if needed_scope(method, view) is None:
                closed.add(f"{method} {rule.rule}")
    assert closed == {"POST /api/auth/login", "POST /api/auth/refresh", "POST /api/auth/logout",
                      "POST /api/tokens", "DELETE /api/tokens/<id:token_id>", "PUT /api/me/preferences",
                      "POST /api/email-actions/preview",  # (confirm spends the decisions budget; it takes no bearer)
                      "POST /api/auth/oidc/session", "POST /api/auth/break-glass"}  # sign-ins: no bearer either
    # `read` spends one budget: the rule simulator, a POST that writes nothing.
    assert {scope for scope in WRITE_SCOPES.values() if scope} == {"read", "requests:write", "assets:write", "admin"}


def test_a_token_dies_with_its_owners_deactivation_for_good(client, people):
    alice = people["alice"]
    secret = make_token(client, alice, "read")
    assert client.get("/api/requests", headers=bearer(secret)).status_code == 200
    admin = people["admin"].headers
    assert client.patch(f"/api/users/{alice.id}", headers=admin, json={"active": False}).status_code == 200
    assert_refused(client.get("/api/requests", headers=bearer(secret)), 401, "unauthorized")
    assert client.patch(f"/api/users/{alice.id}", headers=admin, json={"active": True}).status_code == 200
    assert_refused(client.get("/api/requests", headers=bearer(secret)), 401, "unauthorized")
    assert db.session.scalar(sa.select(ApiToken.revoked_at)) is not None


def test_a_role_drop_ends_the_tokens_it_no_longer_allows_and_keeps_the_others(client, people):
    root = people["root"]
    reader = make_token(client, root, "read")
    administer = make_token(client, root, "read", "admin")
    response = client.patch(f"/api/users/{root.id}", headers=people["admin"].headers, json={"role": "approver"})
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/assets", headers=bearer(reader)).status_code == 200
    assert_refused(client.get("/api/assets", headers=bearer(administer)), 401, "unauthorized")
    client.patch(f"/api/users/{root.id}", headers=people["admin"].headers, json={"role": "admin"})
    assert_refused(client.get("/api/assets", headers=bearer(administer)), 401, "unauthorized")


def test_a_role_set_outside_the_users_service_still_caps_the_token(client, people):
    root = people["root"]
    secret = make_token(client, root, "admin")
    db.session.execute(sa.update(User).where(User.id == root.id).values(role="employee"))
    db.session.commit()
    error = assert_refused(client.get("/api/assets", headers=bearer(secret)), 401, "unauthorized")
    assert "exceed its owner's role" in error["message"]


def test_an_expired_token_is_refused(client, people):
    secret = make_token(client, people["alice"], "read", expires_at=(utcnow() + timedelta(hours=1)).isoformat())
    assert client.get("/api/assets", headers=bearer(secret)).status_code == 200
    db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    error = assert_refused(client.get("/api/assets", headers=bearer(secret)), 401, "unauthorized")
    assert "expired" in error["message"]


def test_a_revoked_token_is_refused_and_only_its_owner_revokes_it(client, people):
    alice = people["alice"]
    secret = make_token(client, alice, "read")
    token_id = db.session.scalar(sa.select(ApiToken.id))
    assert_refused(client.delete(f"/api/tokens/{token_id}", headers=people["admin"].headers), 404, "not_found")
    assert client.get("/api/assets", headers=bearer(secret)).status_code == 200
    assert client.delete(f"/api/tokens/{token_id}", headers=alice.headers).status_code == 204
    assert_refused(client.get("/api/assets", headers=bearer(secret)), 401, "unauthorized")
    assert_refused(client.delete(f"/api/tokens/{token_id}", headers=alice.headers), 404, "not_found")
    assert client.get("/api/tokens", headers=alice.headers).get_json()["items"] == []


def test_an_unknown_token_is_401(client):
    for secret in ("af_", "af_" + "A" * 43, "af_\u00e9"):
        assert_refused(client.get("/api/assets", headers=bearer(secret)), 401, "unauthorized")


def test_a_socket_refuses_an_api_token(app, client, people):
    secret = make_token(client, people["alice"], "read")
    socket = SocketIOTestClient(app, socketio, auth={"token": secret, "last_seq": 0})
    assert not socket.is_connected()
    session = SocketIOTestClient(app, socketio, auth={"token": people["alice"].token, "last_seq": 0})
    assert session.is_connected()  # the same person's login still connects
    session.disconnect()


def test_calls_past_the_tokens_rate_limit_are_429_and_spend_nobody_elses(app, client, people):
    alice = people["alice"]
    app.config["API_TOKEN_RATE_LIMIT"] = "3 per minute"
    first, second = make_token(client, alice, "read"), make_token(client, alice, "read")
    for _ in range(3):
        assert client.get("/api/assets", headers=bearer(first)).status_code == 200
    response = client.get("/api/assets", headers=bearer(first))
    error = assert_refused(response, 429, "rate_limited")
    assert error["details"]["budget"] == "api_token" and 1 <= int(response.headers["Retry-After"]) <= 60
    assert client.get("/api/assets", headers=bearer(second)).status_code == 200
    assert client.get("/api/assets", headers=alice.headers).status_code == 200


def test_a_tokens_writes_spend_its_own_write_budget(app, client, people):
    alice = people["alice"]
    req = submit(client, alice)
    secret = make_token(client, alice, "requests:write")
    app.config["WRITE_BUDGETS"]["comments"] = "1 per minute"
    url = f"/api/requests/{req['id']}/comments"
    assert client.post(url, headers=bearer(secret), json={"body": "from the ERP"}).status_code == 201
    error = assert_refused(client.post(url, headers=bearer(secret), json={"body": "again"}), 429, "rate_limited")
    assert error["details"]["budget"] == "comments"
    assert client.post(url, headers=alice.headers, json={"body": "by hand"}).status_code == 201


def test_last_used_is_written_at_most_once_a_minute(client, people):
    secret = make_token(client, people["alice"], "read")
    listed = client.get("/api/tokens", headers=people["alice"].headers).get_json()["items"]
    assert listed[0]["last_used_at"] is None
    client.get("/api/assets", headers=bearer(secret))
    db.session.expire_all()
    first = db.session.scalar(sa.select(ApiToken.last_used_at))
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    client.get("/api/assets", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == first  # within the minute: not written again
    earlier = first - timedelta(minutes=2)
    db.session.execute(sa.update(ApiToken).values(last_used_at=earlier))
    db.session.commit()
    client.get("/api/assets", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) > first
