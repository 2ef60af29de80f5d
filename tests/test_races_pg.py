"""Races on PostgreSQL, 50 rounds each: exactly one winner, the losers 409, nothing of theirs kept or sent.

Every round holds each racer's writes until all of them have read and passed their checks
(tests/races.py), so each round is the interleaving a check-then-act bug needs, not a lucky one.
"""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from assetflow.auth.tokens import actor_for
from assetflow.extensions import db
from assetflow.models import Asset, Decision, Notification, Request, RequestEvent, User
from assetflow.services import requests as service

from .conftest import Auth, build_app
from .factories import make_asset, make_user
from .races import emitted, race

pytestmark = pytest.mark.timeout(180)
ROUNDS = 50
MAX_DECIDERS = 10


@pytest.fixture(scope="module")
def pg(request):
    """One app on a scratch PostgreSQL database with the racing users logged in once."""
    app = build_app(request.getfixturevalue("postgres_url"))
    with app.app_context():
        auth = Auth(app.test_client())
        users = {"alice": make_user("employee"), "editor": make_user("admin")}
        users |= {f"approver{i}": make_user("approver") for i in range(MAX_DECIDERS)}
        users |= {f"admin{i}": make_user("admin") for i in range(MAX_DECIDERS)}
        headers = {name: auth.headers(user) for name, user in users.items()}
        yield app, {name: user.id for name, user in users.items()}, headers
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def ctx(pg):
    app, user_ids, headers = pg
    with app.app_context():
        yield app, {name: db.session.get(User, uid) for name, uid in user_ids.items()}, headers
        db.session.remove()


def totals() -> Counter:
    """Row counts and emitted events, to compare before and after a round."""
    db.session.expire_all()
    counts = Counter({model.__name__: db.session.query(model).count()
                      for model in (Request, Decision, RequestEvent, Notification)})
    counts.update({event: emitted(event) for event in ("approval_update", "queue_update", "request_changed")})
    return counts


def grew(before: Counter, after: Counter) -> dict:
    return {key: after[key] - before[key] for key in after if after[key] != before[key]}


def submitted(users, value: int = 1000) -> Request:
    return service.submit(actor_for(users["alice"]), {"kind": "assign", "asset_id": make_asset(value=value).id, "reason": "race"})


def approve_calls(headers, names, request_id):
    return [("POST", f"/api/requests/{request_id}/approve", headers[name], {}) for name in names]


def test_two_to_ten_deciders_on_one_step(ctx):
    app, users, headers = ctx
    for round_ in range(ROUNDS):
        n = 2 + round_ % (MAX_DECIDERS - 1)
        req = submitted(users)
        before = totals()
        statuses = race(app, approve_calls(headers, [f"approver{i}" for i in range(n)], req.id))
        assert sorted(statuses) == [200] + [409] * (n - 1), (round_, statuses)
        # One decision, one audit row, one notification (the applicant's), one push of each kind.
        assert grew(before, totals()) == {"Decision": 1, "RequestEvent": 1, "Notification": 1,
                                          "approval_update": 1, "queue_update": 1, "request_changed": 1}, round_
        assert (db.session.get(Request, req.id).state, db.session.get(Request, req.id).version) == ("approved", 2)


def test_two_to_ten_deciders_on_the_second_step_of_a_chain(ctx):
    app, users, headers = ctx
    for round_ in range(ROUNDS):
        n = 2 + round_ % (MAX_DECIDERS - 1)
        req = submitted(users, value=20000)
        service.decide(actor_for(users["approver0"]), req.id, "approve")
        before = totals()
        statuses = race(app, approve_calls(headers, [f"admin{i}" for i in range(n)], req.id))
        assert sorted(statuses) == [200] + [409] * (n - 1), (round_, statuses)
        assert grew(before, totals()) == {"Decision": 1, "RequestEvent": 1, "Notification": 1,
                                          "approval_update": 1, "queue_update": 1, "request_changed": 1}, round_
        assert db.session.get(Request, req.id).state == "approved"


