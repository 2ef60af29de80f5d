"""The built SPA: hashed assets precompressed and cached for a year, index.html revalidated."""

from __future__ import annotations

import gzip

import pytest

from assetflow.cli import DEMO_PASSWORD, DEMO_USERS, seed_demo

from .conftest import build_app

SCRIPT = b"console.log('assetflow');\n" * 50
# No brotli encoder in the test deps: the server only has to send the build's bytes unchanged.
BROTLI = b"brotli bytes as the build wrote them"


@pytest.fixture
def dist(tmp_path):
    """A build as Vite leaves it: index.html, one hashed script and its .gz and .br."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>AssetFlow</title>")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    (tmp_path / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (tmp_path / "assets" / "index-abc123.js.br").write_bytes(BROTLI)
    (tmp_path / "assets" / "logo-def456.png").write_bytes(b"\x89PNG")
    return tmp_path


@pytest.fixture
def web(dist):
    return build_app(FRONTEND_DIST=dist).test_client()


@pytest.mark.parametrize(("accept", "encoding", "decode"), [
    ("gzip, deflate, br, zstd", "br", lambda data: SCRIPT if data == BROTLI else data),
    ("gzip, deflate", "gzip", gzip.decompress),
    ("br;q=0, gzip", "gzip", gzip.decompress),
])
def test_hashed_asset_is_sent_precompressed(web, accept, encoding, decode):
    response = web.get("/assets/index-abc123.js", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    assert response.mimetype == "text/javascript"
    assert decode(response.data) == SCRIPT
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_hashed_asset_without_accept_encoding_is_sent_as_is(web):
    response = web.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in response.headers
    assert response.data == SCRIPT
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_asset_with_no_compressed_copy_is_sent_as_is(web):
    response = web.get("/assets/logo-def456.png", headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in response.headers
    assert response.data == b"\x89PNG"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", ["/", "/requests/12", "/index.html"])
def test_index_html_is_revalidated_every_time(web, path):
    response = web.get(path, headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200
    assert b"<title>AssetFlow</title>" in response.data
    assert response.headers["Cache-Control"] == "no-cache"


def test_unhashed_file_is_not_cached_for_a_year(web):
    response = web.get("/favicon.svg")
    assert response.headers["Cache-Control"] == "no-cache"


def test_missing_asset_is_not_index_html_forever(web):
    response = web.get("/assets/gone-000000.js")
    assert "immutable" not in response.headers.get("Cache-Control", "")


def test_healthz_says_whether_the_demo_users_exist_and_names_each_from_seed_demos_own_list(app, client):
    assert client.get("/healthz").get_json() == {"status": "ok", "demo": False}
    seed_demo()
    body = client.get("/healthz").get_json()
    assert (body["status"], body["demo"], body["demo_password"]) == ("ok", True, DEMO_PASSWORD)
    # The login page lists all nine (it named 5 of 9 from a sentence of its own).
    assert [(u["username"], u["display_name"], u["role"]) for u in body["demo_users"]] == \
        [(username, name, role) for username, name, role, _ in DEMO_USERS]
    assert len(body["demo_users"]) == 9
    for user in body["demo_users"]:
        login = client.post("/api/auth/login", json={"username": user["username"], "password": DEMO_PASSWORD})
        assert login.status_code == 200 and login.get_json()["user"]["role"] == user["role"], user


def test_healthz_never_claims_demo_data_in_production(app, client):
    seed_demo()
    app.config["ENV_NAME"] = "production"
    assert client.get("/healthz").get_json() == {"status": "ok", "demo": False}

