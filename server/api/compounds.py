"""Compounds and their buildings: the alliance admin creates; staff manage their company's."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.models.compounds import Building, Compound
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.compounds import BuildingSchema, CompoundListArgs, CompoundSchema, CompoundUpdateSchema
from server.scope import compound_condition, get_compound, staff_compounds
from server.services.organisation.compounds import create_building, create_compound, update_compound

blp = Blueprint("compounds", __name__, url_prefix="/compounds", description="Compounds and buildings")


@blp.route("", methods=["GET"])
@roles_required("alliance_admin", "staff", "guard", "resident")
@blp.arguments(CompoundListArgs, location="query")
@paged(blp, CompoundSchema)
def list_compounds(args):
    """The compounds in my scope; with `runs=true` only those I run as staff (the console's picker)."""
    user = current_user()
    query = select(Compound).where(compound_condition(user, Compound.id))
    if args.pop("runs"):
        query = query.where(Compound.id.in_(staff_compounds(user)))
    return paginate(query.order_by(Compound.id), args)


@blp.route("", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(CompoundSchema)
@blp.response(201, CompoundSchema)
def add_compound(args):
    """Add a compound (company_id may be null for a compound with no property company)."""
    return create_compound(current_user(), args)


@blp.route("/<int:compound_id>", methods=["GET"])
@roles_required("alliance_admin", "staff", "guard", "resident")
@blp.response(200, CompoundSchema)
def get_one(compound_id):
    """One compound."""
    return get_compound(current_user(), compound_id)


@blp.route("/<int:compound_id>", methods=["PATCH"])
@roles_required("alliance_admin", "staff")
@blp.arguments(CompoundUpdateSchema)
@blp.response(200, CompoundSchema)
def edit_compound(args, compound_id):
    """Edit a compound: lockdown, declared health emergency, time zone, name."""
    user = current_user()
    return update_compound(user, get_compound(user, compound_id), args)


@blp.route("/<int:compound_id>/buildings", methods=["GET"])
@roles_required("alliance_admin", "staff", "guard")
@blp.arguments(PageArgs, location="query")
@paged(blp, BuildingSchema)
def list_buildings(args, compound_id):
    """The buildings of a compound."""
    compound = get_compound(current_user(), compound_id)
    return paginate(select(Building).where(Building.compound_id == compound.id).order_by(Building.id), args)


@blp.route("/<int:compound_id>/buildings", methods=["POST"])
@roles_required("staff")
@blp.arguments(BuildingSchema)
@blp.response(201, BuildingSchema)
def add_building(args, compound_id):
    """Add a building."""
    return create_building(get_compound(current_user(), compound_id), args["name"])
