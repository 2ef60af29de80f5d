"""The durable inbox: rows per recipient, gap-free seq, and the HTTP endpoints."""

from assetflow.extensions import db
from assetflow.models import Notification
from assetflow.services.notify import NAMED_WAITING

from .actions import approve, assert_refused, reject, submit, withdraw
from .factories import make_asset, make_user


def rows_for(user):
    return db.session.query(Notification).filter_by(user_id=user.id).order_by(Notification.seq).all()


def test_submit_notifies_applicant_and_first_step_deciders(client, people):
    submit(client, people["alice"])
    recipients = {n.user_id for n in db.session.query(Notification)}
    assert recipients == {people[name].user.id for name in ("bob", "carol")}
    payload = rows_for(people["bob"].user)[0].payload
    assert payload["status"] == "pending" and payload["kind"] == "assign" and payload["asset_tag"]


def test_advance_notifies_next_step_role_only(client, people):
    req = submit(client, people["alice"], asset_id=make_asset(value=50000).id)
    approve(client, people["bob"], req["id"])
    latest = db.session.query(Notification).filter(Notification.payload.isnot(None)).all()
    advanced = {n.user_id for n in latest if n.payload["step"] == 2}
    assert advanced == {people["alice"].user.id, people["admin"].user.id, people["root"].user.id}
    assert people["bob"].user.id not in advanced  # the actor


def test_final_decision_notifies_applicant(client, people):
    req = submit(client, people["alice"])
    reject(client, people["bob"], req["id"], comment="not now")
    last = rows_for(people["alice"].user)[-1].payload
    assert (last["status"], last["comment"], last["actor"]["name"]) == ("rejected", "not now", people["bob"].user.display_name)
    assert len(rows_for(people["carol"].user)) == 1  # Carol only heard of the submission.


def test_seq_counts_up_by_exactly_one(client, people):
    for _ in range(4):
        req = submit(client, people["alice"])
        approve(client, people["bob"], req["id"])
    assert [n.seq for n in rows_for(people["alice"].user)] == list(range(1, 5))
    assert [n.seq for n in rows_for(people["carol"].user)] == [1, 2, 3, 4]


def test_list_after_seq_and_unread(client, people):
    alice_h = people["bob"].headers  # Bob hears of each of Alice's submissions
    for _ in range(3):
        submit(client, people["alice"])
    body = client.get("/api/notifications", headers=alice_h, query_string={"after_seq": 1}).get_json()
    assert [n["seq"] for n in body["items"]] == [2, 3]
    assert body["unread_count"] == 3 and body["last_seq"] == 3
    assert body["items"][0]["payload"]["event"] == "approval_update"
    newest = client.get("/api/notifications", headers=alice_h, query_string={"limit": 2}).get_json()
    assert [n["seq"] for n in newest["items"]] == [3, 2]
    older = client.get("/api/notifications", headers=alice_h, query_string={"limit": 2, "before_seq": 2}).get_json()
    assert [n["seq"] for n in older["items"]] == [1]


def test_mark_read_and_read_all(client, people):
    alice_h = people["bob"].headers  # Bob hears of each of Alice's submissions
    for _ in range(3):
        submit(client, people["alice"])
    first = client.get("/api/notifications", headers=alice_h).get_json()["items"][-1]
    read = client.post(f"/api/notifications/{first['id']}/read", headers=alice_h).get_json()
    assert read["read_at"] is not None
    assert client.get("/api/notifications/unread-count", headers=alice_h).get_json() == {"count": 2}
    unread = client.get("/api/notifications", headers=alice_h, query_string={"unread": "true"}).get_json()
    assert len(unread["items"]) == 2
    assert client.post("/api/notifications/read-all", headers=alice_h).get_json()["updated"] == 2
    assert client.get("/api/notifications/unread-count", headers=alice_h).get_json() == {"count": 0}


def test_cannot_read_someone_elses_notification(client, people):
    submit(client, people["alice"])
    theirs = rows_for(people["bob"].user)[0]
    response = client.post(f"/api/notifications/{theirs.id}/read", headers=people["alice"].headers)
    assert_refused(response, 404, "not_found")
    assert db.session.get(Notification, theirs.id).read_at is None


def test_bad_notification_query_is_422(client, people):
    for query in ({"after_seq": -1}, {"before_seq": 0}, {"limit": 0}, {"limit": 501}, {"unread": "maybe"}):
        response = client.get("/api/notifications", headers=people["alice"].headers, query_string=query)
        assert_refused(response, 422, "validation_error")


def test_rejected_submit_writes_no_notification(client, people):
    asset = make_asset(status="disposed")
    submit(client, people["alice"], asset_id=asset.id, expect=422, code="validation_error")
    assert db.session.query(Notification).count() == 0


def test_nobody_is_notified_of_their_own_action(client, people):
    alice, bob = people["alice"].user, people["bob"].user
    req = submit(client, people["alice"])
    assert rows_for(alice) == []  # her own submission: the HTTP answer told her
    approve(client, people["bob"], req["id"])
    assert [n.payload["action"] for n in rows_for(alice)] == ["approve"]
    assert [n.payload["action"] for n in rows_for(bob)] == ["submit"]  # not his own approval
    other = submit(client, people["alice"])
    withdraw(client, people["alice"], other["id"])
    assert [n.payload["action"] for n in rows_for(alice)] == ["approve"]
    assert client.get("/api/notifications/unread-count", headers=people["alice"].headers).get_json() == {"count": 1}


def test_advanced_step_names_the_role_that_decides_next(client, people):
    req = submit(client, people["alice"], asset_id=make_asset(value=50000).id)
    assert rows_for(people["bob"].user)[-1].payload["required_role"] == "approver"
    approve(client, people["bob"], req["id"])
    advanced = rows_for(people["alice"].user)[-1].payload
    assert (advanced["action"], advanced["step"], advanced["required_role"]) == ("advance", 2, "admin")
    approve(client, people["admin"], req["id"])
    assert rows_for(people["alice"].user)[-1].payload["required_role"] is None


def test_an_update_names_who_the_step_waits_for(client, people):
    req = submit(client, people["alice"], asset_id=make_asset(value=50000).id)  # approver, then admin
    submitted = rows_for(people["bob"].user)[-1].payload
    approvers = sorted(people[name].user.display_name for name in ("bob", "carol"))
    assert submitted["waiting_for"] == {"names": approvers, "count": 2}
    approve(client, people["bob"], req["id"])
    advanced = rows_for(people["alice"].user)[-1].payload
    admins = sorted(people[name].user.display_name for name in ("admin", "root"))
    assert advanced["action"] == "advance" and advanced["waiting_for"] == {"names": admins, "count": 2}
    approve(client, people["admin"], req["id"])
    assert rows_for(people["alice"].user)[-1].payload["waiting_for"] is None


def test_a_crowded_step_names_the_first_few_and_counts_the_rest(client, people):
    for n in range(4):
        make_user("approver", f"extra{n}")
    submit(client, people["alice"])
    waiting = rows_for(people["bob"].user)[-1].payload["waiting_for"]
    assert waiting["count"] == 6 and len(waiting["names"]) == NAMED_WAITING == 3
    assert waiting["names"] == sorted(waiting["names"])
