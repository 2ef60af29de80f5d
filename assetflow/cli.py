"""Command line: seed-demo, create-user, routing-check and the chores (db upgrade comes from Flask-Migrate)."""

from __future__ import annotations

import random
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import Flask, current_app

from .errors import AppError
from .extensions import db
from .models import ROOT_DEPARTMENT_ID, ApprovalRule, Asset, Department, User
from .services import routing, sessions, sso, timers, users
from .services.rules import current_rules
from .services.transaction import committing
from .services.users import create_user
from .workflow.rules import Rule, default_rules

DEMO_PASSWORD = "assetflow-demo"
# username, display name, role, department code.
DEMO_USERS = (
    ("alice", "Alice Chen", "employee", "ENG"),
    ("dave", "Dave Li", "employee", "SALES"),
    ("bob", "Bob Wang", "approver", "ENG"),
    ("carol", "Carol Zhang", "approver", "SALES"),
    ("erik", "Erik Zhou", "approver", "ENG"),
    ("sara", "Sara Lin", "approver", "SALES"),
    ("fiona", "Fiona Xu", "approver", "FIN"),
    ("frank", "Frank Wu", "approver", "FIN"),
    ("admin", "Ada Admin", "admin", "HQ"),
)
# code, name, manager; all directly under the company (HQ, department 1, exists with the table).
DEMO_DEPARTMENTS = (("ENG", "Engineering", "erik"), ("SALES", "Sales", "sara"), ("FIN", "Finance", "fiona"))
DEMO_TIMERS = {"remind_after_hours": 24, "escalate_after_hours": 72, "escalate_to": "admin"}
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
    usernames = [username for username, *_ in DEMO_USERS]
    try:
        found = db.session.scalar(sa.select(sa.func.count()).where(User.username.in_(usernames)))
    except sa.exc.SQLAlchemyError:
        # /healthz says the process is up even when the database is not.
        db.session.rollback()
        return False
    return found == len(usernames)


def seed_demo() -> int:
    """Create the demo company, users, rules and assets that are missing; return how many rows were added."""
    with committing():
        return _seed_demo()


def _seed_demo() -> int:
    added = _seed_departments()
    departments = dict(db.session.execute(sa.select(Department.code, Department.id)).all())
    departments["HQ"] = ROOT_DEPARTMENT_ID  # the company, whatever an admin renamed its code to
    for username, name, role, code in DEMO_USERS:
        user = db.session.scalar(sa.select(User).where(User.username == username))
        if user is None:
            user = create_user(username, DEMO_PASSWORD, role, name, f"{username}@example.com")
            added += 1
        if user.department_id == ROOT_DEPARTMENT_ID:  # new, or seeded before departments existed
            user.department_id = departments[code]
    managers = dict(db.session.execute(sa.select(User.username, User.id)).all())
    for code, manager in (("HQ", "admin"), *((code, manager) for code, _, manager in DEMO_DEPARTMENTS)):
        department = db.session.get(Department, departments[code])
        department.manager_id = department.manager_id or managers[manager]  # an admin's choice stays
    added += _seed_rules(departments["SALES"])
    added += _seed_assets(db.session.get(User, managers["alice"]))
    return added


def _seed_departments() -> int:
    missing = [(code, name) for code, name, _ in DEMO_DEPARTMENTS
               if db.session.scalar(sa.select(Department.id).where(Department.code == code)) is None]
    db.session.add_all(Department(code=code, name=name, parent_id=ROOT_DEPARTMENT_ID) for code, name in missing)
    db.session.flush()
    return len(missing)


def demo_rules(threshold: Decimal | int, sales_id: int) -> list[Rule]:
    """High value and disposals: the department's approvers, then an admin; in Sales the manager decides."""
    here = {"decider": "role", "role": "approver", "scope": "department", **DEMO_TIMERS}
    admin = {"decider": "role", "role": "admin", "scope": "company", **DEMO_TIMERS}
    return [
        {"match": {"kinds": ["dispose"]}, "steps": [here, admin]},
        {"match": {"min_value": str(Decimal(threshold))}, "steps": [here, admin]},
        {"match": {"departments": [sales_id]}, "steps": [{"decider": "manager", **DEMO_TIMERS}]},
        {"match": {}, "steps": [here]},
    ]