def test_approve_against_withdraw(ctx):
    app, users, headers = ctx
    winners = Counter()
    for round_ in range(ROUNDS):
        req = submitted(users)
        before = totals()
        statuses = race(app, [("POST", f"/api/requests/{req.id}/approve", headers["approver0"], {}),
                              ("POST", f"/api/requests/{req.id}/withdraw", headers["alice"], {})])
        assert sorted(statuses) == [200, 409], (round_, statuses)
        after = totals()
        state = db.session.get(Request, req.id).state
        winners[state] += 1
        assert state == ("approved" if statuses[0] == 200 else "withdrawn")
        # The applicant hears of an approval; of their own withdrawal nobody needs a notification.
        won = {"Decision": 1, "Notification": 1, "approval_update": 1} if state == "approved" else {}
        assert grew(before, after) == {**won, "RequestEvent": 1, "queue_update": 1, "request_changed": 1}, round_
    assert sum(winners.values()) == ROUNDS


def test_approve_against_return(ctx):
    """A return and an approval of the same step at once: one wins, the other is 409 and leaves nothing."""
    app, users, headers = ctx
    winners = Counter()
    for round_ in range(ROUNDS):
        req = submitted(users)
        before = totals()
        statuses = race(app, [("POST", f"/api/requests/{req.id}/approve", headers["approver0"], {}),
                              ("POST", f"/api/requests/{req.id}/return", headers["approver1"], {"comment": "why?"})])
        assert sorted(statuses) == [200, 409], (round_, statuses)
        after = totals()
        state = db.session.get(Request, req.id).state
        winners[state] += 1
        assert state == ("approved" if statuses[0] == 200 else "returned"), (round_, statuses)
        # Either way the applicant is told once and the other approvers' queues drop it; only an approval decides.
        won = {"Decision": 1} if state == "approved" else {}
        assert grew(before, after) == {**won, "RequestEvent": 1, "Notification": 1, "approval_update": 1,
                                          "queue_update": 1, "request_changed": 1}, round_
    assert sum(winners.values()) == ROUNDS


def test_admin_asset_edit_against_submit(ctx):
    app, users, headers = ctx
    deciders = sum(1 for name in users if name.startswith("approver"))
    for round_ in range(ROUNDS):
        asset_id = make_asset().id
        before = totals()
        statuses = race(app, [
            ("PATCH", f"/api/assets/{asset_id}", headers["editor"], {"status": "in_repair"}),
            ("POST", "/api/requests", headers["alice"], {"kind": "assign", "asset_id": asset_id, "reason": "race"}),
        ])
        edit, submit = statuses
        assert sorted([edit, submit]) in ([200, 409], [201, 409]), (round_, statuses)
        after = totals()
        asset = db.session.get(Asset, asset_id)
        if submit == 201:  # the asset is locked by a pending assign and still in stock
            assert (asset.status, asset.locked) == ("in_stock", True)
            assert grew(before, after) == {"Request": 1, "RequestEvent": 1, "Notification": deciders,
                                              "approval_update": deciders, "queue_update": 1, "request_changed": 1}, round_
        else:  # in repair, and nothing of the refused submit was stored or sent
            assert (asset.status, asset.locked) == ("in_repair", False)
            assert grew(before, after) == {}, round_


def test_concurrent_submits_to_the_same_deciders_all_succeed_with_gapless_seqs(ctx):
    """Each submit's inserts take key-share locks on its deciders' rows (foreign keys), then it locks
    them for their seqs: that lock must not conflict with the other submits' key-share locks."""
    app, _, headers = ctx
    for round_ in range(10):
        n = 2 + round_ % 5
        before = totals()
        calls = [("POST", "/api/requests", headers["alice"], {
            "kind": "acquire", "reason": "race", "name": f"Race {round_}.{i}", "category": "Race", "value": "100.00",
        }) for i in range(n)]
        statuses = race(app, calls)
        assert statuses == [201] * n, (round_, statuses)
        assert grew(before, totals())["Request"] == n
    seqs: dict[int, list[int]] = {}
    for user_id, seq in db.session.execute(sa.select(Notification.user_id, Notification.seq)):
        seqs.setdefault(user_id, []).append(seq)
    assert seqs and all(sorted(s) == list(range(1, len(s) + 1)) for s in seqs.values())
