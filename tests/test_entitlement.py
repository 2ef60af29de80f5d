"""Only the entitled decide: a named decider must still hold what named them when they decide.

Each organisation change (role, deactivation, department move, manager change) is tried on SQLite
and PostgreSQL: the decision is refused with nothing written, the request leaves the person's inbox
at once (a `queue_update` to their open dashboards), and a step left with nobody is escalated.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Decision, Request, RequestEvent
from assetflow.models.base import utcnow
from assetflow.services import email_links, timers

from .actions import Person, assert_refused, submit
from .conftest import Auth
from .factories import make_department, make_user, set_rules
from .test_realtime import connect, received

APPROVER_HERE = {"decider": "role", "role": "approver", "scope": "department",
                 "escalate_after_hours": 2, "escalate_to": "admin"}
APPROVER_ANYWHERE = {"decider": "role", "role": "approver", "scope": "company"}
MANAGER = {"decider": "manager", "escalate_after_hours": 2, "escalate_to": "admin"}


class Company:
    """Engineering and Sales under the root; an applicant and an approver in Engineering; an admin."""

    def __init__(self, app, steps: list[dict]):
        self.app, self.client = app, app.test_client()
        self.auth = Auth(self.client)
        self.eng, self.sales = make_department("Engineering"), make_department("Sales")
        self.alice = make_user("employee", department=self.eng)
        self.bob = make_user("approver", department=self.eng)
        self.admin = make_user("admin")
        self.eng.manager_id = self.bob.id
        db.session.commit()
        set_rules([{"match": {}, "steps": steps}])

    def headers(self, user) -> dict:
        return self.auth.headers(user)

    def person(self, user) -> Person:
        """The user, logged in now (an edit to them ends their earlier sessions)."""
        return self.auth.person(user)

    def submit(self) -> int:
        """Alice's new assign request; its id."""
        return submit(self.client, self.person(self.alice))["id"]

    def edit_user(self, user, **change) -> None:
        response = self.client.patch(f"/api/users/{user.id}", headers=self.headers(self.admin), json=change)
        assert response.status_code == 200, response.get_json()

    def edit_department(self, department, **change) -> None:
        response = self.client.patch(f"/api/departments/{department.id}", headers=self.headers(self.admin),
                                     json=change)
        assert response.status_code == 200, response.get_json()

    def inbox(self, user) -> list[int]:
        items = self.client.get("/api/requests?scope=inbox", headers=self.headers(user)).get_json()["items"]
        return [item["id"] for item in items]

    def approve(self, user, request_id: int):
        return self.client.post(f"/api/requests/{request_id}/approve", headers=self.headers(user), json={})


def untouched(request_id: int) -> None:
    """The request is pending at step 1 with no decision and no audit row beyond its submit."""
    db.session.expire_all()
    req = db.session.get(Request, request_id)
    assert (req.state, req.step) == ("pending", 1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Decision)
                             .where(Decision.request_id == request_id)) == 0
    actions = db.session.scalars(sa.select(RequestEvent.action).where(RequestEvent.request_id == request_id))
    assert list(actions) == ["submit"]


def refused(response) -> None:
    assert_refused(response, 403, "forbidden")


