"""When a step is due: `due_at` and `overdue` on the request list and page, the queue's `due` sort and `overdue`
filter, on SQLite and PostgreSQL, with an injected clock; and the timers fire at the very time the API shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import RequestStep, base
from assetflow.services import timers

from .actions import approve, assert_refused, expect_status, submit
from .conftest import app_on
from .factories import make_asset, set_rules
from .test_read_model import page_cost

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APPROVER = {"decider": "role", "role": "approver", "scope": "company"}
ADMIN = {"decider": "role", "role": "admin", "scope": "company"}


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    """Both databases: the due time is date arithmetic, which each does in its own SQL."""
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


@pytest.fixture
def clock(monkeypatch):
    """The read model's and the lists' clock, set by the test: `clock.now = ...`."""

    class Clock:
        now = START

    monkeypatch.setattr(base, "utcnow", lambda: Clock.now)
    return Clock


def rule(**hours) -> None:
    """One rule for every request: an approver step with these timers, then an admin step due in 2 h."""
    set_rules([{"match": {}, "steps": [{**APPROVER, **hours}, {**ADMIN, "remind_after_hours": 2}]}])


def started(request_id: int, at: datetime, step: int = 1) -> None:
    """Say the request's step started at `at` (the clock the timers count from)."""
    db.session.execute(sa.update(RequestStep).where(RequestStep.request_id == request_id, RequestStep.step == step)
                       .values(started_at=at))
    db.session.commit()


def iso(at: datetime) -> str:
    return at.isoformat()


def row(client, person, request_id: int) -> dict:
    """The request as the approver's queue lists it."""
    body = expect_status(client.get("/api/requests?scope=all&per_page=100", headers=person.headers), 200)
    return next(item for item in body["items"] if item["id"] == request_id)


def detail(client, person, request_id: int) -> dict:
    return expect_status(client.get(f"/api/requests/{request_id}", headers=person.headers), 200)


def test_the_first_timer_of_the_current_step_is_when_it_is_due(client, people, clock):
    rule(remind_after_hours=24, escalate_after_hours=6, escalate_to="admin")
    req = submit(client, people["alice"])
    started(req["id"], START)
    due = START + timedelta(hours=6)  # the escalation comes before the reminder
    for seen in (row(client, people["bob"], req["id"]), detail(client, people["bob"], req["id"]),
                 detail(client, people["alice"], req["id"])):
        assert seen["due_at"] == iso(due) and seen["overdue"] is False

    clock.now = due - timedelta(seconds=1)
    assert row(client, people["bob"], req["id"])["overdue"] is False
    clock.now = due  # due means due: as the timers judge it (<= now)
    assert row(client, people["bob"], req["id"])["overdue"] is True
    assert detail(client, people["bob"], req["id"])["overdue"] is True


def test_the_next_step_counts_from_its_own_start_and_a_decided_request_is_due_never(client, people, clock):
    rule(remind_after_hours=1.5)
    req = submit(client, people["alice"])
    started(req["id"], START)
    assert row(client, people["bob"], req["id"])["due_at"] == iso(START + timedelta(hours=1.5))

    clock.now = START + timedelta(hours=5)
    advanced = approve(client, people["bob"], req["id"])  # step 2 (the admin's, due in 2 h) starts at the real now
    step_two = db.session.scalar(sa.select(RequestStep.started_at).where(RequestStep.request_id == req["id"],
                                                                         RequestStep.step == 2))
    # Read back to the millisecond (SQLite's date functions count whole milliseconds).
    assert abs(datetime.fromisoformat(advanced["due_at"]) - (step_two + timedelta(hours=2))) < timedelta(milliseconds=1)
    started(req["id"], START + timedelta(hours=5), step=2)
    seen = detail(client, people["admin"], req["id"])
    assert seen["due_at"] == iso(START + timedelta(hours=7)) and seen["overdue"] is False

    finished = approve(client, people["admin"], req["id"])
    assert finished["state"] == "approved" and finished["due_at"] is None and finished["overdue"] is False
    assert detail(client, people["alice"], req["id"])["due_at"] is None


