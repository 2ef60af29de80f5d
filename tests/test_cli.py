"""seed-demo and create-user."""

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import ApprovalRule, Asset, Department, User

from .factories import make_asset, set_rules


def users_department(username: str) -> int:
    return db.session.scalar(sa.select(User.department_id).where(User.username == username))


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users = {u.username: (u.role, u.department.code) for u in db.session.scalars(sa.select(User))}
    assert users == {"alice": ("employee", "ENG"), "dave": ("employee", "SALES"), "bob": ("approver", "ENG"),
                     "carol": ("approver", "SALES"), "erik": ("approver", "ENG"), "sara": ("approver", "SALES"),
                     "fiona": ("approver", "FIN"), "frank": ("approver", "FIN"), "admin": ("admin", "HQ")}
    departments = {d.code: (d.manager.username, d.parent_id) for d in db.session.scalars(sa.select(Department))}
    assert departments == {"HQ": ("admin", None), "ENG": ("erik", 1), "SALES": ("sara", 1), "FIN": ("fiona", 1)}
    assert [r.match for r in db.session.scalars(sa.select(ApprovalRule).order_by(ApprovalRule.position))] == [
        {"kinds": ["dispose"]}, {"min_value": "10000"}, {"departments": [users_department("dave")]}, {}]
    assets = db.session.scalars(sa.select(Asset)).all()
    assert len(assets) >= 30
    in_stock = [a for a in assets if a.status == "in_stock"]
    assert len(in_stock) > len(assets) / 2 and len({a.category for a in assets}) > 3
    second = runner.invoke(args=["seed-demo"])
    assert "0 rows added" in second.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Asset)) == len(assets)


def test_demo_password_works(app, client):
    app.test_cli_runner().invoke(args=["seed-demo"])
    response = client.post("/api/auth/login", json={"username": "bob", "password": "assetflow-demo"})
    assert response.status_code == 200


def _demo_headers(client, username: str) -> dict:
    login = client.post("/api/auth/login", json={"username": username, "password": "assetflow-demo"})
    return {"Authorization": f"Bearer {login.get_json()['access_token']}"}


def _chain_people(client, username: str, value: int) -> list[set[str]]:
    """Who decides each step of a new assign request by this demo user, by username."""
    headers = _demo_headers(client, username)
    created = client.post("/api/requests", headers=headers,
                          json={"kind": "assign", "asset_id": make_asset(value=value).id, "reason": "demo"})
    assert created.status_code == 201, created.get_json()
    detail = client.get(f"/api/requests/{created.get_json()['id']}", headers=headers).get_json()
    names = {u.id: u.username for u in db.session.scalars(sa.select(User))}
    return [{names[p["id"]] for p in step["deciders"]} for step in detail["steps"]]


def test_the_demo_company_routes_as_the_readme_says(app, client):
    app.test_cli_runner().invoke(args=["seed-demo"])
    assert _chain_people(client, "alice", 1000) == [{"bob", "erik"}]
    assert _chain_people(client, "alice", 20000) == [{"bob", "erik"}, {"admin"}]
    assert _chain_people(client, "dave", 1000) == [{"sara"}]
    assert _chain_people(client, "dave", 20000) == [{"carol", "sara"}, {"admin"}]
    assert _chain_people(client, "carol", 1000) == [{"sara"}]
    assert _chain_people(client, "sara", 1000) == [{"admin"}]  # her own manager is the company's
    assert _chain_people(client, "bob", 1000) == [{"erik"}]
    assert _chain_people(client, "carol", 20000) == [{"sara"}, {"admin"}]
    assert _chain_people(client, "fiona", 1000) == [{"frank"}]
    assert _chain_people(client, "frank", 1000) == [{"fiona"}]
    # The company root has no approver: the admin's own requests have nobody to decide them.
    refused = client.post("/api/requests", headers=_demo_headers(client, "admin"),
                          json={"kind": "assign", "asset_id": make_asset().id, "reason": "demo"})
    assert refused.status_code == 422


