"""Shift swaps: a guard offers, another accepts, staff approve (the rules are checked again then)."""

from server.auth import current_user, roles_required
from server.models.roster_swaps import SwapRequest
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.roster_swaps import SwapArgsSchema, SwapOfferSchema, SwapSchema
from server.services.roster import roster_swaps

blp = Blueprint("roster_swaps", __name__, url_prefix="", description="Shift swaps (换班)")


@blp.route("/shift-assignments/<int:assignment_id>/swap", methods=["POST"])
@roles_required("guard")
@blp.arguments(SwapOfferSchema)
@blp.response(201, SwapSchema)
def offer(args, assignment_id):
    """Offer one of my shifts that has not started."""
    return roster_swaps.offer_swap(current_user(), assignment_id, args["note"])


@blp.route("/swaps", methods=["GET"])
@roles_required("guard", "staff", "alliance_admin")
@blp.arguments(SwapArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, SwapSchema)
def list_swaps(filters, args):
    """Swaps I may see: my own and my company's compounds', newest first."""
    query = roster_swaps.visible_swaps(current_user())
    if filters.get("status"):
        query = query.where(SwapRequest.status == filters["status"])
    return paginate(query, args)


@blp.route("/swaps/<int:swap_id>/accept", methods=["POST"])
@roles_required("guard")
@blp.response(200, SwapSchema)
def accept(swap_id):
    """Take an offered shift, pending staff approval."""
    user = current_user()
    return roster_swaps.accept_swap(user, roster_swaps.get_swap(user, swap_id))


@blp.route("/swaps/<int:swap_id>/approve", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(200, SwapSchema)
def approve(swap_id):
    """Approve a swap: the rules are checked again, then the shift changes hands."""
    user = current_user()
    return roster_swaps.approve_swap(user, roster_swaps.get_swap(user, swap_id))


@blp.route("/swaps/<int:swap_id>/reject", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(200, SwapSchema)
def reject(swap_id):
    """Turn a swap down."""
    user = current_user()
    return roster_swaps.reject_swap(user, roster_swaps.get_swap(user, swap_id))


@blp.route("/swaps/<int:swap_id>/cancel", methods=["POST"])
@roles_required("guard")
@blp.response(200, SwapSchema)
def cancel(swap_id):
    """Take back my offer."""
    user = current_user()
    return roster_swaps.cancel_swap(user, roster_swaps.get_swap(user, swap_id))
