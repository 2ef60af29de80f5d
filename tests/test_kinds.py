"""The kinds' registry: one spec per kind, published by GET /api/meta, checked at submit and again at final approval."""

from decimal import Decimal

import pytest

from assetflow.extensions import db
from assetflow.models import Asset, Decision, Notification, Request, RequestEvent
from assetflow.models.request import REQUEST_KINDS
from assetflow.services.kinds import KINDS
from config import currency

from .actions import Person, approve, count, resubmit, submit, withdraw
from .conftest import Auth, build_app
from .factories import make_asset, make_user


def snapshot(request_id: int, asset_id: int | None) -> tuple:
    """What an approval would change: the request, the asset, the decisions, the trail and the inboxes."""
    db.session.expire_all()
    req = db.session.get(Request, request_id)
    asset = db.session.get(Asset, asset_id) if asset_id else None
    return ((req.state, req.step, req.version), asset and (asset.status, asset.custodian_id, asset.version),
            count(Decision), count(RequestEvent), count(Notification))


def test_a_transfer_to_a_user_deactivated_before_final_approval_is_409_and_changes_nothing(shared_app):
    client = shared_app.test_client()
    auth = Auth(client)
    alice, erin, bob, admin = make_user("employee"), make_user("employee"), make_user("approver"), make_user("admin")
    asset = make_asset("in_use", custodian=alice)
    request_id = submit(client, auth.person(alice), "transfer", asset_id=asset.id, target_user_id=erin.id,
                        reason="handover")["id"]
    deactivated = client.patch(f"/api/users/{erin.id}", headers=auth.headers(admin), json={"active": False})
    assert deactivated.status_code == 200, deactivated.get_json()
    before = snapshot(request_id, asset.id)

    error = approve(client, auth.person(bob), request_id, expect=409, code="precondition_failed")["error"]
    assert error["details"]["precondition"] == "target_user_active"
    assert error["details"]["target_user_id"] == erin.id and "no longer active" in error["message"]
    assert snapshot(request_id, asset.id) == before
    assert before[:2] == (("pending", 1, 1), ("in_use", alice.id, before[1][2]))


def test_a_disposal_of_stock_by_an_approver_demoted_before_final_approval_is_409(client, people):
    bob, carol, admin = people["bob"], people["carol"], people["admin"]
    asset = make_asset("in_stock")
    req = submit(client, bob, "dispose", asset_id=asset.id, reason="broken")
    approve(client, carol, req["id"])
    demoted = client.patch(f"/api/users/{bob.id}", headers=admin.headers, json={"role": "employee"})
    assert demoted.status_code == 200, demoted.get_json()
    before = snapshot(req["id"], asset.id)

    error = approve(client, admin, req["id"], expect=409, code="precondition_failed")["error"]
    assert error["details"]["precondition"] == "who_may_ask"
    assert error["details"]["allowed"] == ["approver", "admin"]
    assert snapshot(req["id"], asset.id) == before


def test_a_final_approval_whose_asset_moved_on_names_the_asset_status(client, people):
    asset = make_asset()
    req = submit(client, people["alice"], asset_id=asset.id)
    db.session.get(Asset, asset.id).status = "in_repair"
    db.session.commit()
    before = snapshot(req["id"], asset.id)
    error = approve(client, people["bob"], req["id"], expect=409, code="precondition_failed")["error"]
    assert error["details"]["precondition"] == "asset_status" and snapshot(req["id"], asset.id) == before
    assert error["details"]["asset_status"] == "in_repair" and error["details"]["allowed"] == ["in_stock"]


def acquire(client, person: Person, **body) -> dict:
    """A new acquire request for a dock."""
    return submit(client, person, "acquire", name="Dock", category="Accessory", value="180", reason="desk", **body)


def test_an_acquire_without_a_currency_is_stored_with_the_default_currency(client, people):
    req = acquire(client, people["alice"])
    assert req["currency"] == "CNY"
    assert db.session.get(Request, req["id"]).currency == "CNY"
    assert acquire(client, people["alice"], currency="USD")["currency"] == "USD"


def test_the_default_currency_is_a_setting():
    app = build_app(DEFAULT_CURRENCY="EUR")
    with app.app_context():
        client = app.test_client()
        alice, bob = make_user("employee"), make_user("approver")
        auth = Auth(client)
        assert client.get("/api/meta").get_json()["default_currency"] == "EUR"
        req = acquire(client, auth.person(alice))
        assert req["currency"] == "EUR"
        approved = approve(client, auth.person(bob), req["id"])
        assert db.session.get(Asset, approved["asset_id"]).currency == "EUR"
        db.session.remove()


@pytest.mark.parametrize("setting", ["cny", "EURO", "", "E1R"])
def test_a_malformed_default_currency_stops_the_start(setting):
    with pytest.raises(RuntimeError, match="DEFAULT_CURRENCY"):
        currency(setting)


def test_meta_publishes_every_kind_of_the_registry(client):
    body = client.get("/api/meta").get_json()
    published = {k["name"]: k for k in body["kinds"]}
    assert list(published) == list(KINDS) == list(REQUEST_KINDS)
    for name, spec in KINDS.items():
        entry = published[name]
        assert entry["fits"] == (list(spec.fits) if spec.fits is not None else None)
        assert entry["who_may_ask"] == {status: list(who) for status, who in spec.who_may_ask.items()}
        assert [f["name"] for f in entry["fields"]] == [f.name for f in spec.fields]
        assert entry["required"] == [f.name for f in spec.fields if f.required]
        assert entry["optional"] == [f.name for f in spec.fields if not f.required]
        assert entry["wording"] == {"label": f"kind.{name}", "help": f"submit.kindHelp.{name}"}
    currency_field = next(f for f in published["acquire"]["fields"] if f["name"] == "currency")
    assert (currency_field["type"], currency_field["default"]) == ("currency", "CNY")
    assert published["dispose"]["who_may_ask"]["in_stock"] == ["approver"]


def test_a_resubmit_copies_the_fields_its_kind_takes(client, people):
    alice = people["alice"]
    req = acquire(client, alice, currency="USD")
    withdraw(client, alice, req["id"])
    again = resubmit(client, alice, req["id"])
    copy = db.session.get(Request, again["id"])
    assert (copy.name, copy.category, copy.value, copy.currency) == ("Dock", "Accessory", Decimal("180.00"), "USD")
    assert copy.target_user_id is None and copy.asset_id is None


def test_a_kind_stores_only_the_fields_it_takes(client, people):
    asset = make_asset()
    req = submit(client, people["alice"], asset_id=asset.id, name="stray", value="5")
    stored = db.session.get(Request, req["id"])
    assert (stored.name, stored.value, stored.currency) == (None, None, None)


@pytest.mark.parametrize(("mail_url", "configured"), [("", False), ("smtp://127.0.0.1:2525", True)])
def test_meta_says_whether_email_is_configured(mail_url, configured):
    app = build_app(MAIL_URL=mail_url)
    assert app.test_client().get("/api/meta").get_json()["email_configured"] is configured
