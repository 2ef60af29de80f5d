"""Command line: seed-demo and create-user (db upgrade comes from Flask-Migrate)."""

from __future__ import annotations

import random
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import Flask, current_app

from .auth.tokens import prune_revoked
from .errors import AppError
from .extensions import db
from .models import Asset, User
from .services import timers, users
from .services.users import create_user

DEMO_PASSWORD = "assetflow-demo"
DEMO_USERS = (
    ("alice", "Alice Chen", "employee"),
    ("dave", "Dave Li", "employee"),
    ("bob", "Bob Wang", "approver"),
    ("carol", "Carol Zhang", "approver"),
    ("admin", "Ada Admin", "admin"),
)
DEMO_CATALOGUE = (
    ("Laptop", "ThinkPad X1 Carbon", 12999), ("Laptop", "MacBook Pro 14", 16999),
    ("Monitor", "Dell U2723QE", 3999), ("Phone", "iPhone 16", 6999),
    ("Furniture", "Standing desk", 2599), ("Network", "Cisco switch 48p", 18500),
    ("Projector", "Epson EB-L200F", 8999), ("Vehicle", "Company van", 168000),
)
STATUS_CYCLE = ("in_stock",) * 6 + ("in_use", "in_repair")


def demo_data_loaded() -> bool:
    """Whether the demo users exist (never in production): the login page lists them only then."""
    if current_app.config["ENV_NAME"] == "production":
        return False
    usernames = [username for username, _, _ in DEMO_USERS]
    try:
        found = db.session.scalar(sa.select(sa.func.count()).where(User.username.in_(usernames)))
    except sa.exc.SQLAlchemyError:
        # /healthz says the process is up even when the database is not.
        db.session.rollback()
        return False
    return found == len(usernames)


def seed_demo() -> int:
    """Create the demo users and assets that are missing; return how many rows were added."""
    added = 0
    for username, name, role in DEMO_USERS:
        if db.session.scalar(sa.select(User).where(User.username == username)) is None:
            create_user(username, DEMO_PASSWORD, role, name, f"{username}@example.com")
            added += 1
    alice = db.session.scalar(sa.select(User).where(User.username == "alice"))
    rng = random.Random(42)  # The same demo data on every machine.
    for number in range(1, 37):
        tag = f"AST-{1000 + number:06d}"
        if db.session.scalar(sa.select(Asset.id).where(Asset.tag == tag)) is not None:
            continue
        category, name, value = DEMO_CATALOGUE[number % len(DEMO_CATALOGUE)]
        status = STATUS_CYCLE[number % len(STATUS_CYCLE)]
        db.session.add(Asset(
            tag=tag, name=f"{name} #{number}", category=category, value=Decimal(value),
            currency="CNY", status=status, location=rng.choice(("Shanghai HQ", "Beijing", "Shenzhen")),
            custodian_id=alice.id if status == "in_use" else None,
        ))
        added += 1
    db.session.commit()
    return added


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo users and assets (idempotent; refused in production)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-demo never runs in production")
    click.echo(f"seed-demo: {seed_demo()} rows added")


def _describe(error: AppError) -> str:
    """The error's message and each field's complaint, for a terminal."""
    fields = error.details.get("fields", {})
    return "; ".join([error.message, *(f"{field}: {' '.join(why)}" for field, why in fields.items())])


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(("employee", "approver", "admin")))
@click.option("--password", required=True)
@click.option("--display-name", default=None)
@click.option("--email", default="")
def create_user_command(username: str, role: str, password: str, display_name: str | None,
                        email: str) -> None:
    """Create a user."""
    try:
        user = create_user(username, password, role, display_name, email)
    except AppError as error:
        raise click.ClickException(_describe(error)) from None
    click.echo(f"created user {user.username} (id {user.id}, {user.role})")


@click.command("prune-tokens")
def prune_tokens_command() -> None:
    """Delete logout records of tokens that have expired (run daily from cron)."""
    click.echo(f"prune-tokens: {prune_revoked()} expired revoked tokens deleted")


def _set_active(username: str, active: bool) -> None:
    try:
        user = users.set_active(users.get_by_username(username).id, active)
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"{'activated' if active else 'deactivated'} {user.username} (id {user.id})")


@click.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username: str) -> None:
    """Deactivate a user: tokens refused, open sockets dropped (in every process on the queue)."""
    _set_active(username, False)


@click.command("activate-user")
@click.argument("username")
def activate_user_command(username: str) -> None:
    """Let a deactivated user log in again."""
    _set_active(username, True)


@click.command("run-timers")
def run_timers_command() -> None:
    """Send the reminders and escalations that are due now, once (servers do it every TIMER_SECONDS)."""
    fired = timers.run_due()
    click.echo(f"run-timers: {fired['reminded']} reminded, {fired['escalated']} escalated")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(run_timers_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(prune_tokens_command)
    app.cli.add_command(deactivate_user_command)
    app.cli.add_command(activate_user_command)
