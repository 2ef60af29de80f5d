"""Every failure leaves as the one JSON error shape, never a traceback."""

import re
from unittest.mock import ANY
from urllib.parse import quote

import pytest
from openapi_spec_validator import validate
from werkzeug.routing import IntegerConverter

from assetflow.api.requests import blp
from assetflow.extensions import db
from assetflow.models import Asset, Request

from .conftest import Auth, build_app
from .factories import make_asset, make_user


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
    response = client.post("/api/requests", headers=people["alice"].headers, data=data, content_type=content_type)
    assert response.status_code in (400, 415, 422)
    assert "error" in response.get_json()


def test_huge_body_is_413(client, people):
    response = client.post("/api/requests", headers=people["alice"].headers,
                           json={"kind": "assign", "reason": "x" * 2_000_000})
    assert_error(response, 413, "payload_too_large")


def test_unexpected_error_is_json_500_without_traceback(client, people, monkeypatch):
    from assetflow.services import visibility

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(visibility, "stats", boom)
    response = client.get("/api/requests/stats", headers=people["alice"].headers)
    assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)


def test_openapi_document(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/requests", "/api/requests/{request_id}/approve", "/api/notifications",
                 "/api/auth/login", "/api/assets"):
        assert path in spec["paths"]


def test_the_documenting_decorators_add_their_doc_and_no_layer_around_the_view(client, app):
    """ApiBlueprint's alt_response and doc only document: flask-smorest's wrapper of each cost every call ~15 Python
    calls. The doc they add is the same (the error statuses, the write budget's 429, the links)."""
    def view():
        return None

    assert blp.alt_response(418, response="IM_A_TEAPOT")(view) is view and blp.doc(summary="Tea")(view) is view
    assert view._apidoc["manual_doc"] == {"summary": "Tea"} and 418 in view._apidoc["response"]["responses"]
    approve = client.get("/api/openapi.json").get_json()["paths"]["/api/requests/{request_id}/approve"]["post"]
    assert set(approve["responses"]) == {"200", "400", "401", "403", "404", "409", "413", "422", "429"}
    assert "ApproveRequest" in approve["responses"]["200"]["links"] and approve["security"]


def test_openapi_document_is_valid_openapi_3(client, app):
    validate(client.get("/api/openapi.json").get_json())


def test_openapi_document_describes_the_real_error_shape_and_auth(client, app):
    spec = client.get("/api/openapi.json").get_json()
    error = resolve(spec, spec["components"]["schemas"]["Error"])
    assert error["required"] == ["error"]
    assert set(resolve(spec, error["properties"]["error"])["properties"]) == {"code", "message", "details"}
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": ANY}
    for path, method, operation, _ in operations(spec):
        responses = operation["responses"]
        assert "default" not in responses, (method, path)
        # The single sign-on round trip is two browser navigations: each answers with a redirect.
        redirects = path in SSO_NAVIGATIONS
        assert any(status.startswith("3" if redirects else "2") for status in responses), (method, path)
        for status, response in responses.items():
            if status.startswith("4"):
                ref = response["$ref"].rsplit("/", 1)[1]
                assert spec["components"]["responses"][ref]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"}, (method, path, status)
        # Public: the same rules for everyone, no user data; the e-mail links' token is their own
        # credential, a bad one is a 409 with its reason (tests/test_email_links.py).
        if path in ("/api/meta", "/api/email-actions/preview", "/api/email-actions/confirm", "/api/auth/methods",
                    "/api/auth/oidc/login", "/api/auth/oidc/callback"):
            assert "security" not in operation and "401" not in responses
            continue
        # Sign-ins: no bearer, and a 401 for a bad password, SSO ticket or break-glass code.
        public = path in ("/api/auth/login", "/api/auth/oidc/session", "/api/auth/break-glass")
        assert operation.get("security") == (None if public else [{"bearerAuth": []}]), (method, path)
        assert "401" in responses, (method, path)  # a bad login, or a missing / revoked token