def _seed_rules(sales_id: int) -> int:
    """The demo rules, unless an admin has written rules of their own (the stored defaults are not)."""
    threshold = current_app.config["HIGH_VALUE_THRESHOLD"]
    if current_rules() != default_rules(threshold):
        return 0
    rules = demo_rules(threshold, sales_id)
    db.session.execute(sa.delete(ApprovalRule))
    db.session.add_all(ApprovalRule(position=n, match=r["match"], steps=r["steps"]) for n, r in enumerate(rules))
    return len(rules)


def _seed_assets(alice: User) -> int:
    added = 0
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
    return added


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo company, users, rules and assets (idempotent; refused in production)."""
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


@click.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for (twice) when not given")
def set_password_command(username: str, password: str) -> None:
    """Give a user a password: an imported user has none until then (or signs in by single sign-on)."""
    try:
        user = users.set_password(username, password)
    except AppError as error:
        raise click.ClickException(_describe(error)) from None
    click.echo(f"password set for {user.username} (id {user.id}); their other sessions ended")


@click.command("prune-tokens")
def prune_tokens_command() -> None:
    """Delete logout records of tokens that have expired (run daily from cron)."""
    click.echo(f"prune-tokens: {sessions.prune_revoked()} expired revoked tokens deleted")


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


NOT_LIVE = ("run-timers: no SOCKETIO_MESSAGE_QUEUE, so nothing was pushed live: each notification is in its"
            " user's inbox with its seq, replayed on the user's next connect and shown on the next page load")


@click.command("run-timers")
def run_timers_command() -> None:
    """Send the reminders and escalations that are due now, once (servers do it every TIMER_SECONDS).

    With SOCKETIO_MESSAGE_QUEUE set (the servers' Redis), each notification is pushed live through
    the queue to the user's sockets on every server. Without it this process holds no sockets and
    nothing is pushed live: each notification is stored in the user's inbox with its seq, replayed
    when the user's socket next connects and shown on the next page load.
    """
    fired = timers.run_due()
    click.echo(f"run-timers: {fired['reminded']} reminded, {fired['escalated']} escalated")
    if not current_app.config["SOCKETIO_MESSAGE_QUEUE"]:
        click.echo(NOT_LIVE)


@click.command("break-glass")
@click.argument("username")
def break_glass_command(username: str) -> None:
    """Print a one-time sign-in link for an active admin: for when single sign-on or its provider fails,
    whatever PASSWORD_LOGIN says. It works once, for 15 minutes; the code rides after '#', so it never
    reaches a server log or a Referer header."""
    try:
        code = sso.break_glass_ticket(username)
    except AppError as error:
        raise click.ClickException(error.message) from None
    base = current_app.config["PUBLIC_URL"] or f"http://{current_app.config['HOST']}:{current_app.config['PORT']}"
    click.echo(f"Open within {sso.BREAK_GLASS_SECONDS // 60} minutes, once: {base}/login#break_glass={code}")


@click.command("sso-link")
@click.argument("username")
@click.argument("subject")
@click.option("--issuer", default=None, help="The provider's issuer (default: OIDC_ISSUER)")
def sso_link_command(username: str, subject: str, issuer: str | None) -> None:
    """Link an existing user to their account at the OpenID provider (its `sub`), so that their single
    sign-on signs in this user instead of being refused for a username that is taken."""
    if not (issuer or current_app.config["OIDC_ISSUER"]):
        raise click.ClickException("Set OIDC_ISSUER or pass --issuer")
    try:
        identity = sso.link(username, subject, issuer)
    except AppError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"linked {identity.user.username} to {identity.issuer} sub {identity.subject}")


@click.command("routing-check")
def routing_check_command() -> None:
    """List the departments whose employees' requests could not be decided today, and why; exit 1 if any."""
    check = routing.routing_check()
    for stuck in check.items:
        department = stuck.department
        click.echo(f"{department.code} {department.name} ({stuck.members} active users):")
        for gap in stuck.gaps:
            click.echo(f"  {', '.join(gap.kinds)}: {gap.message}")
    if check.items:
        raise click.ClickException(f"routing-check: {len(check.items)} of {check.departments_checked} departments "
                                   f"have requests that could not be decided")
    click.echo(f"routing-check: every request of the {check.departments_checked} departments can be decided")


def init_app(app: Flask) -> None:
    """Register the commands."""
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(run_timers_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(set_password_command)
    app.cli.add_command(prune_tokens_command)
    app.cli.add_command(deactivate_user_command)
    app.cli.add_command(activate_user_command)
    app.cli.add_command(break_glass_command)
    app.cli.add_command(sso_link_command)
    app.cli.add_command(routing_check_command)
