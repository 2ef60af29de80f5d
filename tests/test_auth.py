"""Login, refresh, logout, me, and the production guard."""

import re

import pytest

from assetflow import create_app
from config import ProductionConfig

from .conftest import build_app
from .factories import PASSWORD, make_user


def test_login_returns_tokens_and_user(client, app):
    user = make_user("approver")
    body = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD}).get_json()
    assert body["access_token"] and body["refresh_token"]
    assert body["user"] == {"id": user.id, "username": user.username,
                            "display_name": user.display_name, "role": "approver"}
    assert "password_hash" not in str(body)


@pytest.mark.parametrize("payload", [
    {"username": "nobody", "password": "x"},
    {"username": "EXISTING", "password": "wrong"},
])
def test_bad_credentials_are_401(client, app, payload):
    make_user(username="existing")
    response = client.post("/api/auth/login", json=payload)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_inactive_user_cannot_log_in(client, app):
    user = make_user(active=False)
    response = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 401


@pytest.mark.parametrize("payload", [{}, {"username": "a"}, {"username": 1, "password": 2},
                                     {"username": "a" * 65, "password": "x"}, []])
def test_malformed_login_is_422(client, app, payload):
    response = client.post("/api/auth/login", json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_failed_logins_are_rate_limited_per_username(client, app):
    user = make_user()
    for _ in range(10):
        assert client.post("/api/auth/login", json={"username": user.username, "password": "no"}).status_code == 401
    response = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    # Another username from the same address still gets in.
    other = make_user()
    assert client.post("/api/auth/login", json={"username": other.username, "password": PASSWORD}).status_code == 200


def test_successful_logins_do_not_count(client, app):
    user = make_user()
    for _ in range(15):
        assert client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD}).status_code == 200


def test_address_limit_from_config():
    app = build_app(LOGIN_RATE_LIMIT="100 per minute;3 per minute")
    client = app.test_client()
    with app.app_context():
        for n in range(3):
            assert client.post("/api/auth/login", json={"username": f"u{n}", "password": "x"}).status_code == 401
        assert client.post("/api/auth/login", json={"username": "u9", "password": "x"}).status_code == 429


def test_me_needs_a_token(client, app):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_rejects_a_forged_token(client, app):
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert response.status_code == 401


def test_me_with_token(client, auth, app):
    user = make_user("admin")
    body = client.get("/api/auth/me", headers=auth.headers(user)).get_json()
    assert body["username"] == user.username and body["role"] == "admin"


def test_refresh_gives_a_new_access_token(client, auth, app):
    tokens = auth.login(make_user())
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 200
    new = response.get_json()["access_token"]
    assert client.get("/api/auth/me", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def test_access_token_cannot_refresh(client, auth, app):
    tokens = auth.login(make_user())
    response = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert response.status_code == 401


def test_logout_revokes_both_tokens(client, auth, app):
    tokens = auth.login(make_user())
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = client.post("/api/auth/logout", headers=access, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert client.get("/api/auth/me", headers=access).status_code == 401
    refresh = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert refresh.status_code == 401


def test_logout_with_garbage_refresh_token_is_422_and_revokes_nothing(client, auth, app):
    tokens = auth.login(make_user())
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.post("/api/auth/logout", headers=access, json={"refresh_token": "junk"}).status_code == 422
    assert client.get("/api/auth/me", headers=access).status_code == 200


def test_deactivated_user_token_stops_working(client, auth, app):
    from assetflow.extensions import db

    user = make_user()
    headers = auth.headers(user)
    user.active = False
    db.session.commit()
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_production_refuses_default_secret(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "JWT_SECRET_KEY", "")
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app(ProductionConfig)


PUBLIC = {"/api/auth/login", "/api/openapi.json", "/api/meta"}


def test_every_api_endpoint_but_login_and_openapi_needs_a_token(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PUBLIC:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            checked += 1
    assert checked >= 18


def test_behind_a_proxy_the_address_limit_keys_on_the_forwarded_client():
    app = build_app(LOGIN_RATE_LIMIT="100 per minute;2 per minute", PROXY_COUNT=1)
    client = app.test_client()
    with app.app_context():
        office = {"X-Forwarded-For": "203.0.113.7"}
        for n in range(2):
            assert client.post("/api/auth/login", json={"username": f"u{n}", "password": "x"}, headers=office).status_code == 401
        assert client.post("/api/auth/login", json={"username": "u9", "password": "x"}, headers=office).status_code == 429
        home = {"X-Forwarded-For": "198.51.100.4"}
        assert client.post("/api/auth/login", json={"username": "u9", "password": "x"}, headers=home).status_code == 401
