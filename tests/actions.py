"""The tests' shared vocabulary: a named Person and the actions people take over HTTP.

Each action posts as a Person, asserts the status it expects (the success status unless told `expect=`,
and the error `code=` when given) and returns the JSON body; `assert_refused` checks a refusal's shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from assetflow.extensions import db
from assetflow.models import Request, User

from .factories import make_asset


@dataclass(frozen=True)
class Person:
    """A user of the test app and the headers that authenticate them."""

    user: User
    headers: dict[str, str]

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def token(self) -> str:
        """The bearer access token, as a socket connects with it."""
        return self.headers["Authorization"].removeprefix("Bearer ")


def expect_status(response, status: int, code: str | None = None) -> Any:
    """The response's JSON after asserting its status (and its error code when given)."""
    body = response.get_json()
    assert response.status_code == status, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body


def assert_refused(response, status: int, code: str) -> dict:
    """Assert a refusal in the app's one error shape; return its `error` object."""
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"error"} and {"code", "message", "details"} <= set(body["error"]), body
    assert body["error"]["code"] == code, body
    return body["error"]


def submit(client, person: Person, kind: str = "assign", *, expect: int = 201, code: str | None = None,
           **fields) -> dict:
    """Submit a request of `kind`; an assign without an asset_id gets a new in-stock asset."""
    if kind == "assign" and "asset_id" not in fields:
        fields["asset_id"] = make_asset().id
    body = {"kind": kind, "reason": "needed", **fields}
    return expect_status(client.post("/api/requests", headers=person.headers, json=body), expect, code)


def decide(client, person: Person, request_id: int, action: str, *, expect: int = 200, code: str | None = None,
           **body) -> dict:
    """Post a decision (approve, reject, withdraw, ...) on a request with this body."""
    response = client.post(f"/api/requests/{request_id}/{action}", headers=person.headers, json=body)
    return expect_status(response, expect, code)


def approve(client, person: Person, request_id: int, **kwargs) -> dict:
    """Approve the request's current step."""
    return decide(client, person, request_id, "approve", **kwargs)


def reject(client, person: Person, request_id: int, comment: str = "no", **kwargs) -> dict:
    """Reject the request, with the comment a rejection needs."""
    return decide(client, person, request_id, "reject", comment=comment, **kwargs)


def send_back(client, person: Person, request_id: int, comment: str = "add the quote", **kwargs) -> dict:
    """Return the request to its applicant for changes, with the comment a return needs."""
    return decide(client, person, request_id, "return", comment=comment, **kwargs)


def edit(client, person: Person, request_id: int, *, expect: int = 200, code: str | None = None, **body) -> dict:
    """PATCH the request with these fields."""
    response = client.patch(f"/api/requests/{request_id}", headers=person.headers, json=body)
    return expect_status(response, expect, code)


def resume(client, person: Person, request_id: int, **kwargs) -> dict:
    """Send a returned request back to its deciders."""
    return decide(client, person, request_id, "resume", **kwargs)


def withdraw(client, person: Person, request_id: int, **kwargs) -> dict:
    """Withdraw the request (its applicant may)."""
    return decide(client, person, request_id, "withdraw", **kwargs)


def resubmit(client, person: Person, request_id: int, *, expect: int = 201, code: str | None = None,
             **body) -> dict:
    """Resubmit an ended request as a new, linked one."""
    response = client.post(f"/api/requests/{request_id}/resubmit", headers=person.headers, json=body)
    return expect_status(response, expect, code)


def comment(client, person: Person, request_id: int, body: Any, *, expect: int = 201,
            code: str | None = None) -> dict:
    """Comment on a request."""
    response = client.post(f"/api/requests/{request_id}/comments", headers=person.headers, json={"body": body})
    return expect_status(response, expect, code)


def detail(client, person: Person, request_id: int, *, expect: int = 200, code: str | None = None) -> dict:
    """The request as `person` sees it."""
    return expect_status(client.get(f"/api/requests/{request_id}", headers=person.headers), expect, code)


def count(model, *where) -> int:
    """Rows of `model` (matching `where`), read fresh from the database."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def request_state(request_id: int) -> tuple[str, int, int]:
    """The stored request's (state, step, version), read fresh: what a refused action must leave as it was."""
    db.session.expire_all()
    req = db.session.get(Request, request_id)
    return req.state, req.step, req.version