def test_seed_demo_keeps_rules_an_admin_wrote(app):
    own = [{"match": {}, "steps": [{"decider": "role", "role": "admin", "scope": "company"}]}]
    set_rules(own)
    app.test_cli_runner().invoke(args=["seed-demo"])
    assert [{"match": r.match, "steps": r.steps} for r in db.session.scalars(sa.select(ApprovalRule))] == own


def test_seed_demo_places_wave_one_demo_users(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["create-user", "alice", "--role", "employee", "--password", "assetflow-demo"])
    assert users_department("alice") == 1
    runner.invoke(args=["seed-demo"])
    assert db.session.get(Department, users_department("alice")).code == "ENG"


def test_seed_demo_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "zoe", "--role", "approver", "--password", "pw-123456",
                                 "--display-name", "Zoe Q"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "zoe"))
    assert (user.role, user.display_name) == ("approver", "Zoe Q")
    assert client.post("/api/auth/login", json={"username": "zoe", "password": "pw-123456"}).status_code == 200
    again = runner.invoke(args=["create-user", "ZOE", "--role", "admin", "--password", "pw-123456"])
    assert again.exit_code != 0 and "taken" in again.output


@pytest.mark.parametrize(("args", "complaint"), [
    (["zoe", "--password", ""], "password: At least 8 characters"),
    (["zoe", "--password", "short"], "password: At least 8 characters"),
    (["zoe\u200b", "--password", "pw-123456"], "username: Must not contain control or invisible characters"),
    (["zoe q", "--password", "pw-123456"], "username: Must be 2 to 64 characters"),
    (["zoe", "--password", "pw-123456", "--display-name", "Zoe\x1b[2J"], "display_name: Must not contain control"),
])
def test_create_user_refuses_what_could_never_log_in(app, args, complaint):
    result = app.test_cli_runner().invoke(args=["create-user", "--role", "employee", *args])
    assert result.exit_code == 1 and complaint in result.output, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_create_user_stores_the_normalised_name(app, client):
    result = app.test_cli_runner().invoke(args=["create-user", "Ｚｏｅ", "--role", "employee", "--password", "pw-123456"])
    assert result.exit_code == 0 and "created user zoe" in result.output, result.output
    assert client.post("/api/auth/login", json={"username": "ZOE", "password": "pw-123456"}).status_code == 200


def test_create_user_rejects_unknown_role(app):
    result = app.test_cli_runner().invoke(args=["create-user", "x", "--role", "king", "--password", "p"])
    assert result.exit_code != 0


def test_prune_tokens_deletes_only_expired_ones(app):
    from datetime import timedelta

    from assetflow.models import RevokedToken
    from assetflow.models.base import utcnow

    from .factories import make_user

    user = make_user()
    db.session.add_all([
        RevokedToken(jti="old", token_type="access", user_id=user.id, expires_at=utcnow() - timedelta(minutes=1)),
        RevokedToken(jti="live", token_type="refresh", user_id=user.id, expires_at=utcnow() + timedelta(days=1)),
    ])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["prune-tokens"])
    assert "1 expired" in result.output
    assert [t.jti for t in db.session.scalars(sa.select(RevokedToken))] == ["live"]


def test_prune_tokens_forgets_only_the_revoked_tokens_that_have_expired(app):
    from datetime import timedelta

    from assetflow.models import RevokedToken
    from assetflow.models.base import utcnow

    from .factories import make_user

    user, now = make_user(), utcnow()
    db.session.add_all([RevokedToken(jti="gone", token_type="access", user_id=user.id, expires_at=now - timedelta(1)),
                        RevokedToken(jti="kept", token_type="access", user_id=user.id, expires_at=now + timedelta(1))])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["prune-tokens"])
    assert result.exit_code == 0, result.output
    assert "1 expired revoked tokens deleted" in result.output
    assert list(db.session.scalars(sa.select(RevokedToken.jti))) == ["kept"]
