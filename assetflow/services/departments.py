"""Departments: the company tree an admin edits, each with its path of names from the root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..errors import Conflict, NotFound, ValidationFailed
from ..events import publish
from ..extensions import db
from ..models import ROOT_DEPARTMENT_ID, Department, User
from ..models.department import path_up
from . import routing
from .transaction import committing

CODE_UNIQUE = "uq_departments_code"


@dataclass(frozen=True)
class DepartmentView:
    """A department as the API shows it: the row and its path of names from the root."""

    department: Department
    path: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.department, name)


def _paths(departments: list[Department]) -> dict[int, list[str]]:
    """Each department's names from the root down to itself."""
    names = {d.id: d.name for d in departments}
    parents = {d.id: d.parent_id for d in departments}
    return {d.id: [names[i] for i in reversed(path_up(parents, d.id))] for d in departments}


def list_departments() -> list[DepartmentView]:
    """Every department with its path, ordered by path (so children follow their parent)."""
    departments = list(db.session.scalars(sa.select(Department).options(so.joinedload(Department.manager))))
    paths = _paths(departments)
    views = [DepartmentView(d, paths[d.id]) for d in departments]
    return sorted(views, key=lambda v: ([name.casefold() for name in v.path], v.id))


def _view(department: Department) -> DepartmentView:
    return next(v for v in list_departments() if v.id == department.id)


def get_department(department_id: int) -> Department:
    """A department by id, or NotFound."""
    department = db.session.get(Department, department_id)
    if department is None:
        raise NotFound(f"Department {department_id} not found")
    return department


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, {"fields": {field: [message]}})


def check_exists(department_id: int, field: str = "department_id") -> None:
    """422 naming `field` unless the department exists (for users, assets and rules that point at one)."""
    if db.session.get(Department, department_id) is None:
        raise _invalid(field, f"No department with id {department_id}")


def _check_manager(manager_id: int | None) -> None:
    if manager_id is None:
        return
    manager = db.session.get(User, manager_id)
    if manager is None or not manager.active:
        raise _invalid("manager_id", f"No active user with id {manager_id}")


def _check_code_free(code: str, department_id: int | None = None) -> None:
    holder = db.session.scalar(sa.select(Department.id).where(Department.code == code))
    if holder is not None and holder != department_id:
        raise Conflict(f"Department code {code!r} is taken", {"code": code})


def _taken(code: str):
    return lambda: Conflict(f"Department code {code!r} is taken", {"code": code})


def create_department(data: dict[str, Any]) -> DepartmentView:
    """Add a department under `parent_id` (the company root when none is given)."""
    parent_id = data.get("parent_id") or ROOT_DEPARTMENT_ID
    check_exists(parent_id, "parent_id")
    _check_manager(data.get("manager_id"))
    _check_code_free(data["code"])
    department = Department(name=data["name"], code=data["code"], parent_id=parent_id,
                            manager_id=data.get("manager_id"))
    with committing(_taken(data["code"]), races=(CODE_UNIQUE,)):
        db.session.add(department)
    return _view(department)


def update_department(department_id: int, data: dict[str, Any]) -> DepartmentView:
    """Change any of name, code, parent and manager; the tree stays a tree under the root."""
    department = get_department(department_id)
    if "parent_id" in data:
        _check_parent(department, data["parent_id"])
    if "manager_id" in data:
        _check_manager(data["manager_id"])
    if "code" in data:
        _check_code_free(data["code"], department.id)
    with committing(_taken(data.get("code", department.code)), races=(CODE_UNIQUE,)):
        if "parent_id" in data:
            lock_tree()
        for field, value in data.items():
            setattr(department, field, value)
        if "parent_id" in data:
            db.session.flush()
            _check_no_cycle(department)  # again, after the write: another move may have committed meanwhile
        if "parent_id" in data or "manager_id" in data:
            # A new manager or a moved branch changes who holds a manager step or a department's scope.
            for change in routing.requalify():
                publish(change)
    return _view(department)


def _check_parent(department: Department, parent_id: int | None) -> None:
    if department.id == ROOT_DEPARTMENT_ID:
        if parent_id is not None:
            raise _invalid("parent_id", "The company root cannot have a parent")
        return
    if parent_id is None:
        raise _invalid("parent_id", "Only the company root has no parent")
    check_exists(parent_id, "parent_id")
    parents = dict(db.session.execute(sa.select(Department.id, Department.parent_id)).all())
    parents[department.id] = parent_id
    _refuse_cycle(department.id, parents)


def _refuse_cycle(department_id: int, parents: dict[int, int | None]) -> None:
    if department_id in path_up(parents, parents.get(department_id)):
        raise _invalid("parent_id", "A department cannot be placed under itself or one of its own sub-departments")


def lock_tree() -> None:
    # Moves are serialised on the root row (PostgreSQL), so two moves cannot each pass the cycle
    # check against a tree without the other; SQLite serialises writers by itself.
    db.session.execute(sa.select(Department.id).where(Department.id == ROOT_DEPARTMENT_ID).with_for_update())


def _check_no_cycle(department: Department) -> None:
    parents = dict(db.session.execute(sa.select(Department.id, Department.parent_id)).all())
    _refuse_cycle(department.id, parents)
