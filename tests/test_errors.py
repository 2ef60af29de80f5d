"""Every failure leaves as the one JSON error shape, never a traceback."""

import pytest

from assetflow.extensions import db
from assetflow.models import Asset


def assert_error(response, status, code):
    assert response.status_code == status
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]
    assert "Traceback" not in response.get_data(as_text=True)


def test_unknown_api_path_is_json_404(client, app):
    assert_error(client.get("/api/nope"), 404, "not_found")


def test_wrong_method_is_json_405(client, app):
    assert_error(client.delete("/api/requests"), 405, "method_not_allowed")


@pytest.mark.parametrize("data, content_type", [
    ("{not json", "application/json"), ("[1, 2]", "application/json"), ("kind=assign", "text/plain"),
])
def test_non_json_body_is_a_4xx(client, people, data, content_type):
    response = client.post("/api/requests", headers=people["alice"][1], data=data, content_type=content_type)
    assert response.status_code in (400, 415, 422)
    assert "error" in response.get_json()


def test_huge_body_is_413(client, people):
    response = client.post("/api/requests", headers=people["alice"][1],
                           json={"kind": "assign", "reason": "x" * 2_000_000})
    assert_error(response, 413, "payload_too_large")


def test_unexpected_error_is_json_500_without_traceback(client, people, monkeypatch):
    from assetflow.services import visibility

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(visibility, "stats", boom)
    response = client.get("/api/requests/stats", headers=people["alice"][1])
    assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)


def test_openapi_document(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/requests", "/api/requests/{request_id}/approve", "/api/notifications",
                 "/api/auth/login", "/api/assets"):
        assert path in spec["paths"]


def test_health(client, app):
    assert client.get("/healthz").get_json()["status"] == "ok"
    body = client.get("/readyz").get_json()
    assert body["checks"]["database"] == "ok"


def test_spa_fallback_serves_index_or_placeholder(client, app):
    response = client.get("/requests/12")
    assert response.status_code == 200 and b"<" in response.data


def test_validation_error_lists_fields(client, people):
    response = client.post("/api/assets", headers=people["admin"][1], json={"tag": "", "value": "abc"})
    assert_error(response, 422, "validation_error")
    fields = response.get_json()["error"]["details"]["fields"]
    assert {"tag", "value", "name", "category"} <= set(fields)
    assert db.session.query(Asset).count() == 0
