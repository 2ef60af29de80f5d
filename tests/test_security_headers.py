"""Security headers on the page and the API, and an SPA fallback that reveals nothing outside dist."""

import pytest

from .conftest import build_app
from .factories import PASSWORD, make_user

PAGE, ASSET = "<!doctype html><title>AssetFlow</title>", "console.log('app')"


@pytest.fixture
def site(tmp_path):
    """An app serving a small built SPA, with a secret file beside (outside) its dist folder."""
    dist = tmp_path / "www" / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(PAGE)
    (dist / "assets" / "app.js").write_text(ASSET)
    (tmp_path / "www" / "secret.txt").write_text("top secret")
    app = build_app(FRONTEND_DIST=dist)
    with app.app_context():
        yield app


def csp(response) -> dict[str, str]:
    """The Content-Security-Policy header as {directive: sources}."""
    parts = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {part[0]: part[1] if len(part) > 1 else "" for part in parts if part[0]}


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200), ("GET", "/requests/7", 200), ("GET", "/assets/app.js", 200),
    ("GET", "/api/auth/me", 401), ("POST", "/api/auth/login", 422), ("GET", "/api/openapi.json", 200),
    ("GET", "/healthz", 200), ("GET", "/api/nothing-here", 404),
])
def test_every_response_carries_the_security_headers(site, method, path, status):
    response = site.test_client().open(path, method=method, json={} if method == "POST" else None)
    assert response.status_code == status
    policy = csp(response)
    assert policy["script-src"] == "'self'" and "unsafe" not in policy["script-src"]
    assert policy["default-src"] == "'self'" and policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'none'"
    assert policy["connect-src"] == "'self'"  # the API and the same-origin Socket.IO (ws/wss)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Strict-Transport-Security" not in response.headers  # plain http


def test_hsts_only_over_https(site):
    client = site.test_client()
    assert client.get("/healthz", base_url="https://localhost").headers["Strict-Transport-Security"] == \
        "max-age=31536000"
    # Without trusted proxies a client's X-Forwarded-Proto means nothing.
    forged = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in forged.headers


def test_behind_a_proxy_hsts_follows_the_forwarded_scheme(tmp_path):
    app = build_app(PROXY_COUNT=1, FRONTEND_DIST=tmp_path)
    client = app.test_client()
    with app.app_context():
        make_user(username="erin")
        https = client.post("/api/auth/login", json={"username": "erin", "password": PASSWORD},
                            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
        assert https.status_code == 200 and "max-age=" in https.headers["Strict-Transport-Security"]
        http = client.get("/healthz", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"})
        assert "Strict-Transport-Security" not in http.headers


@pytest.mark.parametrize(("outside", "status"), [
    ("/..%2fsecret.txt", 404), ("/..%2f..%2fwww%2fsecret.txt", 404), ("/assets/..%2f..%2fsecret.txt", 404),
    ("/%2e%2e/secret.txt", 404), ("/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd", 404),
    ("/%2fetc%2fpasswd", 200),  # the router merges the slashes: a client route inside dist
])
def test_the_fallback_says_nothing_about_files_outside_dist(site, outside, status):
    client = site.test_client()
    missing = outside.replace("secret.txt", "no-such.txt").replace("passwd", "no-such")
    found, not_found = client.get(outside), client.get(missing)
    assert found.status_code == not_found.status_code == status
    assert found.data == not_found.data
    assert b"top secret" not in found.data and b"root:" not in found.data


@pytest.mark.parametrize(("path", "status", "body"), [
    ("/", 200, PAGE), ("/requests/12", 200, PAGE), ("/dashboard", 200, PAGE), ("/no/such/route", 200, PAGE),
    ("/assets/app.js", 200, ASSET), ("/assets/missing.js", 404, None), ("/favicon.ico", 404, None),
])
def test_files_in_dist_are_served_and_client_routes_get_the_page(site, path, status, body):
    response = site.test_client().get(path)
    assert response.status_code == status
    if body is not None:
        assert response.get_data(as_text=True) == body
    else:
        assert response.get_json()["error"]["code"] == "not_found"
