"""Login, refresh, logout, me, and the production guard."""

import re
import statistics
import time

import pytest

from assetflow import create_app
from assetflow.errors import Conflict, ValidationFailed
from assetflow.extensions import db
from assetflow.models import RevokedToken
from assetflow.services.users import create_user
from config import ProductionConfig

from .actions import assert_refused
from .conftest import Auth, build_app
from .factories import PASSWORD, make_user
from .test_concurrency import race


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
    assert_refused(response, 401, "unauthorized")


@pytest.mark.parametrize("payload", [{}, {"username": "a"}, {"username": 1, "password": 2},
                                     {"username": "a" * 65, "password": "x"}, []])
def test_malformed_login_is_422(client, app, payload):
    response = client.post("/api/auth/login", json=payload)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def assert_retry_after(response, window: int) -> None:
    """A 429 in the JSON error shape whose Retry-After (seconds) is also in the details."""
    assert response.status_code == 429
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= window + 1  # the limiter reports the reset time in whole seconds
    assert error["details"]["retry_after"] == seconds


def test_failed_logins_are_rate_limited_per_username(client, app):
    user = make_user()
    for _ in range(10):
        assert_refused(client.post("/api/auth/login", json={"username": user.username, "password": "no"}), 401, "unauthorized")
    response = client.post("/api/auth/login", json={"username": user.username, "password": PASSWORD})
    assert_retry_after(response, 15 * 60)
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
            assert_refused(client.post("/api/auth/login", json={"username": f"u{n}", "password": "x"}), 401, "unauthorized")
        assert_retry_after(client.post("/api/auth/login", json={"username": "u9", "password": "x"}), 60)


def test_me_needs_a_token(client, app):
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_me_rejects_a_forged_token(client, app):
    response = client.get("/api/auth/me", headers={"Authorization": "Bearer abc.def.ghi"})
    assert_refused(response, 401, "unauthorized")


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
    assert_refused(response, 401, "unauthorized")


