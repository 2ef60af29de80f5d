"""Schemathesis against the app's own OpenAPI document, as an employee, an approver and an admin."""

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

from .conftest import build_app
from .factories import make_asset, make_user

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("employee", "approver", "admin")


# Built at import: schemathesis reads the document when the module is collected. (Its lazy
# from_fixture loader needs a pytest internal that pytest 9.2 removed.)
APP = build_app()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APP)


def seed() -> None:
    """A fresh database: users of each role and assets in every status."""
    with APP.app_context():
        db.drop_all()
        db.create_all()
        users = {role: make_user(role, f"fuzz-{role}") for role in ROLES}
        make_user("approver", "fuzz-approver-2")
        for status in ("in_stock", "in_stock", "in_use", "in_repair", "disposed"):
            make_asset(status=status, custodian=users["employee"] if status == "in_use" else None)
        APP.config["FUZZ_USERS"] = {role: (user.id, user.role) for role, user in users.items()}
        db.session.remove()


@pytest.fixture(scope="module")
def fuzz_app():
    """The app, seeded."""
    seed()
    return APP


def bearer(app, role: str, case) -> dict:
    """Fresh tokens per call: a fuzzed logout revokes only its own."""
    user_id, user_role = app.config["FUZZ_USERS"][role]
    user = type("FuzzUser", (), {"id": user_id, "role": user_role})
    with app.app_context():
        pair = issue_tokens(user)
    token = pair["refresh_token"] if case.path == "/api/auth/refresh" else pair["access_token"]
    return {"Authorization": f"Bearer {token}"}


FUZZ = settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))


def conforms(app, case, role: str) -> None:
    """One generated call as this role, checked against the document."""
    case.call_and_validate(headers=bearer(app, role, case), checks=CHECKS)


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
        return {"headers": bearer(APP, self.role, case)}

    def validate_response(self, response, case, additional_checks=None, **kwargs) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)


STATEFUL = settings(max_examples=15, stateful_step_count=8, derandomize=True, deadline=None,
                    suppress_health_check=list(HealthCheck))


@pytest.mark.parametrize("role", ROLES)
def test_linked_calls_conform(fuzz_app, role):
    machine = type(f"LinkedCallsAs{role.title()}", (LinkedCalls,), {"role": role})
    machine.run(settings=STATEFUL)
