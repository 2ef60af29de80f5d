"""seed-demo and create-user."""

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Asset, User


def test_seed_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    users = {u.username: u.role for u in db.session.scalars(sa.select(User))}
    assert users == {"alice": "employee", "dave": "employee", "bob": "approver",
                     "carol": "approver", "admin": "admin"}
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
