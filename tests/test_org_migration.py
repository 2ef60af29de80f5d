"""The b5_org migration carries a wave-1 database over: departments, rules, and frozen chains for what is pending."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from assetflow import create_app
from assetflow.extensions import db
from assetflow.workflow.rules import default_rules
from config import Config, TestingConfig

from .factories import FAST_HASH, PASSWORD
from .live_server import base_env, flask_cli

PREVIOUS, ORGANISED = "b4_lists", "b5_org"  # the revision before, and this one
# role, active; the first approver (id 2) is the applicant of the pending request.
PEOPLE = {"alice": ("employee", True), "carol": ("approver", True), "bob": ("approver", True),
          "dora": ("approver", True), "eve": ("approver", False), "root": ("admin", True)}


def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def fill_wave_one(url: str) -> dict[str, int]:
    """Users, two assets and a pending two-step request by Carol (approver, then admin), as wave 1 stored them."""
    engine, now = engine_for(url), datetime.now(UTC).replace(tzinfo=None)
    ids = {}
    with engine.begin() as conn:
        for name, (role, active) in PEOPLE.items():
            ids[name] = conn.execute(sa.text(
                "INSERT INTO users (username, display_name, email, password_hash, role, active, notification_seq,"
                " created_at) VALUES (:name, :name, '', :hash, :role, :active, 0, :now) RETURNING id"),
                {"name": name, "hash": FAST_HASH, "role": role, "active": active, "now": now}).scalar_one()
        for tag, value in (("OLD-1", 20000), ("OLD-2", 100)):
            ids[tag] = conn.execute(sa.text(
                "INSERT INTO assets (tag, name, category, value, currency, status, location, created_at, updated_at)"
                " VALUES (:tag, :tag, 'Laptop', :value, 'CNY', 'in_stock', 'HQ', :now, :now) RETURNING id"),
                {"tag": tag, "value": value, "now": now}).scalar_one()
        ids["request"] = conn.execute(sa.text(
            "INSERT INTO requests (kind, asset_id, applicant_id, reason, state, step, steps_total, chain,"
            " required_role, version, created_at, updated_at) VALUES ('assign', :asset, :carol, 'old', 'pending',"
            " 1, 2, :chain, 'approver', 1, :now, :now) RETURNING id"),
            {"asset": ids["OLD-1"], "carol": ids["carol"], "chain": json.dumps(["approver", "admin"]), "now": now},
        ).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO request_events (request_id, actor_id, action, to_state, step, comment, created_at)"
            " VALUES (:request, :carol, 'submit', 'pending', 1, '', :now)"),
            {"request": ids["request"], "carol": ids["carol"], "now": now})
    engine.dispose()
    return ids


def rows(url: str, query: str, **params) -> list[tuple]:
    engine = engine_for(url)
    with engine.connect() as conn:
        found = [tuple(row) for row in conn.execute(sa.text(query), params)]
    engine.dispose()
    return found


@pytest.mark.timeout(180)
def test_a_wave_one_database_upgrades_and_its_pending_request_can_still_be_decided(old_database):
    ids = fill_wave_one(old_database)
    flask_cli(base_env(old_database), "db", "upgrade", ORGANISED)

    assert rows(old_database, "SELECT DISTINCT department_id FROM users") == [(1,)]
    assert rows(old_database, "SELECT DISTINCT department_id FROM assets") == [(1,)]
    assert rows(old_database, "SELECT id, code, parent_id FROM departments") == [(1, "HQ", None)]
    stored = rows(old_database, "SELECT match, steps FROM approval_rules ORDER BY position")
    as_json = [{"match": m if isinstance(m, dict) else json.loads(m), "steps": s if isinstance(s, list) else
                json.loads(s)} for m, s in stored]
    assert as_json == default_rules(Config.HIGH_VALUE_THRESHOLD)
    # Step 1's people: the active approvers but the applicant (Carol) and the inactive Eve; step 2 the admin.
    deciders = rows(old_database, "SELECT step, user_id FROM request_step_deciders WHERE request_id = :r"
                    " ORDER BY step, user_id", r=ids["request"])
    assert deciders == [(1, ids["bob"]), (1, ids["dora"]), (2, ids["root"])]

    flask_cli(base_env(old_database), "db", "upgrade")  # the code under test expects the newest schema
    _approve_through_the_api(old_database, ids)

    flask_cli(base_env(old_database), "db", "downgrade", PREVIOUS)
    tables = set(sa.inspect(engine_for(old_database)).get_table_names())
    assert not tables & {"departments", "approval_rules", "request_steps", "request_step_deciders", "delegations"}
    assert rows(old_database, "SELECT state, step FROM requests") == [("pending", 2)]


def _approve_through_the_api(url: str, ids: dict[str, int]) -> None:
    """Bob (a frozen decider) approves step 1 through the API of an app on the upgraded database."""
    config = type("Upgraded", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        client = app.test_client()

        def headers(username: str) -> dict:
            login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            return {"Authorization": f"Bearer {login.get_json()['access_token']}"}

        bob = headers("bob")
        assert [r["id"] for r in client.get("/api/requests?scope=inbox", headers=bob).get_json()["items"]] == [
            ids["request"]]
        assert client.post(f"/api/requests/{ids['request']}/approve", headers=headers("alice"),
                           json={}).status_code == 404  # not named: cannot even see it
        approved = client.post(f"/api/requests/{ids['request']}/approve", headers=bob, json={})
        assert approved.status_code == 200, approved.get_json()
        assert (approved.get_json()["state"], approved.get_json()["step"]) == ("pending", 2)
        detail = client.get(f"/api/requests/{ids['request']}", headers=headers("root")).get_json()
        assert [step["state"] for step in detail["steps"]] == ["done", "current"]
        db.session.remove()
        db.engine.dispose()
