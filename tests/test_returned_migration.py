"""The c2_returned migration, on SQLite (batch mode) and PostgreSQL: `returned` becomes a state that holds its
asset, decisions are numbered by chain, and a downgrade gives a returned request back to its deciders."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from .live_server import base_env, flask_cli
from .test_org_migration import engine_for, fill_wave_one, rows

PREVIOUS, RETURNED = "b8_reports_indexes", "c2_returned"  # the revision before, and this one


def run(url: str, statement: str, **params) -> None:
    engine = engine_for(url)
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)
    engine.dispose()


@pytest.mark.timeout(180)
def test_returned_is_stored_holds_the_asset_and_downgrades_to_pending(old_database):
    ids = fill_wave_one(old_database)
    run(old_database, "INSERT INTO decisions (request_id, step, approver_id, outcome, comment, created_at)"
        " VALUES (:r, 1, :bob, 'approved', '', CURRENT_TIMESTAMP)", r=ids["request"], bob=ids["bob"])
    with pytest.raises(sa.exc.IntegrityError):  # the older schema knows no such state
        run(old_database, "UPDATE requests SET state = 'returned'")

    flask_cli(base_env(old_database), "db", "upgrade", RETURNED)
    assert rows(old_database, "SELECT chain_no FROM requests") == [(1,)]
    assert rows(old_database, "SELECT chain_no, step FROM decisions") == [(1, 1)]
    run(old_database, "UPDATE requests SET state = 'returned', step = 2 WHERE id = :r", r=ids["request"])
    # Returned, it still holds its asset: a second open request on it is refused by the database.
    with pytest.raises(sa.exc.IntegrityError):
        run(old_database, "INSERT INTO requests (kind, asset_id, applicant_id, reason, state, step, steps_total, chain,"
            " version, created_at, updated_at) VALUES ('assign', :asset, :alice, 'mine', 'pending', 1, 1, '[]', 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)", asset=ids["OLD-1"], alice=ids["alice"])
    # Step 1 may be decided again on a new chain of the same request.
    run(old_database, "INSERT INTO decisions (request_id, chain_no, step, approver_id, outcome, comment, created_at)"
        " VALUES (:r, 2, 1, :bob, 'approved', '', CURRENT_TIMESTAMP)", r=ids["request"], bob=ids["bob"])

    flask_cli(base_env(old_database), "db", "downgrade", PREVIOUS)
    assert rows(old_database, "SELECT state, step FROM requests") == [("pending", 2)]
    # Only the decisions of the chain the request is on survive the older one-decision-per-step rule.
    assert rows(old_database, "SELECT step FROM decisions") == [(1,)]
