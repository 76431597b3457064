"""Residents and guards of a compound: staff approve, remove, invite and move them."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.models.compounds import Household
from server.models.people import User
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.people import (
    GuardInviteSchema,
    GuardUpdateSchema,
    InviteSchema,
    PersonSchema,
    ResidentArgsSchema,
)
from server.scope import get_compound, get_guard, get_resident, guard_condition, in_scope
from server.services.people.people import approve_resident, invite_guard, remove_resident, update_guard

blp = Blueprint("people", __name__, url_prefix="", description="Residents and guards")


@blp.route("/compounds/<int:compound_id>/residents", methods=["GET"])
@roles_required("staff")
@blp.arguments(ResidentArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, PersonSchema)
def list_residents(filters, args, compound_id):
    """Residents bound to households of the compound (filter: residency=pending)."""
    compound = get_compound(current_user(), compound_id)
    query = (select(User).join(Household, Household.id == User.household_id)
             .where(Household.compound_id == compound.id, User.role == "resident"))
    if "residency" in filters:
        query = query.where(User.residency == filters["residency"])
    return paginate(query.order_by(User.id), args)


@blp.route("/residents/<int:resident_id>/approve", methods=["POST"])
@roles_required("staff")
@blp.response(200, PersonSchema)
def approve(resident_id):
    """Confirm a resident's binding to their household."""
    return approve_resident(get_resident(current_user(), resident_id))


@blp.route("/residents/<int:resident_id>/remove", methods=["POST"])
@roles_required("staff")
@blp.response(200, PersonSchema)
def remove(resident_id):
    """Unbind a resident from their household."""
    return remove_resident(get_resident(current_user(), resident_id))


@blp.route("/compounds/<int:compound_id>/guard-invites", methods=["POST"])
@roles_required("staff")
@blp.arguments(GuardInviteSchema)
@blp.response(201, InviteSchema)
def add_guard_invite(args, compound_id):
    """A single-use code that makes a WeChat user a guard posted at this compound (the alliance admin,
    running a compound without a company, names the guard's employer in company_id)."""
    user = current_user()
    return invite_guard(user, get_compound(user, compound_id), args.get("company_id"))


@blp.route("/guards", methods=["GET"])
@roles_required("staff")
@blp.arguments(PageArgs, location="query")
@paged(blp, PersonSchema)
def list_guards(args):
    """The guards I manage: my company's (the alliance admin: those posted at the compounds they run)."""
    return paginate(select(User).where(guard_condition(current_user())).order_by(User.id), args)


@blp.route("/guards/<int:guard_id>", methods=["PATCH"])
@roles_required("staff")
@blp.arguments(GuardUpdateSchema)
@blp.response(200, PersonSchema)
def edit_guard(args, guard_id):
    """Post a guard at another compound in my scope, or deactivate them."""
    user = current_user()
    return update_guard(get_guard(user, guard_id), args, lambda cid: in_scope(user, cid))
