"""The workflow over HTTP, driven by random actors, against a plain model of product.md's rules.

Hypothesis picks who does what (submit, approve, reject, withdraw, bulk-approve) on which asset or
request; the model says what must happen (status, state, step, the asset's effect, who is notified
and what their latest notification says: which request, what was done — "advance" for an approval
that leaves the request pending — and its status)
and every answer of the API is compared with it. The model is written from the contract, not from
the services, so a service that drifts from the contract fails here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from assetflow.auth.tokens import issue_tokens
from assetflow.extensions import db

from .factories import make_asset, make_user

THRESHOLD = Decimal(10000)  # HIGH_VALUE_THRESHOLD's default
# docs/architecture.md, "Who may ask for what": per kind, the statuses it fits and who besides an
# admin may ask for it there (anyone, the asset's custodian, or a role).
WHO_MAY_ASK = {
    "assign": {"in_stock": {"anyone"}},
    "transfer": {"in_use": {"custodian"}},
    "repair": {"in_stock": {"anyone"}, "in_use": {"custodian"}},
    "dispose": {"in_stock": {"approver"}, "in_use": {"custodian"}, "in_repair": {"custodian", "approver"}},
}
USERS = (("e1", "employee"), ("e2", "employee"), ("a1", "approver"), ("a2", "approver"),
         ("m1", "admin"), ("m2", "admin"))
# (status, value, custodian): both sides of the threshold, and exactly on it.
ASSETS = (("in_stock", "1000"), ("in_stock", "10000"), ("in_use", "9999.99", "e1"),
          ("in_use", "20000", "e2"), ("in_repair", "500"), ("in_stock", "50000"))
KINDS = ("acquire", "assign", "transfer", "repair", "dispose")
FINAL = {"approve": "approved", "reject": "rejected", "withdraw": "withdrawn"}


@dataclass
class User:
    id: int
    role: str
    headers: dict


@dataclass
class Asset:
    id: int
    value: Decimal
    status: str
    custodian: int | None


@dataclass
class Req:
    id: int
    kind: str
    applicant: int
    asset: Asset | None
    value: Decimal
    target: int | None
    chain: list[str]
    step: int = 1
    state: str = "pending"
    deciders: list[int] = field(default_factory=list)


def chain_for(kind: str, value: Decimal) -> list[str]:
    """One approver step, plus an admin step at or above the threshold or for a dispose."""
    return ["approver", "admin"] if value >= THRESHOLD or kind == "dispose" else ["approver"]


class Workflow(RuleBasedStateMachine):
    """Random actors against the API; the model predicts every answer."""

    client = None  # set by the test

    def __init__(self) -> None:
        super().__init__()
        db.session.remove()
        db.drop_all()
        db.create_all()
        self.users = {}
        for name, role in USERS:
            user = make_user(role, name)
            self.users[name] = User(user.id, role, {"Authorization": f"Bearer {issue_tokens(user)['access_token']}"})
        self.assets = []
        for status, value, *custodian in ASSETS:
            holder = db.session.get(type(user), self.users[custodian[0]].id) if custodian else None
            row = make_asset(status=status, value=value, custodian=holder)
            self.assets.append(Asset(row.id, Decimal(value), status, holder.id if holder else None))
        self.requests: list[Req] = []
        self.inbox = dict.fromkeys((u.id for u in self.users.values()), 0)
        # Per user: (request id, action, status) of the latest notification they should have.
        self.latest: dict[int, tuple[int, str, str]] = {}

    # --- the model ---------------------------------------------------------------------------

    def locked(self, asset: Asset) -> bool:
        return any(r.asset is asset and r.state == "pending" for r in self.requests)

    def deciders(self, req: Req) -> set[int]:
        """Who may decide the current step: its role, not the applicant, no earlier decider (four eyes)."""
        role = req.chain[req.step - 1]
        return {u.id for u in self.users.values()
                if u.role == role and u.id != req.applicant and u.id not in req.deciders}

    def notify(self, user_ids: set[int], req: Req, action: str) -> None:
        for user_id in user_ids:
            self.inbox[user_id] += 1
            self.latest[user_id] = (req.id, action, req.state)

    def expected_submit(self, actor: User, kind: str, asset: Asset | None, target: User) -> int:
        if kind == "acquire":
            return 201
        allowed = WHO_MAY_ASK[kind].get(asset.status)
        if allowed is None:
            return 422
        if not (actor.role == "admin" or "anyone" in allowed or actor.role in allowed
                or ("custodian" in allowed and asset.custodian == actor.id)):
            return 403
        if self.locked(asset):
            return 409
        if kind == "transfer" and asset.custodian == target.id:
            return 422
        return 201

    def expected_decision(self, actor: User, req: Req, action: str) -> int:
        visible = actor.role != "employee" or actor.id == req.applicant
        if not visible:
            return 404
        if req.state != "pending":
            return 409
        if action == "withdraw":
            return 200 if actor.id == req.applicant else 403
        return 200 if actor.id in self.deciders(req) else 403

    def apply(self, actor: User, req: Req, action: str, body: dict) -> None:
        """The model's side of a decision that the API accepted."""
        if action != "withdraw":
            req.deciders.append(actor.id)
        told = action
        if action == "approve" and req.step < len(req.chain):
            req.step += 1
            told = "advance"  # an approval that leaves the request pending, one step on
        else:
            req.state = FINAL[action]
        recipients = {req.applicant} | (self.deciders(req) if req.state == "pending" else set())
        if req.state == "approved":
            recipients |= self.take_effect(req, body)
        self.notify(recipients - {actor.id}, req, told)  # nobody is notified of their own action

    def take_effect(self, req: Req, body: dict) -> set[int]:
        """What final approval does to the asset; returns who else is told (a transfer's target)."""
        asset = req.asset
        if req.kind == "acquire":
            self.assets.append(Asset(body["asset_id"], req.value, "in_use", req.applicant))
        elif req.kind == "assign":
            asset.status, asset.custodian = "in_use", req.applicant
        elif req.kind == "transfer":
            asset.custodian = req.target
            return {req.target}
        elif req.kind == "repair":
            asset.status = "in_repair"
        elif req.kind == "dispose":
            asset.status, asset.custodian = "disposed", None
        return set()

    # --- the rules ---------------------------------------------------------------------------

    @rule(actor=st.sampled_from([n for n, _ in USERS]), kind=st.sampled_from(KINDS),
          asset_index=st.integers(0, 20), to=st.sampled_from([n for n, _ in USERS]), high=st.booleans())
    def submit(self, actor, kind, asset_index, to, high):
        actor, target = self.users[actor], self.users[to]
        asset = None if kind == "acquire" else self.assets[asset_index % len(self.assets)]
        value = Decimal("25000.00") if high else Decimal("250.00")
        body = {"kind": kind, "reason": "model"}
        if asset:
            body["asset_id"] = asset.id
        if kind == "acquire":
            body |= {"name": "Thing", "category": "Laptop", "value": str(value)}
        if kind == "transfer":
            body["target_user_id"] = target.id
        expected = self.expected_submit(actor, kind, asset, target)
        response = self.client.post("/api/requests", headers=actor.headers, json=body)
        assert response.status_code == expected, (body, response.get_json())
        if expected != 201:
            return
        created = response.get_json()
        req = Req(created["id"], kind, actor.id, asset, value if kind == "acquire" else asset.value,
                  target.id if kind == "transfer" else None, chain_for(kind, value if kind == "acquire" else asset.value))
        assert (created["state"], created["step"], created["steps_total"]) == ("pending", 1, len(req.chain))
        self.requests.append(req)
        self.notify(self.deciders(req), req, "submit")

    @precondition(lambda self: self.requests)
    @rule(actor=st.sampled_from([n for n, _ in USERS]), index=st.integers(0, 200),
          action=st.sampled_from(("approve", "approve", "reject", "withdraw")))
    def decide(self, actor, index, action):
        actor, req = self.users[actor], self.requests[index % len(self.requests)]
        expected = self.expected_decision(actor, req, action)
        body = {"comment": "model"} if action == "reject" else {}
        response = self.client.post(f"/api/requests/{req.id}/{action}", headers=actor.headers, json=body)
        assert response.status_code == expected, (action, req, response.get_json())
        if expected == 200:
            self.apply(actor, req, action, response.get_json())
            self.assert_matches(req, response.get_json())

    @precondition(lambda self: self.requests)
    @rule(actor=st.sampled_from([n for n, _ in USERS]), indices=st.lists(st.integers(0, 200), min_size=1, max_size=4))
    def bulk_approve(self, actor, indices):
        actor = self.users[actor]
        picked = [self.requests[i % len(self.requests)] for i in indices]
        response = self.client.post("/api/requests/bulk-approve", headers=actor.headers,
                                    json={"ids": [r.id for r in picked]})
        assert response.status_code == 200
        for req, result in zip(picked, response.get_json()["results"], strict=True):
            # Items run in order, so a repeated id sees the model as the earlier item left it.
            expected = self.expected_decision(actor, req, "approve")
            assert (result["id"], result.get("status", 200)) == (req.id, expected), (req, result)
            if expected == 200:
                self.apply(actor, req, "approve", result["request"])
                self.assert_matches(req, result["request"])

    @staticmethod
    def assert_matches(req: Req, body: dict) -> None:
        assert (body["state"], body["step"], body["steps_total"]) == (req.state, req.step, len(req.chain))

    # --- what must hold after every step ----------------------------------------------------

    @invariant()
    def assets_match(self):
        admin = self.users["m1"]
        listed = self.client.get("/api/assets?per_page=100", headers=admin.headers).get_json()["items"]
        actual = {a["id"]: (a["status"], (a["custodian"] or {}).get("id"), a["locked"]) for a in listed}
        assert actual == {a.id: (a.status, a.custodian, self.locked(a)) for a in self.assets}

    @rule()
    def inbox_seqs_count_up_by_one(self):
        for user in self.users.values():
            body = self.client.get("/api/notifications?after_seq=0&limit=500", headers=user.headers).get_json()
            seqs = [item["seq"] for item in body["items"]]
            assert seqs == list(range(1, self.inbox[user.id] + 1)), (user, seqs)
            assert body["last_seq"] == self.inbox[user.id]
            if body["items"]:
                last = body["items"][-1]["payload"]
                assert (last["request_id"], last["action"], last["status"]) == self.latest[user.id], (user, last)

    def teardown(self):
        self.inbox_seqs_count_up_by_one()


# Bounded for CI: 15 runs of up to 20 steps, the same ones every time. No shrinking: replaying a
# failure hundreds of times can take minutes, and the printed failing run already names each step.
SETTINGS = settings(max_examples=15, stateful_step_count=20, derandomize=True, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow], phases=[Phase.explicit, Phase.reuse, Phase.generate])


def test_workflow_matches_the_model(app, client):
    Workflow.client = client
    run_state_machine_as_test(Workflow, settings=SETTINGS)
