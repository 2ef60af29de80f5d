"""Which origins may open a socket: the page's own always, CORS_ORIGINS in addition, nothing else.

These go through the real Engine.IO handshake (`GET /socket.io/?EIO=4&transport=polling`), where
python-engineio applies the check; tests/test_server.py and test_capacity.py do it on gunicorn.
"""

from __future__ import annotations

import pytest

from assetflow import create_app
from assetflow.realtime.origins import OriginPolicy, normalise
from config import ProductionConfig

from .conftest import build_app

HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


def handshake(app, origin: str | None, host: str = "127.0.0.1:5000", **headers: str):
    """The status of an Engine.IO handshake sent to `host` from `origin`."""
    if origin is not None:
        headers["Origin"] = origin
    return app.test_client().get(HANDSHAKE, headers={"Host": host, **headers}).status_code


@pytest.mark.parametrize(("origin", "expected"), [
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("HTTP://LocalHost:8080/", "http://localhost:8080"),
    ("https://assets.example.com:443", "https://assets.example.com"),
    ("http://assets.example.com:80", "http://assets.example.com"),
    ("http://[::1]:5000", "http://[::1]:5000"),
    ("null", None),
    ("file://", None),
    ("http://host:notaport", None),
    ("http://host/path", None),
    ("javascript:alert(1)", None),
])
def test_origins_compare_as_browsers_write_them(origin, expected):
    assert normalise(origin) == expected


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "127.0.0.1:8080", "localhost:8080", "192.168.1.20:5000",
                                  "assets-box.lan", "[::1]:9000"])
def test_the_pages_own_origin_is_accepted_on_any_port_and_name(host):
    app = build_app(CORS_ORIGINS=[])
    assert handshake(app, f"http://{host}", host=host) == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:5001", "https://127.0.0.1:5000",
                                    "http://localhost:5000", "null"])
def test_a_foreign_origin_is_refused_in_development(origin):
    app = build_app(CORS_ORIGINS=[])
    assert handshake(app, origin, host="127.0.0.1:5000") == 400


def test_cors_origins_add_to_the_own_origin():
    app = build_app(CORS_ORIGINS=["http://localhost:5173"])
    assert handshake(app, "http://localhost:5173") == 200
    assert handshake(app, "http://127.0.0.1:5000") == 200
    assert handshake(app, "http://localhost:5174") == 400


def test_a_client_without_origin_is_not_a_browser_and_is_not_checked_for_it():
    assert handshake(build_app(CORS_ORIGINS=[]), None) == 200


def test_star_accepts_anything_in_development_only():
    assert handshake(build_app(CORS_ORIGINS=["*"]), "http://evil.example") == 200
    production = type("P", (_production(),), {"CORS_ORIGINS": ["*"]})
    with pytest.raises(RuntimeError, match="CORS_ORIGINS"):
        create_app(production)


def _production(**settings):
    return type("TestProduction", (ProductionConfig,), {
        "JWT_SECRET_KEY": "production-secret-" + "s" * 48, "SQLALCHEMY_DATABASE_URI": "sqlite://",
        "ASYNC_MODE": "threading", "CORS_ORIGINS": [], **settings})


def test_production_without_cors_origins_still_checks_the_origin():
    app = create_app(_production())
    assert handshake(app, "https://assets.example.com", host="assets.example.com") == 400  # http != https
    assert handshake(app, "http://assets.example.com", host="assets.example.com") == 200
    assert handshake(app, "http://evil.example", host="assets.example.com") == 400


def test_behind_a_proxy_the_public_origin_comes_from_the_forwarded_headers():
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "assets.example.com",
                 "X-Forwarded-For": "203.0.113.9"}
    behind_nginx = create_app(_production(PROXY_COUNT=1))
    assert handshake(behind_nginx, "https://assets.example.com", host="127.0.0.1:5001", **forwarded) == 200
    assert handshake(behind_nginx, "https://evil.example", host="127.0.0.1:5001", **forwarded) == 400


def test_without_proxy_count_forwarded_headers_are_not_believed():
    spoofed = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"}
    direct = create_app(_production(PROXY_COUNT=0))
    assert handshake(direct, "https://evil.example", host="127.0.0.1:5001", **spoofed) == 400
    assert handshake(direct, "http://127.0.0.1:5001", host="127.0.0.1:5001", **spoofed) == 200


def test_the_policy_is_a_plain_predicate():
    policy = OriginPolicy(["https://a.example"])
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "box:8080"}
    assert policy("https://a.example", environ) and policy("http://box:8080", environ)
    assert not policy("http://box:8081", environ)
    assert not policy("http://box:8080", {"wsgi.url_scheme": "http"})  # no Host: no own origin
