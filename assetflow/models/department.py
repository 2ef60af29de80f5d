"""Departments: the company as a tree, each with an optional manager."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from ..extensions import db
from .base import UTCDateTime, utcnow

# The company itself: created with the table, the department of every user and asset that names none.
ROOT_DEPARTMENT_ID = 1


class Department(db.Model):
    """A unit of the organisation; requests are routed by the applicant's department."""

    __tablename__ = "departments"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    code: so.Mapped[str] = so.mapped_column(sa.String(32), unique=True)
    # use_alter: users and departments point at each other, so one of the two keys comes after both tables.
    manager_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id", use_alter=True, name="fk_departments_manager_id_users"))
    parent_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("departments.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)

    manager = so.relationship("User", foreign_keys=[manager_id])  # the department list joins it

    def __repr__(self) -> str:
        return f"<Department {self.code}>"


def path_up(parents: Mapping[int, int | None], start: int | None) -> list[int]:
    """`start` and its ancestors, nearest first, from an id -> parent id map; a cycle ends the walk."""
    path: list[int] = []
    while start is not None and start not in path:
        path.append(start)
        start = parents.get(start)
    return path


# The first row of a new table, so it gets id 1 on every database (the migration inserts the same row).
ROOT_ROW = "INSERT INTO departments (name, code, created_at) VALUES ('Company', 'HQ', CURRENT_TIMESTAMP)"
sa.event.listen(Department.__table__, "after_create", sa.DDL(ROOT_ROW))
