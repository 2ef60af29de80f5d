"""The read model: a page of requests costs the same number of queries and state machines whatever its length."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa
import transitions

from assetflow.auth.tokens import actor_for
from assetflow.extensions import db
from assetflow.models import Request
from assetflow.services.requests import approval_for
from assetflow.workflow import allowed_actions

from .actions import decide, submit
from .conftest import app_on
from .factories import make_asset

SCHEMAS = Path(__file__).resolve().parent.parent / "assetflow" / "api" / "schemas"


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request):
    """Both databases: the eager loads of a page are SQL that differs (IN lists, joins)."""
    uri = "sqlite://" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    with app_on(uri) as app:
        yield app


@dataclass
class Cost:
    """What one HTTP call cost: SQL statements and transitions.Machine objects built."""

    statements: list[str] = field(default_factory=list)
    machines: int = 0


@contextmanager
def cost(monkeypatch) -> Iterator[Cost]:
    """Count the statements sent to the database and the state machines built while the block runs."""
    seen = Cost()
    built = transitions.Machine.__init__

    def counting_init(self, *args, **kwargs):
        seen.machines += 1
        built(self, *args, **kwargs)

    def record(conn, cursor, statement, *args):
        seen.statements.append(statement)

    monkeypatch.setattr(transitions.Machine, "__init__", counting_init)
    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
        monkeypatch.setattr(transitions.Machine, "__init__", built)


def page_cost(client, headers, monkeypatch, path: str = "/api/requests", **query) -> tuple[Cost, dict]:
    with cost(monkeypatch) as seen:
        response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return seen, response.get_json()


@pytest.fixture
def hundred(client, people):
    """100 of Alice's requests on as many assets, in every state: pending, approved, rejected, withdrawn."""
    alice, bob = people["alice"], people["bob"]
    for n in range(100):
        req = submit(client, alice, kind="assign", asset_id=make_asset(value=100 + n).id, reason=f"laptop {n}")
        if n % 4 == 1:
            decide(client, bob, req["id"], "approve")
        elif n % 4 == 2:
            decide(client, bob, req["id"], "reject", comment="not now")
        elif n % 4 == 3:
            decide(client, alice, req["id"], "withdraw")


# Who reads, which list, and how many of the 100 rows it holds.
READERS = [("alice", "mine", 100), ("bob", "all", 100), ("admin", "all", 100), ("bob", "inbox", 25)]


def test_a_page_of_100_requests_costs_what_a_page_of_10_does(client, people, hundred, monkeypatch):
    for who, scope, expected in READERS:
        headers = people[who].headers
        small, ten = page_cost(client, headers, monkeypatch, scope=scope, per_page=10)
        large, hundred_rows = page_cost(client, headers, monkeypatch, scope=scope, per_page=100)
        assert len(ten["items"]) == 10 and len(hundred_rows["items"]) == hundred_rows["total"] == expected
        assert len(large.statements) == len(small.statements), (who, scope, "\n".join(large.statements))
        assert large.machines == small.machines == 0  # allowed_actions reads the workflow's tables
        # Each pending row's buttons are what the workflow answers for that request alone.
        actor = actor_for(people[who].user)
        for row in hundred_rows["items"]:
            if row["state"] == "pending":
                alone = allowed_actions(approval_for(db.session.get(Request, row["id"]), actor))
                assert row["allowed_actions"] == [*alone, "comment"], row["id"]
        actions = {(r["state"], tuple(r["allowed_actions"])) for r in hundred_rows["items"]}
        if who == "alice":  # her ended requests' assets are free and in stock again: each may be resubmitted
            assert actions == {("pending", ("withdraw", "edit", "comment")), ("approved", ("comment",)),
                               ("rejected", ("comment", "resubmit")), ("withdrawn", ("comment", "resubmit"))}
        elif scope == "inbox":
            assert actions == {("pending", ("approve", "reject", "return", "comment"))}
        else:  # Bob is named for every step; the admin for none (the rule asks for an approver), so only comments
            deciding = ("approve", "reject", "return", "comment") if who == "bob" else ("comment",)
            assert actions == {("pending", deciding), ("approved", ("comment",)),
                               ("rejected", ("comment",)), ("withdrawn", ("comment",))}


def test_the_applicant_is_offered_a_resubmit_only_where_it_would_be_taken(client, people, monkeypatch):
    alice, bob = people["alice"], people["bob"]
    free = submit(client, alice, kind="assign", asset_id=make_asset().id)
    decide(client, bob, free["id"], "reject", comment="not this one")
    locked_asset = make_asset()
    locked = submit(client, alice, kind="assign", asset_id=locked_asset.id)
    decide(client, alice, locked["id"], "withdraw")
    pending = submit(client, people["erin"], kind="assign", asset_id=locked_asset.id)
    _, body = page_cost(client, alice.headers, monkeypatch, scope="mine")
    offered = {r["id"]: r["allowed_actions"] for r in body["items"]}
    assert offered == {free["id"]: ["comment", "resubmit"], locked["id"]: ["comment"]}
    # Bob sees Alice's rejected request too, but only its applicant may resubmit it.
    _, body = page_cost(client, bob.headers, monkeypatch, scope="all")
    assert {r["id"]: r["allowed_actions"] for r in body["items"]} == {
        free["id"]: ["comment"], locked["id"]: ["comment"], pending["id"]: ["approve", "reject", "return", "comment"]}


def test_an_asset_page_costs_the_same_whatever_its_history(client, people, monkeypatch):
    alice, bob = people["alice"], people["bob"]
    costs = []
    for rounds in (2, 12):
        asset = make_asset()
        for _ in range(rounds):
            decide(client, bob, submit(client, alice, kind="assign", asset_id=asset.id)["id"], "reject", comment="no")
        seen, body = page_cost(client, alice.headers, monkeypatch, f"/api/assets/{asset.id}")
        assert len(body["requests"]) == rounds
        assert all(r["allowed_actions"] == ["comment", "resubmit"] for r in body["requests"])
        costs.append((len(seen.statements), seen.machines))
    assert costs[0] == costs[1]


def test_the_request_page_shows_steps_resubmissions_and_comments(client, people, monkeypatch):
    alice, bob = people["alice"], people["bob"]
    first = submit(client, alice, kind="assign", asset_id=make_asset().id)
    client.post(f"/api/requests/{first['id']}/comments", headers=bob.headers, json={"body": "Which floor?"})
    decide(client, bob, first["id"], "reject", comment="wrong floor")
    again = client.post(f"/api/requests/{first['id']}/resubmit", headers=alice.headers, json={}).get_json()
    seen, body = page_cost(client, alice.headers, monkeypatch, f"/api/requests/{first['id']}")
    assert body["next_ids"] == [again["id"]] and body["allowed_actions"] == ["comment"]
    assert [c["body"] for c in body["comments"]] == ["Which floor?"]
    [step] = body["steps"]
    assert step["state"] == "done" and step["decided_by"]["id"] == people["bob"].user.id
    assert step["decided_by"]["outcome"] == "rejected"  # the page shows a red "Rejected", not a green "Done"
    assert {d["display_name"] for d in step["deciders"]} >= {people["bob"].user.display_name}
    assert seen.machines <= 1


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
    return names


def test_schemas_only_shape_data():
    """No schema module imports a service or the logged-in user: what a screen needs is computed before."""
    modules = sorted(SCHEMAS.glob("*.py"))
    assert len(modules) > 5
    for module in modules:
        imported = _imports(module)
        assert not [name for name in imported if "services" in name or name.startswith("flask_jwt_extended")], (
            module.name, imported)