def test_a_demoted_approver_cannot_decide_and_loses_the_request(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    request_id = company.submit()
    assert company.inbox(company.bob) == [request_id]

    company.edit_user(company.bob, role="employee")  # ends bob's sessions: he logs in again as an employee
    refused(company.approve(company.bob, request_id))
    untouched(request_id)
    assert company.inbox(company.bob) == []
    detail = company.client.get(f"/api/requests/{request_id}", headers=company.headers(company.bob)).get_json()
    assert detail["allowed_actions"] == ["comment"]
    assert detail["steps"][0]["deciders"][0]["entitled"] is False

    company.edit_user(company.bob, role="approver")  # given back: the frozen name counts again
    assert company.approve(company.bob, request_id).status_code == 200


def test_an_approver_promoted_to_admin_keeps_their_queue(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    request_id = company.submit()
    company.edit_user(company.bob, role="admin")
    assert company.inbox(company.bob) == [request_id]
    assert company.approve(company.bob, request_id).status_code == 200


def test_a_deactivated_principal_takes_the_request_from_their_delegate(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    frank = make_user("employee", department=company.sales)
    start = utcnow() - timedelta(minutes=1)
    response = company.client.post("/api/delegations", headers=company.headers(company.bob), json={
        "delegate_id": frank.id, "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(days=3)).isoformat()})
    assert response.status_code == 201, response.get_json()
    request_id = company.submit()
    assert company.inbox(frank) == [request_id]
    frank_socket = connect(shared_app, company.person(frank).token)
    frank_socket.get_received()

    company.edit_user(company.bob, active=False)
    assert [e["request_id"] for e in received(frank_socket, "queue_update")] == [request_id]
    refused(company.approve(frank, request_id))
    untouched(request_id)
    assert company.inbox(frank) == []


def test_an_approver_moved_out_of_the_department_loses_its_requests_live(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    request_id = company.submit()
    bob = company.person(company.bob)
    socket = connect(shared_app, bob.token)
    socket.get_received()

    company.edit_user(company.bob, department_id=company.sales.id)
    assert [(e["request_id"], e["action"]) for e in received(socket, "queue_update")] == [(request_id, "requalify")]
    refused(company.client.post(f"/api/requests/{request_id}/approve", headers=bob.headers, json={}))
    untouched(request_id)
    assert company.inbox(company.bob) == []

    company.edit_user(company.bob, department_id=company.eng.id)  # back: the request is his again, live
    assert [e["request_id"] for e in received(socket, "queue_update")] == [request_id]
    assert company.client.post(f"/api/requests/{request_id}/approve", headers=bob.headers, json={}).status_code == 200


def test_a_company_wide_step_does_not_care_about_the_department(shared_app):
    company = Company(shared_app, [APPROVER_ANYWHERE])
    request_id = company.submit()
    company.edit_user(company.bob, department_id=company.sales.id)
    assert company.approve(company.bob, request_id).status_code == 200


def test_a_replaced_manager_loses_the_step_and_escalation_covers_it(shared_app):
    company = Company(shared_app, [MANAGER])
    request_id = company.submit()
    bob = company.person(company.bob)
    socket = connect(shared_app, bob.token)
    socket.get_received()
    carl = make_user("approver", department=company.eng)

    company.edit_department(company.eng, manager_id=carl.id)
    assert [e["request_id"] for e in received(socket, "queue_update")] == [request_id]
    refused(company.client.post(f"/api/requests/{request_id}/approve", headers=bob.headers, json={}))
    untouched(request_id)
    assert company.inbox(company.bob) == []
    assert company.inbox(carl) == []  # not named: the frozen chain grows only by escalation

    assert timers.run_due(utcnow() + timedelta(hours=2.1)) == {"reminded": 0, "escalated": 1}
    assert company.inbox(company.admin) == [request_id]
    assert company.approve(company.admin, request_id).status_code == 200


def test_an_email_link_of_a_demoted_approver_decides_nothing(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    request_id = company.submit()
    link = email_links.sign(company.bob.id, db.session.get(Request, request_id), "approve")
    company.edit_user(company.bob, role="employee")
    response = company.client.post("/api/email-actions/confirm", json={"token": link})
    assert_refused(response, 403, "forbidden")
    untouched(request_id)


def test_bulk_approve_skips_what_the_actor_is_no_longer_entitled_to(shared_app):
    company = Company(shared_app, [APPROVER_HERE])
    first, second = company.submit(), company.submit()
    company.edit_user(company.bob, department_id=company.sales.id)
    response = company.client.post("/api/requests/bulk-approve", headers=company.headers(company.bob),
                                   json={"ids": [first, second]})
    assert response.status_code == 200, response.get_json()
    assert [(r["ok"], r.get("status")) for r in response.get_json()["results"]] == [(False, 403), (False, 403)]
    untouched(first)
    untouched(second)


def test_an_approver_moved_up_to_the_company_root_keeps_a_department_step(app):
    company = Company(app, [APPROVER_HERE])
    request_id = company.submit()
    company.edit_user(company.bob, department_id=1)  # the root is above every department
    assert company.inbox(company.bob) == [request_id]
    assert company.approve(company.bob, request_id).status_code == 200
