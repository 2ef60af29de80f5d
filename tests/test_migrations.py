"""The migrations build exactly the schema the models declare (PostgreSQL, the production database)."""

from __future__ import annotations

from .conftest import reset_schema
from .live_server import base_env, flask_cli


def test_the_migrated_postgresql_schema_matches_the_models(postgres_url):
    reset_schema(postgres_url)
    env = base_env(postgres_url)
    flask_cli(env, "db", "upgrade")
    try:
        checked = flask_cli(env, "db", "check", check=False)
        assert checked.returncode == 0, checked.stdout  # non-zero when autogenerate would add an operation
        assert "No new upgrade operations detected" in checked.stdout
    finally:
        reset_schema(postgres_url)  # the other PostgreSQL tests build their own tables on this database
