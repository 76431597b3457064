"""Gates of a compound: staff manage them; guards on duty read them."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.models.compounds import Gate
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.gates import GateSchema, GateUpdateSchema
from server.scope import get_compound, get_in_compound_scope
from server.services.gate.gates import create_gate, regenerate_code, update_gate

blp = Blueprint("gates", __name__, url_prefix="", description="Gates (main or side, open or closed)")


@blp.route("/compounds/<int:compound_id>/gates", methods=["GET"])
@roles_required("alliance_admin", "staff", "guard")
@blp.arguments(PageArgs, location="query")
@paged(blp, GateSchema)
def list_gates(args, compound_id):
    """The gates of a compound."""
    compound = get_compound(current_user(), compound_id)
    return paginate(select(Gate).where(Gate.compound_id == compound.id).order_by(Gate.id), args)


@blp.route("/compounds/<int:compound_id>/gates", methods=["POST"])
@roles_required("staff")
@blp.arguments(GateSchema)
@blp.response(201, GateSchema)
def add_gate(args, compound_id):
    """Add a gate."""
    return create_gate(get_compound(current_user(), compound_id), args)


@blp.route("/gates/<int:gate_id>", methods=["GET"])
@roles_required("alliance_admin", "staff", "guard")
@blp.response(200, GateSchema)
def get_gate(gate_id):
    """One gate."""
    return get_in_compound_scope(current_user(), Gate, gate_id)


@blp.route("/gates/<int:gate_id>", methods=["PATCH"])
@roles_required("staff")
@blp.arguments(GateUpdateSchema)
@blp.response(200, GateSchema)
def edit_gate(args, gate_id):
    """Open or close a gate, rename it, switch it to a rotating code."""
    return update_gate(get_in_compound_scope(current_user(), Gate, gate_id), args)


@blp.route("/gates/<int:gate_id>/code", methods=["POST"])
@roles_required("staff")
@blp.response(200, GateSchema)
def new_code(gate_id):
    """Issue a new code for the gate: its old posters stop working."""
    return regenerate_code(get_in_compound_scope(current_user(), Gate, gate_id))
