"""Households: staff manage them and issue invite codes; residents read their own."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.errors import NotFoundError
from server.extensions import db
from server.models.compounds import Building, Household
from server.models.people import User
from server.plumbing.pagination import PageArgs, page_of, paginate, total_header
from server.request_parser import Blueprint
from server.schemas.compounds import HouseholdArgsSchema, HouseholdSchema
from server.schemas.people import InviteSchema, PersonSchema
from server.scope import get_compound, get_in_compound_scope
from server.services.organisation.compounds import create_household, household_label
from server.services.people.consent import record_bulk_read
from server.services.people.people import invite_to_household

blp = Blueprint("households", __name__, url_prefix="", description="Households and their invite codes")


def _with_label(household: Household) -> dict:
    building = db.session.get(Building, household.building_id)
    return {**{c.key: getattr(household, c.key) for c in household.__table__.columns},
            "label": household_label(household, building.name)}


def _household_for(user, household_id: int) -> Household:
    if user.role == "resident":
        if user.approved_household_id != household_id:
            raise NotFoundError()
        return db.session.get(Household, household_id)
    return get_in_compound_scope(user, Household, household_id)


@blp.route("/compounds/<int:compound_id>/households", methods=["GET"])
@roles_required("staff", "guard")
@blp.arguments(HouseholdArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@blp.response(200, page_of(HouseholdSchema))
def list_households(filters, args, compound_id):
    """The households of a compound (filter by building)."""
    compound = get_compound(current_user(), compound_id)
    query = select(Household).where(Household.compound_id == compound.id)
    if "building_id" in filters:
        query = query.where(Household.building_id == filters["building_id"])
    body = paginate(query.order_by(Household.building_id, Household.unit, Household.room), args)
    body["items"] = [_with_label(h) for h in body["items"]]
    return body, 200, total_header(body)


@blp.route("/compounds/<int:compound_id>/households", methods=["POST"])
@roles_required("staff")
@blp.arguments(HouseholdSchema)
@blp.response(201, HouseholdSchema)
def add_household(args, compound_id):
    """Add a household to a building."""
    return _with_label(create_household(get_compound(current_user(), compound_id), args))


@blp.route("/households/<int:household_id>", methods=["GET"])
@roles_required("staff", "guard", "resident")
@blp.response(200, HouseholdSchema)
def get_household(household_id):
    """One household (residents: their own)."""
    return _with_label(_household_for(current_user(), household_id))


@blp.route("/households/<int:household_id>/members", methods=["GET"])
@roles_required("staff", "resident")
@blp.response(200, PersonSchema(many=True))
def household_members(household_id):
    """The people bound to a household (a read of personal data: audited)."""
    user = current_user()
    household = _household_for(user, household_id)
    record_bulk_read(user, "household.members.read", compound_id=household.compound_id, purpose=None,
                     object_type="household", object_id=household.id)
    return db.session.scalars(select(User).where(User.household_id == household.id,
                                                 User.residency.in_(("pending", "approved")))
                              .order_by(User.id)).all()


@blp.route("/households/<int:household_id>/invites", methods=["POST"])
@roles_required("staff")
@blp.response(201, InviteSchema)
def issue_invite(household_id):
    """A single-use invite code for a resident of this household."""
    user = current_user()
    return invite_to_household(user, get_in_compound_scope(user, Household, household_id))
