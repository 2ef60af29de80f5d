"""Return for changes: a decider returns a request with a comment, its applicant edits it and resumes it.

The flows run on SQLite and PostgreSQL (`shared_app`) with real Socket.IO test clients; the refusals, each with
its error code and with nothing changed, on the default app.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from assetflow.delivery import worker
from assetflow.extensions import db
from assetflow.models import (
    Decision,
    Notification,
    OutboxMessage,
    Request,
    RequestEvent,
    RequestStep,
    User,
    Webhook,
)
from assetflow.models.base import utcnow
from assetflow.services import email_links, notify, timers

from .actions import (
    Person,
    approve,
    count,
    decide,
    detail,
    edit,
    reject,
    request_state,
    resume,
    send_back,
    submit,
    withdraw,
)
from .conftest import Auth
from .factories import make_asset, make_department, make_user, set_rules
from .receivers import MailReceiver
from .test_delegations import delegate
from .test_email import after
from .test_realtime import connect, received


def listen(app, person: Person):
    """A socket of this person that has seen every notification so far (no replay)."""
    return connect(app, person.token, notify.last_seq(person.id))

APPROVER = {"decider": "role", "role": "approver", "scope": "company"}
ADMIN = {"decider": "role", "role": "admin", "scope": "company"}
EVENTS = ["request.returned", "request.edited", "request.resumed"]


class Office:
    """Alice (employee), Bob and Carol (approvers), Ada and Root (admins), all logged in, on one app."""

    def __init__(self, app):
        self.client = app.test_client()
        auth = Auth(self.client)
        self.alice, self.erin = (auth.person(make_user("employee")) for _ in range(2))
        self.bob, self.carol = (auth.person(make_user("approver")) for _ in range(2))
        self.ada, self.root = (auth.person(make_user("admin")) for _ in range(2))
        self.hook = Webhook(url="https://hooks.example.com/x", events=EVENTS, secret="s" * 20,
                            created_by_id=self.ada.id)
        db.session.add(self.hook)
        db.session.commit()

    def acquire(self, value: int | str = 5000, **fields) -> dict:
        body = {"name": "Laptop", "category": "Laptop", "value": str(value), "currency": "CNY", **fields}
        return submit(self.client, self.alice, "acquire", **body)


@pytest.fixture
def office(shared_app):
    return Office(shared_app)


def trail(request_id: int) -> list[tuple]:
    """The audit rows after the submit: (action, from, to, step, comment)."""
    db.session.expire_all()
    rows = db.session.execute(sa.select(RequestEvent.action, RequestEvent.from_state, RequestEvent.to_state,
                                        RequestEvent.step, RequestEvent.comment)
                              .where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)).all()
    return [tuple(row) for row in rows[1:]]


def webhook_rows(request_id: int) -> list[tuple[str, dict]]:
    rows = db.session.execute(sa.select(OutboxMessage.event, OutboxMessage.payload)
                              .where(OutboxMessage.channel == "webhook").order_by(OutboxMessage.id)).all()
    return [(event, payload) for event, payload in rows if payload["request_id"] == request_id]


def inbox(client, person: Person) -> list[int]:
    body = client.get("/api/requests?scope=inbox", headers=person.headers).get_json()
    return [item["id"] for item in body["items"]]


def heard(socket) -> dict[str, list[tuple]]:
    """What the socket received since last asked, by event name: (request, status or state, step, action)."""
    found: dict[str, list[tuple]] = {}
    for message in socket.get_received():
        e = message["args"][0]
        found.setdefault(message["name"], []).append(
            (e["request_id"], e.get("status", e.get("state")), e["step"], e["action"]))
    return found


def test_a_return_goes_to_the_applicant_live_and_resumes_at_the_step_that_returned_it(shared_app, office):
    o, client = office, office.client
    req = o.acquire(20000)  # approver, then admin
    rid = req["id"]
    approve(client, o.bob, rid)
    alice, ada, root, bob = (listen(shared_app, p) for p in (o.alice, o.ada, o.root, o.bob))

    returned = send_back(client, o.ada, rid, comment="Attach the supplier's quote")
    assert (returned["state"], returned["step"], returned["required_role"]) == ("returned", 2, None)
    assert returned["allowed_actions"] == ["comment"]  # the returner waits, as the other deciders do
    [told] = received(alice)
    assert (told["status"], told["step"], told["action"], told["comment"]) == (
        "returned", 2, "return", "Attach the supplier's quote")
    assert told["actor"]["id"] == o.ada.id
    assert heard(root) == {"queue_update": [(rid, "returned", 2, "return")]}  # it leaves the other admin's queue
    assert heard(ada) == {"request_changed": [(rid, "returned", 2, "return")]}  # the returner's other tabs
    assert heard(bob) == {}  # who decided step 1 is not told until it is decided
    assert inbox(client, o.root) == inbox(client, o.ada) == []
    assert db.session.get(Request, rid).asset is None and count(Decision, Decision.request_id == rid) == 1

    shown = detail(client, o.alice, rid)
    assert shown["allowed_actions"] == ["withdraw", "edit", "resume", "comment"]
    assert [step["state"] for step in shown["steps"]] == ["done", "returned"]
    changed = edit(client, o.alice, rid, reason="Quote from ACME attached")
    assert (changed["state"], changed["step"], changed["version"]) == ("returned", 2, returned["version"] + 1)
    assert heard(root) == heard(ada) == {}  # the deciders hear of it when it resumes

    resumed = resume(client, o.alice, rid)
    assert (resumed["state"], resumed["step"], resumed["required_role"]) == ("pending", 2, "admin")
    back = {"approval_update": [(rid, "pending", 2, "resume")], "queue_update": [(rid, "pending", 2, "resume")]}
    assert heard(ada) == heard(root) == back  # the admin who returned it sees it come back
    assert heard(alice) == {"request_changed": [(rid, "returned", 2, "edit"), (rid, "pending", 2, "resume")]}
    assert heard(bob) == {}
    assert sorted(inbox(client, o.ada) + inbox(client, o.root)) == [rid, rid]
    assert trail(rid)[1:] == [
        ("return", "pending", "returned", 2, "Attach the supplier's quote"),
        ("edit", "returned", "returned", 2, "reason: needed → Quote from ACME attached"),
        ("resume", "returned", "pending", 2,
         "Resumed at step 2, where it was returned: the matching rule is unchanged"),
    ]
    approve(client, o.ada, rid)
    assert request_state(rid)[0] == "approved" and count(Decision, Decision.request_id == rid) == 2
    assert [(e, p["action"], p["state"]) for e, p in webhook_rows(rid)] == [
        ("request.returned", "return", "returned"), ("request.edited", "edit", "returned"),
        ("request.resumed", "resume", "pending")]
    assert webhook_rows(rid)[2][1]["rerouted"] is False


def test_an_edit_across_a_rule_threshold_reroutes_and_resumes_at_step_1_of_the_new_chain(shared_app, office):
    o, client = office, office.client
    rid = o.acquire(20000)["id"]  # approver, then admin
    approve(client, o.bob, rid)
    send_back(client, o.ada, rid, comment="Too dear: a cheaper model?")
    changed = edit(client, o.alice, rid, value="5000", name="Cheaper laptop")
    # Below the threshold the default rules ask for one approver: a new chain, at its step 1, still returned.
    assert (changed["state"], changed["step"], changed["steps_total"], changed["value"]) == (
        "returned", 1, 1, "5000.00")
    bob, carol = listen(shared_app, o.bob), listen(shared_app, o.carol)
    resumed = resume(client, o.alice, rid)
    assert (resumed["state"], resumed["step"], resumed["steps_total"]) == ("pending", 1, 1)
    assert trail(rid)[2:] == [
        ("edit", "returned", "returned", 1, "name: Laptop → Cheaper laptop; value: 20000.00 → 5000.00"),
        ("reroute", "returned", "returned", 1, "The edit changed the matching rule (rule 2 → rule 3); the chain "
                                               "was resolved again and starts at step 1: approver"),
        ("resume", "returned", "pending", 1,
         "Resumed at step 1 of the chain resolved again: an edit changed the matching rule"),
    ]
    [told] = received(bob)
    assert (told["status"], told["step"], told["action"], told["rerouted"]) == ("pending", 1, "resume", True)
    assert heard(carol)["approval_update"] == [(rid, "pending", 1, "resume")]
    # Bob approved step 1 of the replaced chain: that was a vote on 20000; on the new chain he decides afresh.
    approve(client, o.bob, rid)
    db.session.expire_all()
    assert request_state(rid)[0] == "approved"
    assert sorted(db.session.execute(sa.select(Decision.chain_no, Decision.step, Decision.approver_id)
                                     .where(Decision.request_id == rid)).all()) == [(1, 1, o.bob.id), (2, 1, o.bob.id)]
    assert webhook_rows(rid)[-1][1]["rerouted"] is True


def test_a_pending_request_is_editable_until_the_first_decision_and_an_edit_reroutes_live(shared_app, office):
    o, client = office, office.client
    set_rules([{"match": {"min_value": "10000"}, "steps": [ADMIN, APPROVER]}, {"match": {}, "steps": [APPROVER]}])
    rid = o.acquire(5000)["id"]
    bob, ada = listen(shared_app, o.bob), listen(shared_app, o.ada)

    reworded = edit(client, o.alice, rid, reason="For the new hire")
    assert (reworded["state"], reworded["step"], reworded["steps_total"]) == ("pending", 1, 1)
    edited = [(rid, "pending", 1, "edit")]
    # A decider is told what changed under them; their dashboard refetches the row.
    assert heard(bob) == {"approval_update": edited, "queue_update": edited} and heard(ada) == {}

    rerouted = edit(client, o.alice, rid, value="12000")
    assert (rerouted["state"], rerouted["step"], rerouted["steps_total"], rerouted["required_role"]) == (
        "pending", 1, 2, "admin")
    assert heard(bob) == {"queue_update": edited}  # it leaves Bob's queue
    assert heard(ada) == {"approval_update": edited, "queue_update": edited}  # and joins the admins'
    [told] = [n for n in db.session.scalars(sa.select(Notification).where(Notification.user_id == o.ada.id))]
    assert (told.payload["comment"], told.payload["required_role"]) == ("value: 5000.00 → 12000.00", "admin")
    assert inbox(client, o.bob) == [] and inbox(client, o.ada) == [rid]
    assert [a for a, *_ in trail(rid)] == ["edit", "edit", "reroute"]

    approve(client, o.ada, rid)
    before = request_state(rid)
    refused = edit(client, o.alice, rid, expect=409, code="conflict", reason="late")
    assert "before any decision" in refused["error"]["message"]
    assert request_state(rid) == before


def test_a_returned_request_is_neither_reminded_nor_escalated_and_its_timers_restart_on_resume(shared_app, office):
    o, client = office, office.client
    set_rules([{"match": {}, "steps": [{**APPROVER, "remind_after_hours": 1, "escalate_after_hours": 3,
                                        "escalate_to": "admin"}]}])
    rid = o.acquire(100)["id"]
    start = utcnow()
    assert timers.run_due(start + timedelta(hours=1.5)) == {"reminded": 1, "escalated": 0}
    send_back(client, o.bob, rid)
    assert timers.run_due(start + timedelta(hours=10)) == {"reminded": 0, "escalated": 0}
    resume(client, o.alice, rid)
    db.session.expire_all()
    step = db.session.scalar(sa.select(RequestStep).where(RequestStep.request_id == rid))
    assert step.started_at >= start and step.reminded_at is None and step.escalated_at is None
    restarted = step.started_at
    assert timers.run_due(restarted + timedelta(hours=0.5)) == {"reminded": 0, "escalated": 0}
    assert timers.run_due(restarted + timedelta(hours=1.5)) == {"reminded": 1, "escalated": 0}  # re-armed
    assert timers.run_due(restarted + timedelta(hours=3.5)) == {"reminded": 0, "escalated": 1}


def test_a_returned_request_holds_its_asset_until_withdrawn(client, people):
    alice, bob, erin = people["alice"], people["bob"], people["erin"]
    asset = make_asset()
    rid = submit(client, alice, asset_id=asset.id)["id"]
    send_back(client, bob, rid)
    db.session.expire_all()
    assert db.session.get(Request, rid).asset.locked
    submit(client, erin, asset_id=asset.id, expect=409, code="conflict")
    withdrawn = withdraw(client, alice, rid)
    assert withdrawn["state"] == "withdrawn"
    submit(client, erin, asset_id=asset.id)


# --- refusals: each with its code, and nothing changed ---------------------------------------------------


def unchanged(client, person, rid: int, before: dict) -> None:
    """The stored request and its trail are as they were."""
    after = detail(client, person, rid)
    keys = ("state", "step", "version", "reason", "value", "name", "currency", "steps_total")
    assert {k: after[k] for k in keys} == {k: before[k] for k in keys}
    assert len(after["events"]) == len(before["events"])


def test_a_return_is_refused_without_a_comment_by_the_applicant_and_when_not_pending(client, people):
    alice, bob, erin, admin = people["alice"], people["bob"], people["erin"], people["admin"]
    rid = submit(client, alice)["id"]
    before = detail(client, alice, rid)
    for comment in ("", "   "):
        decide(client, bob, rid, "return", comment=comment, expect=422, code="validation_error")
    decide(client, bob, rid, "return", expect=422, code="validation_error")  # no comment at all
    send_back(client, alice, rid, expect=403, code="forbidden")  # not a decider of the step
    send_back(client, admin, rid, expect=403, code="forbidden")  # the rule asks for an approver
    send_back(client, erin, rid, expect=404, code="not_found")  # cannot see it
    send_back(client, bob, rid, version=before["version"] + 1, expect=409, code="conflict")
    unchanged(client, alice, rid, before)
    send_back(client, bob, rid)
    again = send_back(client, people["carol"], rid, expect=409, code="conflict")
    assert again["error"]["message"] == f"Request {rid} was already returned by {bob.user.display_name}"
    approve(client, bob, rid, expect=409, code="conflict")  # the applicant has it
    reject(client, bob, rid, expect=409, code="conflict")
    done = submit(client, alice)["id"]
    approve(client, bob, done)
    send_back(client, bob, done, expect=409, code="conflict")


@pytest.mark.parametrize("body, field", [
    ({}, None),
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"value": "0"}, "value"),
    ({"value": "-5"}, "value"),
    ({"value": "12.345"}, "value"),
    ({"currency": "yen"}, "currency"),
    ({"name": ""}, "name"),
    ({"asset_id": 1}, "asset_id"),  # another asset is another request
    ({"target_user_id": 1}, "target_user_id"),  # an acquire has no target
    ({"kind": "assign"}, "kind"),
    ({"reason": "ok", "state": "approved"}, "state"),
])
def test_a_bad_edit_is_422_and_changes_nothing(client, people, body, field):
    alice, bob = people["alice"], people["bob"]
    rid = submit(client, alice, "acquire", name="Laptop", category="Laptop", value="5000")["id"]
    send_back(client, bob, rid)
    before = detail(client, alice, rid)
    error = edit(client, alice, rid, expect=422, code="validation_error", **body)["error"]
    if field is not None:
        assert field in error["details"]["fields"], error
    unchanged(client, alice, rid, before)


def test_edits_are_refused_to_others_and_in_the_wrong_state(client, people):
    alice, bob, erin = people["alice"], people["bob"], people["erin"]
    rid = submit(client, alice, "acquire", name="Laptop", category="Laptop", value="5000")["id"]
    send_back(client, bob, rid)
    before = detail(client, alice, rid)
    edit(client, bob, rid, reason="mine now", expect=403, code="forbidden")
    edit(client, erin, rid, reason="mine now", expect=404, code="not_found")
    edit(client, alice, rid, reason="stale", version=before["version"] - 1, expect=409, code="conflict")
    unchanged(client, alice, rid, before)
    # Changing nothing writes nothing.
    assert edit(client, alice, rid, reason=before["reason"])["version"] == before["version"]
    unchanged(client, alice, rid, before)
    for end in ("withdraw", "reject"):
        other = submit(client, alice, "acquire", name="Laptop", category="Laptop", value="5000")["id"]
        withdraw(client, alice, other) if end == "withdraw" else reject(client, bob, other)
        edit(client, alice, other, reason="too late", expect=409, code="conflict")


def test_a_transfer_edit_is_checked_as_a_submit(client, people):
    alice, bob, erin = people["alice"], people["bob"], people["erin"]
    gone = make_user("employee", active=False)
    asset = make_asset(status="in_use", custodian=alice.user)
    rid = submit(client, alice, "transfer", asset_id=asset.id, target_user_id=erin.id)["id"]
    send_back(client, bob, rid, comment="To whom exactly?")
    before = detail(client, alice, rid)
    refused = edit(client, alice, rid, target_user_id=gone.id, expect=422, code="validation_error")
    assert "target_user_id" in refused["error"]["details"]["fields"]
    edit(client, alice, rid, target_user_id=alice.id, expect=422, code="validation_error")  # holds it already
    unchanged(client, alice, rid, before)
    moved = edit(client, alice, rid, target_user_id=bob.id)
    assert moved["target_user"]["id"] == bob.id
    # The target leaves before the resume: the resume is checked as a submit is.
    db.session.get(User, bob.id).active = False
    db.session.commit()
    resume(client, alice, rid, expect=422, code="validation_error")
    assert request_state(rid)[0] == "returned"


def test_an_edit_no_rule_could_route_is_refused(client, people):
    alice, bob = people["alice"], people["bob"]
    set_rules([{"match": {"min_value": "10000"}, "steps": [{"decider": "role", "role": "approver",
                                                            "scope": "company"}] * 3},
               {"match": {}, "steps": [APPROVER]}])
    rid = submit(client, alice, "acquire", name="Laptop", category="Laptop", value="5000")["id"]
    send_back(client, bob, rid)
    before = detail(client, alice, rid)
    # Three approver steps need three approvers besides Alice: there are two.
    refused = edit(client, alice, rid, value="20000", expect=422, code="validation_error")
    assert refused["error"]["details"]["step"] == 3
    unchanged(client, alice, rid, before)


def test_a_resume_is_the_applicants_and_only_of_a_returned_request(client, people):
    alice, bob, erin = people["alice"], people["bob"], people["erin"]
    rid = submit(client, alice)["id"]
    resume(client, alice, rid, expect=409, code="conflict")  # pending: nothing to resume
    send_back(client, bob, rid)
    before = detail(client, alice, rid)
    resume(client, bob, rid, expect=403, code="forbidden")
    resume(client, erin, rid, expect=404, code="not_found")
    resume(client, alice, rid, version=before["version"] - 1, expect=409, code="conflict")
    unchanged(client, alice, rid, before)
    assert resume(client, alice, rid)["state"] == "pending"
    resume(client, alice, rid, expect=409, code="conflict")


def test_a_delegate_returns_for_their_principal(client, people):
    alice, bob, carol = people["alice"], people["bob"], people["carol"]
    dan = Auth(client).person(make_user("approver"))
    set_rules([{"match": {}, "steps": [{"decider": "manager"}]}])
    team = make_department("Team", manager=bob.user)
    alice.user.department_id = team.id
    db.session.commit()
    assert delegate(client, bob, dan.id).status_code == 201
    rid = submit(client, alice)["id"]
    send_back(client, carol, rid, expect=404, code="not_found")  # not the manager, nobody's delegate: not hers to see
    send_back(client, dan, rid, comment="Which model?")
    [row] = [e for e in detail(client, alice, rid)["events"] if e["action"] == "return"]
    assert (row["actor"]["id"], row["on_behalf_of"]["id"]) == (dan.id, bob.id)
    assert count(Notification, Notification.user_id == bob.id) == 2  # the submit, and the return made for him


def test_returned_is_a_state_everywhere_states_are_listed(client, people):
    alice, bob, admin = people["alice"], people["bob"], people["admin"]
    rid = submit(client, alice)["id"]
    send_back(client, bob, rid)
    meta = client.get("/api/meta", headers=alice.headers).get_json()
    assert "returned" in meta["request_states"]
    listed = client.get("/api/requests?scope=mine&state=returned", headers=alice.headers).get_json()
    assert [item["id"] for item in listed["items"]] == [rid]
    stats = client.get("/api/requests/stats", headers=admin.headers).get_json()
    assert stats["counts"]["returned"] == 1 and stats["counts"]["pending"] == 0
    summary = client.get("/api/reports/summary", headers=admin.headers).get_json()
    assert (summary["counts"]["returned"], summary["counts"]["submitted"]) == (1, 1)
    hooks = client.get("/api/webhooks", headers=admin.headers).get_json()
    assert set(EVENTS) <= set(hooks["events"])


def test_value_is_stored_as_money(client, people):
    alice, bob = people["alice"], people["bob"]
    rid = submit(client, alice, "acquire", name="Laptop", category="Laptop", value="5000")["id"]
    send_back(client, bob, rid)
    edit(client, alice, rid, value="4999.5")
    db.session.expire_all()
    assert db.session.get(Request, rid).value == Decimal("4999.50")


@pytest.fixture
def mail(app):
    """A real SMTP server the app e-mails (tests/test_email.py's set-up)."""
    with MailReceiver() as receiver:
        app.config.update(MAIL_URL=receiver.url, EMAIL_DELAY_SECONDS=120, PUBLIC_URL="https://assets.example.com")
        yield receiver


def test_emails_say_what_was_asked_and_offer_no_one_click_return(client, people, mail):
    """A return needs a comment saying what to change: it is made on the request page, never from an e-mail.
    The applicant's e-mail carries the comment; the deciders' e-mail of the resume, the usual two links."""
    alice, bob = people["alice"], people["bob"]
    rid = submit(client, alice)["id"]
    worker.run_once(after(121))
    send_back(client, bob, rid, comment="Which floor is the desk on?")
    worker.run_once(after(121))
    [to_alice] = mail.to(alice.user.email)
    text = to_alice.get_body(("plain",)).get_content()
    assert "returned for changes" in to_alice["Subject"] and "Which floor is the desk on?" in text
    assert f"https://assets.example.com/requests/{rid}" in text and "email-action" not in text
    resume(client, alice, rid)
    worker.run_once(after(121))
    resumed = mail.to(bob.user.email)[-1]
    text = resumed.get_body(("plain",)).get_content()
    assert "pending" in resumed["Subject"] and text.count("https://assets.example.com/email-action?token=") == 2


def test_an_email_link_from_before_a_return_is_stale(client, people):
    alice, bob = people["alice"], people["bob"]
    rid = submit(client, alice)["id"]
    token = email_links.sign(bob.id, db.session.get(Request, rid), "approve")
    send_back(client, people["carol"], rid)
    refused = client.post("/api/email-actions/confirm", json={"token": token})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"] == {"reason": "stale", "state": "returned", "request_id": rid}
    assert request_state(rid)[0] == "returned"