@pytest.mark.parametrize("path, method", [("/api/auth/refresh", "post"), ("/api/auth/logout", "post"),
                                          ("/api/notifications/unread-count", "get"),
                                          ("/api/notifications/read-all", "post")])
def test_openapi_document_has_the_200_bodies(client, app, path, method):
    spec = client.get("/api/openapi.json").get_json()
    body = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    assert resolve(spec, body)["properties"]


def test_money_is_documented_as_the_string_it_is_sent_as(client, people):
    spec = client.get("/api/openapi.json").get_json()
    for name in ("Asset", "Request", "AssetCreate", "Submit"):
        value = spec["components"]["schemas"][name]["properties"]["value"]
        value = value.get("anyOf", [value])[-1] if "type" not in value else value
        assert value["type"] == "string" and "minimum" not in value, name
    asset = make_asset(value="12500")
    body = client.get(f"/api/assets/{asset.id}", headers=people["alice"].headers).get_json()
    assert body["value"] == "12500.00"


def test_health(client, app):
    assert client.get("/healthz").get_json()["status"] == "ok"
    body = client.get("/readyz").get_json()
    assert body["checks"]["database"] == "ok"


def test_spa_fallback_serves_index_or_placeholder(client, app):
    response = client.get("/requests/12")
    assert response.status_code == 200 and b"<" in response.data


def test_validation_error_lists_fields(client, people):
    response = client.post("/api/assets", headers=people["admin"].headers, json={"tag": "", "value": "abc"})
    assert_error(response, 422, "validation_error")
    fields = response.get_json()["error"]["details"]["fields"]
    assert {"tag", "value", "name", "category"} <= set(fields)
    assert db.session.query(Asset).count() == 0


# --- bad input: every integer, text and JSON body the API takes -----------------------------

