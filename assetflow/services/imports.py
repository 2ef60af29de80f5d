"""Imports of departments, users and assets from a spreadsheet: every row planned and reported, then all written or
none.

A run first *plans*: it reads what exists for every key in the file in a few bulk queries, checks each row by the
rules the API's own edits use (services/users, departments, assets; the API layer has already read each cell by the
API's field rules) and gives it an action — `create`, `update`, `unchanged` or `error`. A dry run stops there. A real
run with any error row writes nothing (422 `import_rejected`, the report in `details`); otherwise it applies the plan
in one transaction: new rows in bulk INSERTs, changed ones through the same per-row changes as the API (sessions
ended, API tokens revoked, custody audited), then one recheck of who may decide what (routing.requalify) for the
whole file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..actor import Actor
from ..auth.credentials import canonical_username, display_name_problem, username_problem
from ..errors import AppError, Conflict, ValidationFailed
from ..events import publish
from ..extensions import db
from ..models import ROOT_DEPARTMENT_ID, Asset, AssetEvent, Department, Request, User
from ..models.base import utcnow
from ..models.department import path_up
from ..models.user import NO_PASSWORD
from . import assets, custody, departments, routing, users
from .transaction import Lost, committing

CHUNK = 900  # keys per `IN (…)`, under SQLite's limit of host parameters


@dataclass
class Row:
    """One data row of the file: its line, its key, the columns it sets (None clears a reference), its verdict."""

    row: int
    key: str
    values: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    action: str = "error"
    changes: list[str] = field(default_factory=list)

    def refuse(self, message: str) -> None:
        self.errors.append(message)

    def decide(self, changes: Iterable[str], new: bool = False) -> None:
        """The row's action from the fields it sets (as the file's column names), unless it has errors."""
        self.changes = sorted(COLUMN_OF.get(name, name) for name in changes)
        if not self.errors:
            self.action = "create" if new else "update" if self.changes else "unchanged"


COLUMN_OF = {"department_id": "department_code", "custodian_id": "custodian_username",
             "manager_id": "manager_username"}


class ImportRejected(ValidationFailed):
    """A real run found rows with errors: nothing was written; `details` is the report."""

    code = "import_rejected"


def run(kind: str, rows: list[Row], actor: Actor, dry_run: bool) -> dict[str, Any]:
    """Plan every row; unless a dry run, apply them all (or raise ImportRejected and write nothing)."""
    _refuse_repeated_keys(rows)
    apply = PLANNERS[kind](rows, actor)
    for row in rows:
        if row.errors:
            row.action = "error"
    report = {"dry_run": dry_run, "applied": False, "rows": rows,
              "summary": {action: sum(row.action == action for row in rows)
                          for action in ("create", "update", "unchanged", "error")}}
    if dry_run:
        return report
    if report["summary"]["error"]:
        count = report["summary"]["error"]
        raise ImportRejected(f"{count} row{'s' if count > 1 else ''} with errors: nothing was imported",
                             {**report, "rows": [vars(row) | {"values": None} for row in rows]})
    apply()
    report["applied"] = True
    return report


def _refuse_repeated_keys(rows: list[Row]) -> None:
    first: dict[str, int] = {}
    for row in rows:
        if row.key in first:
            row.refuse(f"The key {row.key} is also on row {first[row.key]}")
        elif row.key:
            first[row.key] = row.row


def _chunked(keys: Iterable[Any]) -> Iterator[list[Any]]:
    keys = list(dict.fromkeys(keys))
    for start in range(0, len(keys), CHUNK):
        yield keys[start:start + CHUNK]


def _users_named(names: Iterable[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in _chunked(canonical_username(name) for name in names if name):
        found.update((user.username, user) for user in db.session.scalars(
            sa.select(User).where(User.username.in_(chunk)).options(so.lazyload(User.department))))
    return found


def _active_user(row: Row, column: str, people: dict[str, User]) -> int | None:
    """The id of the active user a column names (None when it is cleared); a row error when there is none."""
    name = row.values[column]
    if name is None:
        return None
    user = people.get(canonical_username(name))
    if user is None or not user.active:
        row.refuse(f"{column}: no active user {name!r}")
        return None
    return user.id


def _department_codes() -> dict[str, int]:
    return dict(db.session.execute(sa.select(Department.code, Department.id)).all())


def _department_id(row: Row, column: str, codes: dict[str, int]) -> int | None:
    code = row.values[column]
    if code not in codes:
        row.refuse(f"{column}: no department {code!r}")
        return None
    return codes[code]


def _row_error(row: Row, check: Callable[..., None], *args: Any) -> None:
    """Run one of the API's checks for this row; what it refuses becomes the row's error."""
    try:
        check(*args)
    except AppError as error:
        fields = list(error.details.get("fields", {}))
        row.refuse(f"{COLUMN_OF.get(fields[0], fields[0])}: {error.message}" if len(fields) == 1 else error.message)


# --- departments ---------------------------------------------------------------------------------------------

def _plan_departments(rows: list[Row], actor: Actor) -> Callable[[], None]:
    existing = {d.code: d for d in db.session.scalars(sa.select(Department).options(so.lazyload("*")))}
    code_of = {d.id: d.code for d in existing.values()}
    root = code_of[ROOT_DEPARTMENT_ID]
    in_file = {row.key for row in rows if not row.errors}
    people = _users_named(row.values.get("manager_username") for row in rows)
    parents = {d.code: code_of.get(d.parent_id) for d in existing.values()}
    wanted: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.errors:
            continue
        department, values = existing.get(row.key), row.values
        data = {name: values[name] for name in ("name",) if name in values}
        if department is None and "name" not in data:
            row.refuse("name: required for a new department")
        if "parent_code" in values or department is None:
            parent = values.get("parent_code") or (None if row.key == root else root)
            if row.key == root and parent is not None:
                row.refuse("parent_code: the company root has no parent")
            elif parent is not None and parent not in existing and parent not in in_file:
                row.refuse(f"parent_code: no department {parent!r}")
            else:
                parents[row.key] = parent
        if "manager_username" in values:
            data["manager_id"] = _active_user(row, "manager_username", people)
        wanted[row.key] = data
    for row in rows:
        if not row.errors and path_up(parents, row.key)[-1] != root:
            row.refuse("parent_code: the departments above it never reach the company root (a cycle)")
    for row in rows:
        department, data = existing.get(row.key), wanted.get(row.key, {})
        if department is None:
            row.decide(data, new=True)
        else:
            moved = parents.get(row.key) != code_of.get(department.parent_id)
            row.decide([name for name, value in data.items() if getattr(department, name) != value]
                       + (["parent_code"] if moved else []))

    def apply() -> None:
        changed = [row for row in rows if row.action in ("create", "update")]
        taken = lambda: Conflict("A department in the file was changed or created meanwhile; import it again")
        with committing(taken, races=(departments.CODE_UNIQUE,)):
            if any("parent_code" in row.changes for row in changed):
                departments.lock_tree()
            ids = {code: department.id for code, department in existing.items()}
            # Parents before their children, so each new row's parent has its id when it is inserted.
            for row in sorted(changed, key=lambda r: len(path_up(parents, r.key))):
                department = existing.get(row.key) or Department(code=row.key)
                for name, value in wanted[row.key].items():
                    setattr(department, name, value)
                parent = parents.get(row.key)
                department.parent_id = ids[parent] if parent is not None else None
                db.session.add(department)
                db.session.flush()
                ids[row.key] = department.id
            moved = any(row.action == "update" and {"parent_code", "manager_username"} & set(row.changes)
                        for row in changed)
            if moved:  # a new manager or a moved branch changes who holds a manager step or a department's scope
                for change in routing.requalify():
                    publish(change)
    return apply


# --- users ---------------------------------------------------------------------------------------------------

def _plan_users(rows: list[Row], actor: Actor) -> Callable[[], None]:
    for row in rows:
        row.key = canonical_username(row.key)
        if problem := username_problem(row.key):
            row.refuse(f"username: {problem}")
    existing = _users_named(row.key for row in rows if not row.errors)
    codes = _department_codes()
    creates: list[dict[str, Any]] = []
    updates: list[tuple[User, dict[str, Any]]] = []
    for row in rows:
        if row.errors:
            continue
        values, data = row.values, {}
        if "display_name" in values:
            data["display_name"] = values["display_name"].strip()
            if problem := display_name_problem(data["display_name"]):
                row.refuse(f"display_name: {problem}")
        data.update((name, values[name]) for name in ("email", "role", "active") if name in values)
        if "department_code" in values:
            data["department_id"] = _department_id(row, "department_code", codes)
        user = existing.get(row.key)
        if user is None:
            if "department_id" not in data:
                row.refuse("department_code: required for a new user (no silent company-root default)")
            creates.append({"username": row.key, "display_name": row.key, "email": "", "role": "employee",
                            "active": True, "password_hash": NO_PASSWORD, **data})
            row.decide(data, new=True)
            continue
        data = {name: value for name, value in data.items() if getattr(user, name) != value}
        _row_error(row, users.check_own_edit, actor.id, user, data)
        updates.append((user, data))
        row.decide(data)
    _refuse_leaving_no_admin(rows, updates, creates)

    def apply() -> None:
        changed = [(user, data) for user, data in updates if data]
        removing = any(users.removes_an_admin(user, data) for user, data in changed)
        taken = lambda: Conflict("A user in the file was changed or created meanwhile; import it again")
        with committing(taken, races=("uq_users_username",)):
            if creates:
                db.session.execute(sa.insert(User.__table__), creates)
            if removing:
                users.lock_admins()
            recheck = {user.id for user, data in changed if users.change_user(user, data)}
            if removing:
                users.check_an_admin_remains()  # again under the lock: another admin may have been removed meanwhile
            if recheck:
                activity = any("active" in data for _, data in changed)
                for change in routing.requalify(recheck, activity_changed=activity):
                    publish(change)
    return apply


def _refuse_leaving_no_admin(rows: list[Row], updates: list[tuple[User, dict]], creates: list[dict]) -> None:
    removed = {user.id for user, data in updates if users.removes_an_admin(user, data)}
    if not removed:
        return
    remaining = db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        *users.ACTIVE_ADMIN, User.id.not_in(removed)))
    if remaining or any(new["role"] == "admin" and new["active"] for new in creates):
        return
    by_key = {row.key: row for row in rows}
    for user, _ in updates:
        if user.id in removed:
            by_key[user.username].refuse("This would leave no active admin")


# --- assets --------------------------------------------------------------------------------------------------

def _existing_assets(tags: Iterable[str]) -> dict[str, Asset]:
    found: dict[str, Asset] = {}
    for chunk in _chunked(tags):
        found.update((asset.tag, asset) for asset in db.session.scalars(
            sa.select(Asset).where(Asset.tag.in_(chunk)).options(so.lazyload("*"))))
    return found


def _locked(asset_ids: Iterable[int]) -> set[int]:
    locked: set[int] = set()
    for chunk in _chunked(asset_ids):
        locked.update(db.session.scalars(sa.select(Request.asset_id).where(
            Request.state == "pending", Request.asset_id.in_(chunk))))
    return locked


ASSET_DEFAULTS = {"currency": "CNY", "status": "in_stock", "location": "", "custodian_id": None,
                  "department_id": ROOT_DEPARTMENT_ID}  # as a new asset of the API gets them (models/asset.py)
COPIED = ("name", "category", "value", "currency", "status", "location")


def _plan_assets(rows: list[Row], actor: Actor) -> Callable[[], None]:
    existing = _existing_assets(row.key for row in rows if not row.errors)
    codes = _department_codes()
    people = _users_named(row.values.get("custodian_username") for row in rows)
    locked = _locked(asset.id for asset in existing.values())
    creates: list[dict[str, Any]] = []
    updates: list[tuple[Asset, dict[str, Any]]] = []
    for row in rows:
        if row.errors:
            continue
        values = row.values
        data = {name: values[name] for name in COPIED if name in values}
        if "department_code" in values:
            data["department_id"] = _department_id(row, "department_code", codes)
        if "custodian_username" in values:
            data["custodian_id"] = _active_user(row, "custodian_username", people)
        asset = existing.get(row.key)
        if asset is None:
            new = {**ASSET_DEFAULTS, "tag": row.key, **data}
            for name in ("name", "category", "value"):
                if name not in data:
                    row.refuse(f"{name}: required for a new asset")
            _row_error(row, assets.check_new_asset, row.key, new["status"])
            if not row.errors:  # (a custodian not found is the row's error, not "in use needs a custodian")
                _row_error(row, _check_custody, new["status"], new["custodian_id"])
            creates.append(new)
            row.decide(data, new=True)
            continue
        if data.get("status") == "in_stock" and "custodian_id" not in data:
            data["custodian_id"] = None  # back in stock, as the API's edit puts it: nobody holds it
        data = {name: value for name, value in data.items() if not _same(getattr(asset, name), value)}
        if {"status", "custodian_id"} & set(data) and not row.errors:
            status, custodian = data.get("status", asset.status), data.get("custodian_id", asset.custodian_id)
            _row_error(row, assets.check_status_change, asset, status, asset.id in locked, custodian)
            _row_error(row, _check_custody, status, custodian, False)
        elif data and asset.status == "disposed":
            row.refuse("A disposed asset never changes again")
        updates.append((asset, data))
        row.decide(data)

    def apply() -> None:
        taken = lambda: Conflict("An asset in the file was changed or registered meanwhile; import it again")
        with committing(taken, races=("uq_assets_tag",)):
            if creates:
                # One executemany of the table (the ORM's bulk insert starts a new statement wherever a row's
                # None values differ from the row before), then the new ids by tag: RETURNING in parameter
                # order falls back to a statement per row on SQLite.
                db.session.execute(sa.insert(Asset.__table__), creates)
                ids = _ids_by_tag(new["tag"] for new in creates)
                db.session.execute(sa.insert(AssetEvent.__table__), [custody.created_event(ids[new["tag"]], new, actor)
                                                           for new in creates])
            _update_assets([(asset, data) for asset, data in updates if data], actor)
    return apply


def _update_assets(updates: list[tuple[Asset, dict[str, Any]]], actor: Actor) -> None:
    """The changed assets in one executemany per set of changed columns, each `WHERE id = ? AND version = ?` as the
    ORM's versioned UPDATE is (any row changed since it was read makes the whole import a 409), and their audit
    rows in one more."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for asset, data in updates:
        parameters = {f"new_{name}": value for name, value in data.items()}
        groups.setdefault(tuple(sorted(data)), []).append(
            parameters | {"row_id": asset.id, "row_version": asset.version})
    table, now = Asset.__table__, utcnow()
    for columns, parameters in groups.items():
        statement = (sa.update(table).where(table.c.id == sa.bindparam("row_id"),
                                            table.c.version == sa.bindparam("row_version"))
                     .values({name: sa.bindparam(f"new_{name}") for name in columns}
                             | {"version": table.c.version + 1, "updated_at": now}))
        if db.session.execute(statement, parameters).rowcount != len(parameters):
            raise Lost()
    events = [custody.updated_event(asset.id, {name: getattr(asset, name) for name in data}, data, actor)
              for asset, data in updates]
    if events := [event for event in events if event]:
        db.session.execute(sa.insert(AssetEvent.__table__), events)


def _ids_by_tag(tags: Iterable[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for chunk in _chunked(tags):
        ids.update(db.session.execute(sa.select(Asset.tag, Asset.id).where(Asset.tag.in_(chunk))).all())
    return ids


def _check_custody(status: str, custodian_id: int | None, new: bool = True) -> None:
    """An asset in stock is held by nobody; a new one in use by somebody (an edit's check_status_change says so)."""
    if status == "in_stock" and custodian_id is not None:
        raise ValidationFailed("An asset in stock has no custodian: leave it empty",
                               {"fields": {"custodian_username": ["Not in stock"]}})
    if new and status == "in_use" and custodian_id is None:
        raise ValidationFailed("An asset in use needs a custodian (custodian_username)",
                               {"fields": {"status": ["in_use needs a custodian"]}})


def _same(current: Any, new: Any) -> bool:
    if isinstance(current, Decimal) and isinstance(new, Decimal):
        return current == new  # 10 == 10.00
    return current == new


PLANNERS: dict[str, Callable[[list[Row], Actor], Callable[[], None]]] = {
    "departments": _plan_departments, "users": _plan_users, "assets": _plan_assets}
