"""Residents and guards of a compound: staff approve, remove, invite and move them."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.errors import NotFoundError
from server.extensions import db
from server.models.compounds import Household
from server.models.people import User
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.people import GuardUpdateSchema, InviteSchema, PersonSchema, ResidentArgsSchema
from server.scope import compound_condition, get_compound, in_scope
from server.services.people.people import approve_resident, invite_guard, remove_resident, update_guard

blp = Blueprint("people", __name__, url_prefix="", description="Residents and guards")


def _resident(staff: User, resident_id: int) -> User:
    resident = db.session.scalar(
        select(User).join(Household, Household.id == User.household_id)
        .where(User.id == resident_id, User.role == "resident",
               compound_condition(staff, Household.compound_id)))
    if resident is None:
        raise NotFoundError()
    return resident


def _guard(staff: User, guard_id: int) -> User:
    guard = db.session.scalar(select(User).where(User.id == guard_id, User.role == "guard",
                                                 User.company_id == staff.company_id))
    if guard is None:
        raise NotFoundError()
    return guard


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
    return approve_resident(_resident(current_user(), resident_id))


@blp.route("/residents/<int:resident_id>/remove", methods=["POST"])
@roles_required("staff")
@blp.response(200, PersonSchema)
def remove(resident_id):
    """Unbind a resident from their household."""
    return remove_resident(_resident(current_user(), resident_id))


@blp.route("/compounds/<int:compound_id>/guard-invites", methods=["POST"])
@roles_required("staff")
@blp.response(201, InviteSchema)
def add_guard_invite(compound_id):
    """A single-use code that makes a WeChat user a guard posted at this compound."""
    user = current_user()
    return invite_guard(user, get_compound(user, compound_id))


@blp.route("/guards", methods=["GET"])
@roles_required("staff")
@blp.arguments(PageArgs, location="query")
@paged(blp, PersonSchema)
def list_guards(args):
    """The guards of my company."""
    user = current_user()
    query = select(User).where(User.role == "guard", User.company_id == user.company_id).order_by(User.id)
    return paginate(query, args)


@blp.route("/guards/<int:guard_id>", methods=["PATCH"])
@roles_required("staff")
@blp.arguments(GuardUpdateSchema)
@blp.response(200, PersonSchema)
def edit_guard(args, guard_id):
    """Post a guard at another compound of the company, or deactivate them."""
    user = current_user()
    return update_guard(_guard(user, guard_id), args, lambda cid: in_scope(user, cid))
