"""The b2_usernames migration normalises stored usernames, and refuses collisions and bad names."""

import pytest
import sqlalchemy as sa

from .live_server import base_env, flask_cli

PREVIOUS, NORMALISED = "b1_integrity", "b2_usernames"  # the revision before, and this one


def add_users(url: str, *usernames: str) -> None:
    """Rows as the old code stored them: the username exactly as typed."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        for name in usernames:
            conn.execute(sa.text(
                "INSERT INTO users (username, display_name, email, password_hash, role, active,"
                " notification_seq, created_at) VALUES (:name, 'Alice Chen', '', 'x', 'employee',"
                " true, 0, CURRENT_TIMESTAMP)"), {"name": name})
    engine.dispose()


def usernames(url: str) -> list[str]:
    """The stored usernames by id."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        names = list(conn.scalars(sa.text("SELECT username FROM users ORDER BY id")))
    engine.dispose()
    return names


@pytest.mark.timeout(120)
def test_stored_usernames_are_normalised_and_downgrade_keeps_them(old_database):
    add_users(old_database, "Alice", "ＢＯＢ", " carol ", "dave")
    flask_cli(base_env(old_database), "db", "upgrade", NORMALISED)
    assert usernames(old_database) == ["alice", "bob", "carol", "dave"]
    flask_cli(base_env(old_database), "db", "downgrade", PREVIOUS)
    assert usernames(old_database) == ["alice", "bob", "carol", "dave"]


@pytest.mark.timeout(120)
def test_collisions_and_impossible_names_stop_the_migration_and_change_nothing(old_database):
    stored = ["alice", "ALICE", "ａｌｉｃｅ", "alice\u200b", "Bob"]
    add_users(old_database, *stored)
    result = flask_cli(base_env(old_database), "db", "upgrade", NORMALISED, check=False)
    assert result.returncode == 1
    assert "ids 1, 2, 3 would all become 'alice'" in result.stdout, result.stdout
    assert "id 4 'alice\\u200b'" in result.stdout and "control or invisible" in result.stdout, result.stdout
    assert usernames(old_database) == stored
    current = flask_cli(base_env(old_database), "db", "current").stdout
    assert PREVIOUS in current and NORMALISED not in current
