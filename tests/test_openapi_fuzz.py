"""Schemathesis against the app's own OpenAPI document, as an employee, an approver and an admin.

Every operation gets schemathesis's examples, coverage and fuzzing phases (25 generated cases
each, per role), and its stateful phase chains calls along the document's links. Runs are
derandomized, so CI sees the same cases every time. Tokens are issued directly, fresh for each
call: a fuzzed logout revokes only its own token, and nothing guesses passwords at the login limits.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from assetflow.auth.tokens import issue_tokens
from assetflow.extensions import db
from assetflow.models import User

from .conftest import build_app
from .factories import make_asset, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("employee", "approver", "admin")


# Built at import: schemathesis reads the document when the module is collected. (Its lazy
# from_fixture loader needs a pytest internal that pytest 9.2 removed.)
APP = build_app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


def seed() -> None:
    """A fresh database: users of each role, assets in every status, and pending requests to act on."""
    with APP.app_context():
        db.drop_all()
        db.create_all()
        users = {role: make_user(role, f"fuzz-{role}") for role in ROLES}
        make_user("approver", "fuzz-approver-2")
        asset_ids = [make_asset(status=status, custodian=users["employee"] if status == "in_use" else None).id
                     for status in ("in_stock", "in_stock", "in_use", "in_repair", "disposed")]
        APP.config["FUZZ_USERS"] = {role: user.id for role, user in users.items()}
        db.session.remove()
    # A one-step and a two-step request, so the links from lists lead to real ids from the start.
    client = APP.test_client()
    for asset_id, kind in ((asset_ids[0], "assign"), (asset_ids[2], "dispose")):
        response = client.post("/api/requests", headers=bearer(APP, "employee"),
                               json={"kind": kind, "asset_id": asset_id, "reason": "seeded"})
        assert response.status_code == 201, response.get_json()


@pytest.fixture(scope="module")
def fuzz_app():
    """The app, seeded."""
    seed()
    return APP


def bearer(app, role: str, path: str = "") -> dict:
    """A fresh token for each call: a fuzzed logout revokes only its own."""
    with app.app_context():
        pair = issue_tokens(db.session.get(User, app.config["FUZZ_USERS"][role]))
    token = pair["refresh_token"] if path == "/api/auth/refresh" else pair["access_token"]
    return {"Authorization": f"Bearer {token}"}


FUZZ = settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


def conforms(app, case, role: str) -> None:
    """One generated call as this role, checked against the document."""
    case.call_and_validate(headers=bearer(app, role, case.path), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_api_conforms_as_employee(fuzz_app, case):
    conforms(fuzz_app, case, "employee")


@schema.parametrize()
@FUZZ
def test_api_conforms_as_approver(fuzz_app, case):
    conforms(fuzz_app, case, "approver")


@schema.parametrize()
@FUZZ
def test_api_conforms_as_admin(fuzz_app, case):
    conforms(fuzz_app, case, "admin")


class LinkedCalls(schema.as_state_machine()):
    """Schemathesis's stateful phase: chains of calls that follow the document's links."""

    role = "employee"

    def setup(self) -> None:
        # Each scenario starts from the same rows, so replaying one (Hypothesis does) gives the same answers.
        seed()

    def get_call_kwargs(self, case) -> dict:
        return {"headers": bearer(APP, self.role, case.path)}

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)


STATEFUL = settings(max_examples=15, stateful_step_count=8, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("role", ROLES)
def test_linked_calls_conform(fuzz_app, role):
    machine = type(f"LinkedCallsAs{role.title()}", (LinkedCalls,), {"role": role})
    machine.run(settings=STATEFUL)