ID_MAX = 2**31 - 1  # every id and seq column is a PostgreSQL integer
PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def api_spec(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def operations(spec: dict):
    """(path, method, operation, parameters) for every documented operation."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield path, method, operation, item.get("parameters", []) + operation.get("parameters", [])


def body_properties(spec: dict, operation: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return resolve(spec, content["schema"]).get("properties", {}) if content else {}


def is_integer(prop: dict) -> bool:
    return prop.get("type") == "integer" or prop.get("items", {}).get("type") == "integer"


def field_errors(response) -> dict:
    return response.get_json()["error"]["details"].get("fields", {})


def test_path_ids_out_of_range_or_not_numbers_are_404(app, client, people):
    urls = [(method, rule.rule) for rule in app.url_map.iter_rules() for method in rule.methods - {"HEAD", "OPTIONS"}
            if rule.rule.startswith("/api/") and any(isinstance(c, IntegerConverter) for c in rule._converters.values())]
    assert len(urls) >= 7
    failures = []
    # Not digits at all: a 404 too, not the 405 the SPA's GET-only route would give a POST (schemathesis).
    for value in (2**64, 2**63, ID_MAX + 1, 0, -1, "abc", "\u0661", "null,null"):
        for method, rule in urls:
            response = client.open(PARAM.sub(str(value), rule), method=method, headers=people["admin"].headers, json={})
            if response.status_code != 404 or response.get_json()["error"]["code"] != "not_found":
                failures.append((method, rule, value, response.status_code))
    assert failures == []


def test_integer_query_parameters_out_of_range_are_422(client, people):
    spec = api_spec(client)
    params = [(path, p["name"]) for path, method, _, ps in operations(spec) if method == "get"
              for p in ps if p["in"] == "query" and p["schema"].get("type") == "integer"]
    assert {("/api/notifications", "after_seq"), ("/api/notifications", "before_seq"),
            ("/api/assets", "custodian_id")} <= set(params)
    failures = []
    for value in (2**64, ID_MAX + 1, -1, "4.5", "1" * 5000):
        for path, name in params:
            url = PARAM.sub("1", path.replace("{", "<").replace("}", ">"))
            response = client.get(url, headers=people["admin"].headers, query_string={name: value})
            if response.status_code != 422 or name not in field_errors(response):
                failures.append((path, name, str(value)[:20], response.status_code))
    assert failures == []


def test_integer_body_fields_refuse_out_of_range_fractions_and_non_numbers(client, people):
    spec = api_spec(client)
    fields = [(path, method, name, prop.get("type")) for path, method, op, _ in operations(spec)
              for name, prop in body_properties(spec, op).items() if is_integer(prop)]
    assert {"asset_id", "target_user_id", "ids", "version"} <= {name for _, _, name, _ in fields}
    failures = []
    for bad in (2**64, ID_MAX + 1, 0, 4.5, True, "7"):
        for path, method, name, kind in fields:
            value = [bad] if kind == "array" else bad
            url = PARAM.sub("1", path.replace("{", "<").replace("}", ">"))
            response = client.open(url, method=method, headers=people["admin"].headers, json={name: value})
            if response.status_code != 422 or name not in field_errors(response):
                failures.append((method, path, name, bad, response.status_code))
    assert failures == []


SSO_NAVIGATIONS = ("/api/auth/oidc/login", "/api/auth/oidc/callback")


@pytest.mark.parametrize("bad", ["nul\x00byte", "lone \ud800 surrogate"])
def test_text_with_nul_or_lone_surrogate_is_422_everywhere(client, people, bad):
    spec = api_spec(client)
    failures = []
    for path, method, operation, params in operations(spec):
        url = PARAM.sub("1", path.replace("{", "<").replace("}", ">"))
        names = [name for name, prop in body_properties(spec, operation).items() if prop.get("type") == "string"]
        names += [p["name"] for p in params if p["in"] == "query" and p["schema"].get("type") == "string"]
        for name in names:
            in_body = name in body_properties(spec, operation)
            # A query string carries bytes: the surrogate arrives as its (invalid) UTF-8 encoding.
            query = f"{name}={quote(bad.encode('utf-8', 'surrogatepass'))}"
            response = client.open(url, method=method, headers=people["admin"].headers,
                                   json={name: bad} if in_body else None, query_string=None if in_body else query)
            if path in SSO_NAVIGATIONS:
                # A browser navigation answers with a page, never JSON: a redirect that carries none of the text.
                if response.status_code != 302 or bad in response.headers.get("Location", ""):
                    failures.append((method, path, name, response.status_code))
            elif not in_body and "\x00" not in bad:
                # Werkzeug decodes invalid UTF-8 in a query as U+FFFD: no surrogate gets through.
                if response.status_code not in (200, 422):
                    failures.append((method, path, name, response.status_code))
            elif response.status_code != 422 or name not in field_errors(response):
                failures.append((method, path, name, response.status_code))
    assert failures == []


def test_nul_in_a_field_name_is_422(client, people):
    response = client.post("/api/requests", headers=people["alice"].headers, json={"kind": "assign", "x\x00": 1})
    assert_error(response, 422, "validation_error")
    assert "x\x00" in field_errors(response)


def test_nul_in_login_username_is_422_not_a_database_error(client, app):
    response = client.post("/api/auth/login", json={"username": "alice\x00", "password": "x"})
    assert_error(response, 422, "validation_error")
    assert "username" in field_errors(response)


@pytest.mark.parametrize("path", ["/api/auth/login", "/api/requests"])
def test_deeply_nested_json_is_400(client, people, path):
    deep = "[" * 10_000 + "]" * 10_000
    response = client.post(path, headers=people["alice"].headers, data=deep, content_type="application/json")
    assert_error(response, 400, "bad_request")


@pytest.mark.parametrize("digits", [41, 5000])
def test_a_number_of_more_than_40_digits_is_422(client, people, digits):
    body = '{"kind": "assign", "reason": "x", "asset_id": ' + "9" * digits + "}"
    response = client.post("/api/requests", headers=people["alice"].headers, data=body, content_type="application/json")
    assert_error(response, 422, "validation_error")
    assert db.session.query(Request).count() == 0


def test_bulk_approve_refuses_a_fractional_id_and_changes_nothing(client, people):
    asset = make_asset()
    req = client.post("/api/requests", headers=people["alice"].headers,
                      json={"kind": "assign", "asset_id": asset.id, "reason": "x"}).get_json()
    response = client.post("/api/requests/bulk-approve", headers=people["bob"].headers, json={"ids": [req["id"] + 0.5]})
    assert_error(response, 422, "validation_error")
    db.session.expire_all()
    assert db.session.get(Request, req["id"]).state == "pending"


def test_fractional_asset_id_is_refused_not_truncated(client, people):
    asset = make_asset()
    response = client.post("/api/requests", headers=people["alice"].headers,
                           json={"kind": "assign", "asset_id": asset.id + 0.5, "reason": "x"})
    assert_error(response, 422, "validation_error")
    assert db.session.query(Request).count() == 0


@pytest.mark.parametrize("value", ["1000000000000", "12.345", 12.345, True, "NaN", "1e3", "-5", -5])
def test_money_out_of_range_or_with_more_than_cents_is_422(client, people, value):
    body = {"tag": "T-1", "name": "Desk", "category": "Furniture", "value": value}
    response = client.post("/api/assets", headers=people["admin"].headers, json=body)
    assert_error(response, 422, "validation_error")
    assert "value" in field_errors(response)
    assert db.session.query(Asset).count() == 0


def test_query_field_errors_are_listed_by_name(client, people):
    response = client.get("/api/notifications?limit=0", headers=people["alice"].headers)
    assert_error(response, 422, "validation_error")
    assert "limit" in field_errors(response)


def test_nul_text_is_422_on_postgresql_too(postgres_url):
    """PostgreSQL refuses NUL in text outright: the schema layer must stop it before the query."""
    app = build_app(postgres_url)
    with app.app_context():
        client = app.test_client()
        response = client.post("/api/auth/login", json={"username": "alice\x00", "password": "x"})
        assert_error(response, 422, "validation_error")
        headers = Auth(client).headers(make_user("employee", "pg-nul"))
        for query in ("q=%00", "category=a%00b"):
            assert_error(client.get(f"/api/assets?{query}", headers=headers), 422, "validation_error")
        # `$` also matches before a final newline: "CNY\n" passed ^[A-Z]{3}$ and overflowed VARCHAR(3).
        response = client.post("/api/requests", headers=headers, json={
            "kind": "acquire", "reason": "x", "name": "Desk", "category": "Furniture", "value": "10",
            "currency": "CNY\n"})
        assert_error(response, 422, "validation_error")
        db.session.remove()
        db.drop_all()


@pytest.mark.parametrize("field, value", [("tag", "T-1\n"), ("currency", "CNY\n")])
def test_a_pattern_must_match_the_whole_value(client, people, field, value):
    body = {"tag": "T-1", "name": "Desk", "category": "Furniture", "value": "10", field: value}
    response = client.post("/api/assets", headers=people["admin"].headers, json=body)
    assert_error(response, 422, "validation_error")
    assert field in field_errors(response)


def test_an_exhausted_connection_pool_is_a_503_with_retry_after_not_a_500(tmp_path):
    # What an overloaded worker meets: every connection busy for DATABASE_POOL_TIMEOUT.
    app = build_app(f"sqlite:///{tmp_path / 'busy.db'}", DATABASE_POOL_TIMEOUT=0.2)
    with app.app_context():
        user = make_user("employee", "alice")
        headers = Auth(app.test_client()).headers(user)
        db.session.remove()
        engine = db.engine
        held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
        try:
            response = app.test_client().get("/api/auth/me", headers=headers)
        finally:
            for conn in held:
                conn.close()
        assert response.status_code == 503, response.get_data(as_text=True)
        assert response.headers["Retry-After"] == "5"
        assert response.get_json()["error"]["code"] == "unavailable"
        assert app.test_client().get("/api/auth/me", headers=headers).get_json()["id"] == user.id