def test_a_step_without_timers_is_never_due(client, people, clock):
    set_rules([{"match": {}, "steps": [APPROVER]}])
    req = submit(client, people["alice"])
    clock.now = START + timedelta(days=365)
    seen = row(client, people["bob"], req["id"])
    assert seen["due_at"] is None and seen["overdue"] is False


def test_the_timers_fire_at_the_due_time_the_api_shows(client, people, clock):
    rule(remind_after_hours=0.25)
    req = submit(client, people["alice"])
    due = datetime.fromisoformat(row(client, people["bob"], req["id"])["due_at"])
    assert timers.run_due(due - timedelta(milliseconds=5)) == {"reminded": 0, "escalated": 0}
    assert timers.run_due(due + timedelta(milliseconds=5)) == {"reminded": 1, "escalated": 0}


@pytest.fixture
def queue(client, people, clock):
    """Four pending requests of Alice's for Bob's queue: due in 1 h, overdue by 2 h, never due, due in 10 h."""
    set_rules([
        {"match": {"min_value": 300}, "steps": [APPROVER]},
        {"match": {"min_value": 200}, "steps": [{**APPROVER, "remind_after_hours": 12}]},
        {"match": {}, "steps": [{**APPROVER, "escalate_after_hours": 3, "escalate_to": "admin"}]},
    ])
    made = {}
    for name, value, start in (("soon", 100, START), ("late", 110, START - timedelta(hours=5)), ("never", 300, START),
                               ("later", 200, START - timedelta(hours=2))):
        made[name] = submit(client, people["alice"], asset_id=make_asset(value=value).id)["id"]
        started(made[name], start)
    clock.now = START + timedelta(hours=2)
    return made


def ids(client, person, query: str) -> list[int]:
    body = expect_status(client.get(f"/api/requests?scope=inbox&{query}", headers=person.headers), 200)
    return [item["id"] for item in body["items"]]


def test_the_queue_sorts_by_due_time_soonest_first_and_never_due_last(client, people, queue):
    bob = people["bob"]
    assert ids(client, bob, "sort=due") == [queue["late"], queue["soon"], queue["later"], queue["never"]]
    assert ids(client, bob, "sort=-due") == [queue["later"], queue["soon"], queue["late"], queue["never"]]
    # A page break falls between two requests without a due time in the same order each time (the id tiebreak).
    assert ids(client, bob, "sort=due&per_page=2&page=2") == [queue["later"], queue["never"]]


def test_the_queue_filters_the_overdue(client, people, queue):
    bob = people["bob"]
    assert ids(client, bob, "overdue=true") == [queue["late"]]
    assert sorted(ids(client, bob, "overdue=false")) == sorted([queue["soon"], queue["never"], queue["later"]])
    body = expect_status(client.get("/api/requests?scope=inbox&overdue=1", headers=bob.headers), 200)
    assert body["total"] == 1 and body["items"][0]["overdue"] is True
    assert body["items"][0]["due_at"] == iso(START - timedelta(hours=2))


def test_a_bad_overdue_or_sort_is_a_422_naming_it(client, people):
    bob = people["bob"]
    error = assert_refused(client.get("/api/requests?overdue=maybe", headers=bob.headers), 422, "validation_error")
    assert list(error["details"]["fields"]) == ["overdue"]
    error = assert_refused(client.get("/api/requests?sort=dueness", headers=bob.headers), 422, "validation_error")
    assert list(error["details"]["fields"]) == ["sort"]


def test_meta_publishes_the_due_sort(client, people):
    body = expect_status(client.get("/api/meta", headers=people["bob"].headers), 200)
    assert "due" in body["sorts"]["requests"]


def test_due_times_cost_one_query_for_a_whole_page(client, people, queue, monkeypatch):
    bob = people["bob"]
    small, _ = page_cost(client, bob.headers, monkeypatch, scope="inbox", sort="due", per_page=2)
    for _ in range(6):
        submit(client, people["alice"], asset_id=make_asset(value=100).id)
    large, body = page_cost(client, bob.headers, monkeypatch, scope="inbox", sort="due", per_page=10)
    assert len(body["items"]) == 10 and sum(item["due_at"] is not None for item in body["items"]) == 9
    assert len(large.statements) == len(small.statements)