def test_logout_revokes_both_tokens(client, auth, app):
    tokens = auth.login(make_user())
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = client.post("/api/auth/logout", headers=access, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    assert_refused(client.get("/api/auth/me", headers=access), 401, "unauthorized")
    refresh = client.post("/api/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert_refused(refresh, 401, "unauthorized")


def test_logout_with_garbage_refresh_token_is_422_and_revokes_nothing(client, auth, app):
    tokens = auth.login(make_user())
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert_refused(client.post("/api/auth/logout", headers=access, json={"refresh_token": "junk"}), 422, "validation_error")
    assert client.get("/api/auth/me", headers=access).status_code == 200


def test_deactivated_user_token_stops_working(client, auth, app):
    from assetflow.extensions import db

    user = make_user()
    headers = auth.headers(user)
    user.active = False
    db.session.commit()
    assert_refused(client.get("/api/auth/me", headers=headers), 401, "unauthorized")


def production(secret: str) -> type[ProductionConfig]:
    """Production settings with this secret (threading: no green threads in the test process)."""
    return type("Production", (ProductionConfig,), {"JWT_SECRET_KEY": secret, "ASYNC_MODE": "threading"})


def test_production_refuses_default_secret():
    with pytest.raises(RuntimeError, match="JWT_SECRET_KEY"):
        create_app(production(""))


@pytest.mark.parametrize("secret", ["a", "x" * 31, "é" * 15])
def test_production_refuses_a_short_secret(secret):
    with pytest.raises(RuntimeError, match=r"JWT_SECRET_KEY .* at least 32 bytes.*secrets\.token_urlsafe"):
        create_app(production(secret))


def test_production_starts_with_a_32_byte_secret():
    assert create_app(production("é" * 16)).config["ENV_NAME"] == "production"


@pytest.mark.parametrize("setting", ["5 per minute", "5 per minute;", "abc;60 per minute",
                                     "5 per minute;60 per minute;1 per second"])
def test_a_malformed_login_rate_limit_refuses_to_start(setting):
    with pytest.raises(RuntimeError, match=r"LOGIN_RATE_LIMIT .*<per username>;<per client address>"):
        build_app(LOGIN_RATE_LIMIT=setting)


# The e-mail links carry their own credential: a signed, single-use token for one action (test_email_links.py).
# Single sign-on happens before there is a token: the provider's answer with the signed state cookie, then a
# single-use ticket cookie (or an admin's break-glass code) is the credential (test_sso.py).
PUBLIC = {"/api/auth/login", "/api/openapi.json", "/api/meta", "/api/email-actions/preview",
          "/api/email-actions/confirm", "/api/auth/methods", "/api/auth/oidc/login", "/api/auth/oidc/callback",
          "/api/auth/oidc/session", "/api/auth/break-glass"}


def test_every_api_endpoint_but_login_and_openapi_needs_a_token(app, client):
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.rule in PUBLIC:
            continue
        path = re.sub(r"<[^>]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(path, method=method, json={})
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.get_json()["error"]["code"] == "unauthorized", (method, path)
            checked += 1
    assert checked >= 18


def test_behind_a_proxy_the_address_limit_keys_on_the_forwarded_client():
    app = build_app(LOGIN_RATE_LIMIT="100 per minute;2 per minute", PROXY_COUNT=1)
    client = app.test_client()
    with app.app_context():
        office = {"X-Forwarded-For": "203.0.113.7"}
        for n in range(2):
            assert_refused(client.post("/api/auth/login", json={"username": f"u{n}", "password": "x"}, headers=office), 401, "unauthorized")
        assert_refused(client.post("/api/auth/login", json={"username": "u9", "password": "x"}, headers=office), 429, "rate_limited")
        home = {"X-Forwarded-For": "198.51.100.4"}
        assert_refused(client.post("/api/auth/login", json={"username": "u9", "password": "x"}, headers=home), 401, "unauthorized")


@pytest.mark.timeout(120)
def test_simultaneous_logouts_with_one_token_both_end_well(shared_app):
    auth, user, rounds = Auth(shared_app.test_client()), make_user(), 10
    for _ in range(rounds):
        tokens = auth.login(user)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        statuses = race(shared_app, "/api/auth/logout", [headers, headers],
                        {"refresh_token": tokens["refresh_token"]})
        # Both revoke, or the second arrives after the first committed and finds the token revoked.
        assert 200 in statuses and set(statuses) <= {200, 401}, statuses
    db.session.expire_all()
    assert db.session.query(RevokedToken).count() == 2 * rounds


def test_a_login_costs_the_same_whether_or_not_the_username_exists():
    app = build_app(LOGIN_RATE_LIMIT="1000 per minute;1000 per minute")
    client = app.test_client()
    with app.app_context():
        # Real password hashes (the factory's are cheap on purpose), as in production.
        create_user("timing-known", "the-right-password", "employee")
        create_user("timing-inactive", "the-right-password", "employee").active = False
        db.session.commit()
        samples = {"known": [], "unknown": [], "inactive": []}
        names = {"known": "timing-known", "unknown": "timing-nobody", "inactive": "timing-inactive"}
        for _ in range(15):  # interleaved, so a busy moment on the machine hits every path alike
            for path, username in names.items():
                started = time.perf_counter()
                response = client.post("/api/auth/login", json={"username": username, "password": "wrong-password"})
                samples[path].append(time.perf_counter() - started)
                assert_refused(response, 401, "unauthorized")
    known = statistics.median(samples["known"])
    for path in ("unknown", "inactive"):
        ratio = statistics.median(samples[path]) / known
        assert 0.5 <= ratio <= 2, (path, ratio, {p: round(statistics.median(s) * 1000, 1) for p, s in samples.items()})


@pytest.mark.parametrize("typed", ["alice", "Alice", "ALICE", "ａｌｉｃｅ", "  alice ", "Ａｌｉｃｅ"])
def test_login_finds_the_user_however_the_name_is_typed(client, app, typed):
    make_user(username="alice")
    assert client.post("/api/auth/login", json={"username": typed, "password": PASSWORD}).status_code == 200


@pytest.mark.parametrize("lookalike", ["ALICE", "ａｌｉｃｅ", " Alice"])
def test_a_lookalike_of_an_existing_username_is_taken(app, lookalike):
    create_user("alice", PASSWORD, "employee", "Alice Chen")
    with pytest.raises(Conflict, match="taken"):
        create_user(lookalike, PASSWORD, "employee", "Alice Chen")


@pytest.mark.parametrize("username", ["alice\u200b", "al\u200dice", "alice\u202e", "ali\x00ce", "ali\nce",
                                      "al ice", "a", "x" * 65, "", "-alice", "alice!", "алиса", "ｔｅｓｔ\u3000ｘ"])
def test_usernames_outside_the_rule_are_refused(app, username):
    with pytest.raises(ValidationFailed) as refused:
        create_user(username, PASSWORD, "employee")
    assert list(refused.value.details["fields"]) == ["username"]


@pytest.mark.parametrize("display_name", ["Alice\x1b[31m", "Alice\u202eneC", "Alice\u200b", "Al\nice", " ", "x" * 121])
def test_display_names_with_control_characters_are_refused(app, display_name):
    with pytest.raises(ValidationFailed) as refused:
        create_user("alice", PASSWORD, "employee", display_name)
    assert list(refused.value.details["fields"]) == ["display_name"]


def test_usernames_are_stored_normalised_and_display_names_kept(app):
    user = create_user("  Ｗａｎｇ.Wei_2 ", PASSWORD, "approver", "王伟 (Wang Wei)")
    assert (user.username, user.display_name) == ("wang.wei_2", "王伟 (Wang Wei)")


# A NUL is refused earlier, by the schema layer, as in every text field (a 422; see test_errors).
@pytest.mark.parametrize("username", ["alice\u200b", "alice\u202e"])
def test_login_with_an_impossible_username_is_a_plain_401(client, app, username):
    make_user(username="alice")
    response = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Invalid username or password"


def test_failed_logins_under_lookalike_names_share_one_limit(client, app):
    make_user(username="alice")
    for typed in ["ALICE", "ａｌｉｃｅ", " alice"] * 3 + ["Alice"]:
        assert_refused(client.post("/api/auth/login", json={"username": typed, "password": "wrong-one"}), 401, "unauthorized")
    assert_refused(client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD}), 429, "rate_limited")


def test_a_nul_byte_in_the_login_username_is_a_422_on_every_database(shared_app):
    make_user(username="alice")
    response = shared_app.test_client().post("/api/auth/login", json={"username": "ali\x00ce", "password": "x"})
    # The schema layer refuses NUL in every text field before any query (docs/api.md, Input rules).
    assert_refused(response, 422, "validation_error")


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_verified_once_and_remembered(client, app, auth, monkeypatch):
    """Each request decoded the same token four times; once verified, it is remembered."""
    import jwt as pyjwt

    decodes = []
    real_decode = pyjwt.decode
    monkeypatch.setattr(pyjwt, "decode", lambda *args, **kwargs: decodes.append(1) or real_decode(*args, **kwargs))
    headers = auth.headers(make_user())
    decodes.clear()
    for _ in range(5):
        assert client.get("/api/auth/me", headers=headers).status_code == 200
    assert len(decodes) == 2  # the first request's unverified and verified decodes; none after


def test_a_remembered_token_is_refused_once_it_expires(client, app):
    from datetime import timedelta

    from flask_jwt_extended import create_access_token

    user = make_user()
    token = create_access_token(identity=str(user.id), expires_delta=timedelta(seconds=1),
                                additional_claims={"role": user.role, "gen": user.token_generation})
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    time.sleep(1.5)
    response = client.get("/api/auth/me", headers=_bearer(token))
    assert response.status_code == 401 and response.get_json()["error"]["message"] == "Token has expired"


def test_a_remembered_token_with_another_signature_or_revoked_is_refused(client, app, auth):
    user = make_user()
    token = auth.login(user)["access_token"]
    assert client.get("/api/auth/me", headers=_bearer(token)).status_code == 200
    head, body, signature = token.split(".")
    forged = f"{head}.{body}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    assert_refused(client.get("/api/auth/me", headers=_bearer(forged)), 401, "unauthorized")
    assert client.post("/api/auth/logout", headers=_bearer(token), json={}).status_code in (200, 204)
    assert_refused(client.get("/api/auth/me", headers=_bearer(token)), 401, "unauthorized")


def test_remembered_tokens_are_bounded(app):
    """Every socket's connect verifies a token: a process does not keep one per socket."""
    from flask_jwt_extended import create_access_token, decode_token

    from assetflow.auth.manager import CACHE, REMEMBERED

    with app.app_context():
        for i in range(REMEMBERED + 50):
            decode_token(create_access_token(identity=str(i)))
        assert len(app.extensions[CACHE][0]) == REMEMBERED
