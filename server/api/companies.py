"""Companies: the alliance admin manages them; staff read their own."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.models.companies import Company
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.companies import CompanySchema, CompanyUpdateSchema
from server.schemas.people import PersonSchema, StaffCreateSchema
from server.scope import company_condition, get_company
from server.services.organisation.companies import create_company, delete_company, update_company
from server.services.people.people import create_staff

blp = Blueprint("companies", __name__, url_prefix="/companies", description="Property companies")


@blp.route("", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.arguments(PageArgs, location="query")
@paged(blp, CompanySchema)
def list_companies(args):
    """The alliance's companies (staff: their own)."""
    return paginate(select(Company).where(company_condition(current_user(), Company.id)).order_by(Company.id), args)


@blp.route("", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(CompanySchema)
@blp.response(201, CompanySchema)
def add_company(args):
    """Add a company to the alliance."""
    return create_company(current_user(), args)


@blp.route("/<int:company_id>", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.response(200, CompanySchema)
def get_one(company_id):
    """One company."""
    return get_company(current_user(), company_id)


@blp.route("/<int:company_id>", methods=["PATCH"])
@roles_required("alliance_admin")
@blp.arguments(CompanyUpdateSchema)
@blp.response(200, CompanySchema)
def edit_company(args, company_id):
    """Rename a company or change its contact."""
    return update_company(get_company(current_user(), company_id), args)


@blp.route("/<int:company_id>", methods=["DELETE"])
@roles_required("alliance_admin")
@blp.response(204)
def remove_company(company_id):
    """Remove a company that has no compounds and no people."""
    delete_company(get_company(current_user(), company_id))


@blp.route("/<int:company_id>/staff", methods=["POST"])
@roles_required("alliance_admin", "staff")
@blp.arguments(StaffCreateSchema)
@blp.response(201, PersonSchema)
def add_staff(args, company_id):
    """Create a staff account of this company (admins for any company, staff for their own)."""
    user = current_user()
    return create_staff(user, get_company(user, company_id).id, args)
