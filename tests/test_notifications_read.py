"""Opening a request reads its notifications, and every read reaches each of the reader's tabs live
(`notifications_read`), on SQLite and PostgreSQL (the payload's request id is read from JSON)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Notification

from .actions import approve, assert_refused, expect_status, submit
from .conftest import app_on
from .test_realtime import connect, received


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


def unread_of(person) -> dict[int, int]:
    """The person's unread notifications: id → the request each is about."""
    rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == person.id,
                                                            Notification.read_at.is_(None)))
    return {row.id: row.payload["request_id"] for row in rows}


def read_request(client, person, request_id: int) -> dict:
    return expect_status(client.post(f"/api/notifications/read-all?request_id={request_id}",
                                     headers=person.headers), 200)


def test_opening_a_request_reads_its_notifications_only_and_tells_every_tab(app, client, people):
    alice = people["alice"]
    first, second = submit(client, alice), submit(client, alice)
    approve(client, people["bob"], first["id"])
    approve(client, people["bob"], second["id"])  # Alice: one notification about each request
    db.session.expire_all()
    assert sorted(unread_of(alice).values()) == [first["id"], second["id"]]
    tabs = [connect(app, alice.token), connect(app, alice.token)]
    someone_else = connect(app, people["bob"].token)
    for socket in (*tabs, someone_else):
        socket.get_received()

    body = read_request(client, alice, first["id"])

    db.session.expire_all()
    assert body == {"updated": 1, "count": 1}
    assert list(unread_of(alice).values()) == [second["id"]]
    [read_id] = db.session.scalars(sa.select(Notification.id).where(
        Notification.user_id == alice.id, Notification.read_at.is_not(None)))
    last_seq = max(db.session.scalars(sa.select(Notification.seq).where(Notification.user_id == alice.id)))
    for tab in tabs:
        assert received(tab, "notifications_read") == [{"ids": [read_id], "unread_count": 1, "last_seq": last_seq}]
    assert received(someone_else, "notifications_read") == []


def test_reading_again_changes_nothing_and_tells_nobody(app, client, people):
    alice = people["alice"]
    req = submit(client, alice)
    approve(client, people["bob"], req["id"])
    read_request(client, alice, req["id"])
    tab = connect(app, alice.token)
    tab.get_received()
    assert read_request(client, alice, req["id"]) == {"updated": 0, "count": 0}
    assert received(tab, "notifications_read") == []


def test_another_users_request_reads_nothing_of_theirs(app, client, people):
    alice, bob = people["alice"], people["bob"]
    req = submit(client, alice)  # Bob and Carol are told
    assert read_request(client, alice, req["id"]) == {"updated": 0, "count": 0}
    db.session.expire_all()
    assert list(unread_of(bob).values()) == [req["id"]]


def test_one_read_and_read_all_also_reach_every_tab(app, client, people):
    bob = people["bob"]
    for _ in range(3):
        submit(client, people["alice"])
    tab = connect(app, bob.token)
    tab.get_received()
    one = min(unread_of(bob))
    expect_status(client.post(f"/api/notifications/{one}/read", headers=bob.headers), 200)
    assert received(tab, "notifications_read") == [{"ids": [one], "unread_count": 2, "last_seq": 3}]
    assert expect_status(client.post("/api/notifications/read-all", headers=bob.headers), 200) == {
        "updated": 2, "count": 0}
    # Every one up to last_seq: the ids of a whole inbox are not listed.
    assert received(tab, "notifications_read") == [{"ids": None, "unread_count": 0, "last_seq": 3}]


def test_a_bad_request_id_is_a_422(client, people):
    response = client.post("/api/notifications/read-all?request_id=x", headers=people["alice"].headers)
    error = assert_refused(response, 422, "validation_error")
    assert list(error["details"]["fields"]) == ["request_id"]
