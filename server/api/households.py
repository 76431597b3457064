"""Households: staff manage them and issue invite codes; residents read their own."""

from zoneinfo import ZoneInfo

from flask import Response

from server.auth import current_user, roles_required
from server.errors import NotFoundError
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.compounds import HouseholdArgsSchema, HouseholdSchema, InviteSlipsSchema
from server.schemas.people import InviteSchema, PersonSchema
from server.scope import get_compound
from server.scope import get_household as household_in_scope
from server.services.gate.print_sheets import SLIP_DPI, Slip, pdf_of, slip_pages
from server.services.organisation.compounds import (
    create_household,
    household_view,
    household_views,
    households_query,
)
from server.services.people.consent import record_bulk_read
from server.services.people.people import household_members_query, invite_to_household, invite_url
from server.services.people.people import invite_slips as issue_invite_slips

blp = Blueprint("households", __name__, url_prefix="", description="Households and their invite codes")


@blp.route("/compounds/<int:compound_id>/households", methods=["GET"])
@roles_required("staff", "guard")
@blp.arguments(HouseholdArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, HouseholdSchema)
def list_households(filters, args, compound_id):
    """The households of a compound (filter by building)."""
    compound = get_compound(current_user(), compound_id)
    body = paginate(households_query(compound, filters.get("building_id")), args)
    return {**body, "items": household_views(body["items"])}


@blp.route("/compounds/<int:compound_id>/households", methods=["POST"])
@roles_required("staff")
@blp.arguments(HouseholdSchema)
@blp.response(201, HouseholdSchema)
def add_household(args, compound_id):
    """Add a household to a building."""
    return household_view(create_household(get_compound(current_user(), compound_id), args))


@blp.route("/households/<int:household_id>", methods=["GET"])
@roles_required("staff", "guard", "resident")
@blp.response(200, HouseholdSchema)
def get_household(household_id):
    """One household (residents: their own)."""
    return household_view(household_in_scope(current_user(), household_id))


@blp.route("/households/<int:household_id>/members", methods=["GET"])
@roles_required("staff", "resident")
@blp.response(200, PersonSchema(many=True))
def household_members(household_id):
    """The people bound to a household (a read of personal data: audited)."""
    user = current_user()
    household = household_in_scope(user, household_id)
    record_bulk_read(user, "household.members.read", compound_id=household.compound_id, purpose=None,
                     object_type="household", object_id=household.id)
    return household_members_query(household).all()


@blp.route("/households/<int:household_id>/invites", methods=["POST"])
@roles_required("staff")
@blp.response(201, InviteSchema)
def issue_invite(household_id):
    """A single-use invite code for a resident of this household."""
    user = current_user()
    return invite_to_household(user, household_in_scope(user, household_id))


@blp.route("/compounds/<int:compound_id>/invite-slips", methods=["POST"])
@roles_required("staff")
@blp.arguments(InviteSlipsSchema)
@blp.response(200, content_type="application/pdf")
def invite_slips(args, compound_id):
    """Household invite slips for the whole compound (or one building) in one printable PDF, 8 to an A4
    page, each with its code and QR. A household's unused invite is printed again; the others get one."""
    user = current_user()
    compound = get_compound(user, compound_id)
    invites = issue_invite_slips(user, compound, args.get("building_id"))
    if not invites:
        raise NotFoundError("no_households")
    tz = ZoneInfo(compound.timezone)
    slips = [Slip(compound.name, i["label"], i["code"], invite_url(i["code"]),
                  f"有效期至 {i['expires_at'].astimezone(tz).date().isoformat()}") for i in invites]
    response = Response(pdf_of(slip_pages(slips), dpi=SLIP_DPI, title=f"{compound.name} 住户邀请码"),
                        mimetype="application/pdf")
    suffix = f"-building-{args['building_id']}" if args.get("building_id") else ""
    response.headers["Content-Disposition"] = f'inline; filename="invite-slips-{compound.id}{suffix}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response
