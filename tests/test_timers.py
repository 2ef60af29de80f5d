"""Reminders and escalation with an injected clock: each fires once, on time, for the current step only."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import ApprovalRule, Department, Notification, RequestEvent, StepDecider
from assetflow.models.base import utcnow
from assetflow.services import timers

from .actions import approve, detail, submit
from .conftest import Auth
from .factories import make_user
from .test_realtime import connect, received

APPROVER = {"decider": "role", "role": "approver", "scope": "company"}
ADMIN = {"decider": "role", "role": "admin", "scope": "company"}


def use_steps(*steps: dict) -> None:
    """One rule for every request, with these steps."""
    db.session.add(ApprovalRule(position=0, match={}, steps=list(steps)))
    db.session.commit()


def later(hours: float):
    return utcnow() + timedelta(hours=hours)


def notified(user, kind: str) -> list[dict]:
    rows = db.session.scalars(sa.select(Notification).where(Notification.user_id == user.id,
                                                            Notification.type == kind).order_by(Notification.seq))
    return [row.payload for row in rows]


def events(request_id: int, action: str) -> list[RequestEvent]:
    return list(db.session.scalars(sa.select(RequestEvent).where(RequestEvent.request_id == request_id,
                                                                 RequestEvent.action == action)))


def test_a_reminder_fires_once_when_due_and_not_before(client, people):
    use_steps({**APPROVER, "remind_after_hours": 24})
    alice, bob, carol = (people[name].user for name in ("alice", "bob", "carol"))
    req = submit(client, people["alice"])

    assert timers.run_due(later(23.9)) == {"reminded": 0, "escalated": 0}
    assert timers.run_due(later(24.1)) == {"reminded": 1, "escalated": 0}
    assert timers.run_due(later(48)) == {"reminded": 0, "escalated": 0}

    for approver in (bob, carol):
        [reminder] = notified(approver, "approval_reminder")
        assert reminder["request_id"] == req["id"] and reminder["step"] == 1 and reminder["steps_total"] == 1
        assert reminder["required_role"] == "approver" and reminder["status"] == "pending"
        assert reminder["waiting_since"] and reminder["asset_tag"] == req["asset"]["tag"]
    assert notified(alice, "approval_reminder") == []
    [remind] = events(req["id"], "remind")
    assert remind.actor_id is None and remind.step == 1


def test_no_timer_fires_for_a_decided_request(client, people):
    use_steps({**APPROVER, "remind_after_hours": 1, "escalate_after_hours": 2, "escalate_to": "admin"})
    req = submit(client, people["alice"])
    approve(client, people["bob"], req["id"])
    assert timers.run_due(later(100)) == {"reminded": 0, "escalated": 0}
    assert events(req["id"], "remind") == [] and events(req["id"], "escalate") == []


def test_a_reminder_fires_again_for_the_next_step(client, people):
    use_steps({**APPROVER, "remind_after_hours": 1}, {**ADMIN, "remind_after_hours": 1})
    req = submit(client, people["alice"])
    assert timers.run_due(later(2)) == {"reminded": 1, "escalated": 0}
    assert notified(people["admin"].user, "approval_reminder") == []

    approve(client, people["bob"], req["id"])  # step 2 starts now: its timer counts from here
    assert timers.run_due(later(0.5)) == {"reminded": 0, "escalated": 0}
    assert timers.run_due(later(2)) == {"reminded": 1, "escalated": 0}
    for admin in ("admin", "root"):
        assert [r["step"] for r in notified(people[admin].user, "approval_reminder")] == [2]
    assert [r["step"] for r in notified(people["bob"].user, "approval_reminder")] == [1]
    assert [e.step for e in events(req["id"], "remind")] == [1, 2]


def test_an_escalation_adds_deciders_is_audited_and_reaches_them_live(app, client, people):
    use_steps({**ADMIN, "escalate_after_hours": 72, "escalate_to": "approver"})
    carol = people["carol"]  # an approver applying: never added to her own request
    bob = people["bob"]
    req = submit(client, carol)
    bob_socket, carol_socket = connect(app, bob.token), connect(app, carol.token)
    detail(client, bob, req["id"], expect=404, code="not_found")

    assert timers.run_due(later(71)) == {"reminded": 0, "escalated": 0}
    assert timers.run_due(later(73)) == {"reminded": 0, "escalated": 1}
    assert timers.run_due(later(200)) == {"reminded": 0, "escalated": 0}

    to_bob = bob_socket.get_received()  # in the order sent
    assert [m["name"] for m in to_bob] == ["approval_update", "queue_update"]
    update, queued = (m["args"][0] for m in to_bob)
    assert update["action"] == "escalate" and update["request_id"] == req["id"] and update["actor"] is None
    assert queued["request_id"] == req["id"] and queued["action"] == "escalate"
    assert [u["action"] for u in received(carol_socket)] == ["escalate"]  # the applicant hears of it
    added = db.session.scalars(sa.select(StepDecider).where(StepDecider.request_id == req["id"],
                                                            StepDecider.via == "escalation"))
    assert [d.user_id for d in added] == [bob.id]

    shown = detail(client, bob, req["id"])
    [escalate] = [e for e in shown["events"] if e["action"] == "escalate"]
    assert escalate["actor"] is None and bob.user.display_name in escalate["comment"]
    assert "approve" in shown["allowed_actions"]
    assert approve(client, bob, req["id"])["state"] == "approved"
    trail = client.get(f"/api/requests/{req['id']}/trail.csv", headers=bob.headers).get_data(as_text=True)
    assert '"system","escalate"' in trail


def test_escalation_to_manager_goes_up_past_the_current_manager(client, people):
    alice = people["alice"].user
    erik, root = make_user("approver", "erik"), people["root"].user
    db.session.get(Department, 1).manager_id = root.id
    eng = Department(name="Engineering", code="ENG", parent_id=1, manager_id=erik.id)
    db.session.add(eng)
    db.session.flush()
    alice.department_id = eng.id
    db.session.commit()
    use_steps({"decider": "manager", "escalate_after_hours": 1, "escalate_to": "manager"})

    req = submit(client, people["alice"])
    assert timers.run_due(later(2))["escalated"] == 1
    deciders = db.session.execute(sa.select(StepDecider.user_id, StepDecider.via)
                                  .where(StepDecider.request_id == req["id"]).order_by(StepDecider.id)).all()
    assert [tuple(row) for row in deciders] == [(erik.id, "rule"), (root.id, "escalation")]
    assert [n["action"] for n in notified(root, "approval_update")] == ["escalate"]


def test_replay_sends_each_notification_under_its_own_event_name(app, client, people):
    use_steps({**APPROVER, "remind_after_hours": 1})
    submit(client, people["alice"])
    timers.run_due(later(2))
    replayed = connect(app, people["bob"].token, last_seq=0).get_received()
    assert [m["name"] for m in replayed] == ["approval_update", "approval_reminder"]
    assert replayed[1]["args"][0]["event"] == "approval_reminder" and replayed[1]["args"][0]["replayed"]


def test_run_timers_command_runs_one_pass(app, client, people):
    use_steps({**APPROVER, "remind_after_hours": 0})
    submit(client, people["alice"])
    result = app.test_cli_runner().invoke(args=["run-timers"])
    assert result.exit_code == 0 and "1 reminded, 0 escalated" in result.output
    assert "no SOCKETIO_MESSAGE_QUEUE, so nothing was pushed live" in result.output  # the tests run without one
    assert len(notified(people["bob"].user, "approval_reminder")) == 1  # stored all the same
    usage = app.test_cli_runner().invoke(args=["run-timers", "--help"]).output
    assert "pushed live through the queue" in usage and "replayed" in usage and "inbox with its seq" in usage
    assert app.test_cli_runner().invoke(args=["run-timers"]).output.startswith("run-timers: 0 reminded")


def test_two_passes_racing_for_the_same_timers_fire_each_once(shared_app, monkeypatch):
    """Both passes have found the timers due before either claims one (on SQLite and PostgreSQL)."""
    applicant, approvers = make_user(), [make_user("approver"), make_user("approver")]
    auth = Auth(shared_app.test_client())
    use_steps({**APPROVER, "remind_after_hours": 1, "escalate_after_hours": 1, "escalate_to": "admin"})
    make_user("admin")
    submit(shared_app.test_client(), auth.person(applicant))
    found = threading.Barrier(2)
    due_steps = timers.due_steps

    def due_steps_then_wait(kind, now):
        steps = due_steps(kind, now)
        found.wait(timeout=10)
        return steps

    monkeypatch.setattr(timers, "due_steps", due_steps_then_wait)
    results: list[dict] = []

    def one_pass() -> None:
        with shared_app.app_context():
            results.append(timers.run_due(later(2)))
            db.session.remove()

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(r["reminded"] for r in results) == [0, 1]
    assert sorted(r["escalated"] for r in results) == [0, 1]
    for approver in approvers:
        assert len(notified(approver, "approval_reminder")) == 1
