"""Departments: the company tree, read by everyone (for filters) and edited by admins."""

from flask_jwt_extended import jwt_required

from ..auth.tokens import roles_required
from ..services import departments
from .base import ApiBlueprint, link
from .budgets import write_budget
from .schemas.departments import DepartmentCreateSchema, DepartmentListSchema, DepartmentSchema, DepartmentUpdateSchema

blp = ApiBlueprint("departments", __name__, url_prefix="/api/departments", description="The organisation")


@blp.get("")
@jwt_required()
@blp.response(200, DepartmentListSchema)
@blp.errors(401)
def index():
    """Every department with its path from the company root, ordered by path."""
    return {"items": departments.list_departments()}


@blp.post("")
@jwt_required()
@write_budget("departments")
@roles_required("admin")
@blp.arguments(DepartmentCreateSchema)
@blp.response(201, DepartmentSchema)
@blp.links(201, UpdateDepartment=link("/api/departments/{department_id}", "patch",
                                      department_id="$response.body#/id"))
@blp.errors(400, 401, 403, 409, 413, 422)
def create(data):
    """Add a department (admin); code unique, parent and manager must exist."""
    return departments.create_department(data)


@blp.patch("/<id:department_id>")
@jwt_required()
@write_budget("departments")
@roles_required("admin")
@blp.arguments(DepartmentUpdateSchema)
@blp.response(200, DepartmentSchema)
@blp.errors(400, 401, 403, 404, 409, 413, 422)
def update(data, department_id):
    """Rename, recode, move or give a new manager to a department (admin); the tree stays without cycles."""
    return departments.update_department(department_id, data)
