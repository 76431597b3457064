"""Lending guards across the alliance: post an uncovered shift, offer a guard, accept an offer."""

from server.auth import current_user, roles_required
from server.plumbing.pagination import PageArgs, paged
from server.request_parser import Blueprint
from server.schemas.roster_lending import (
    LoanArgsSchema,
    LoanOfferCreateSchema,
    LoanOfferSchema,
    LoanPostSchema,
    LoanSchema,
    LoanSummarySchema,
)
from server.schemas.rosters import AssignmentSchema
from server.services.roster import roster_lending as lending
from server.services.roster.rosters import managed_shift

blp = Blueprint("roster_lending", __name__, url_prefix="", description="Lending guards across the alliance (互助)")


def _detail(user, loan):
    return {**lending.loan_row(loan), "offers": lending.name_offers(user, lending.visible_offers(user, loan))}


@blp.route("/shifts/<int:shift_id>/loan", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.arguments(LoanPostSchema)
@blp.response(201, LoanSchema)
def post(args, shift_id):
    """Post an uncovered shift of my compound (admin: of a compound with no company) to the alliance."""
    user = current_user()
    return _detail(user, lending.post_loan(user, managed_shift(user, shift_id), args["note"]))


@blp.route("/loans", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.arguments(LoanArgsSchema, location="query")
@blp.arguments(PageArgs, location="query")
@paged(blp, LoanSummarySchema)
def list_loans(filters, args):
    """The alliance's posted shifts (open ones with ?status=open), soonest first."""
    return lending.loan_page(current_user(), args, filters.get("status"))


@blp.route("/loans/<int:loan_id>", methods=["GET"])
@roles_required("staff", "alliance_admin")
@blp.response(200, LoanSchema)
def get_loan(loan_id):
    """A posted shift with the offers I may see."""
    user = current_user()
    return _detail(user, lending.get_loan(user, loan_id))


@blp.route("/loans/<int:loan_id>/cancel", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(200, LoanSchema)
def cancel_loan(loan_id):
    """Close my post (guards already accepted stay on the shift)."""
    user = current_user()
    return _detail(user, lending.cancel_loan(user, lending.get_loan(user, loan_id)))


@blp.route("/loans/<int:loan_id>/offers", methods=["POST"])
@roles_required("staff")
@blp.arguments(LoanOfferCreateSchema)
@blp.response(201, LoanOfferSchema)
def offer_guard(args, loan_id):
    """Offer one of my company's guards for the shift (the rules are checked now already)."""
    user = current_user()
    return lending.name_offers(user, [lending.offer_guard(user, lending.get_loan(user, loan_id), args["guard_id"])])[0]


@blp.route("/loan-offers/<int:offer_id>/accept", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(201, AssignmentSchema)
def accept_offer(offer_id):
    """Accept an offer: the guard joins the shift, for that shift only."""
    user = current_user()
    return lending.accept_offer(user, *lending.get_offer(user, offer_id))


@blp.route("/loan-offers/<int:offer_id>/decline", methods=["POST"])
@roles_required("staff", "alliance_admin")
@blp.response(200, LoanOfferSchema)
def decline_offer(offer_id):
    """Turn an offer down."""
    user = current_user()
    return lending.decline_offer(user, *lending.get_offer(user, offer_id))


@blp.route("/loan-offers/<int:offer_id>/withdraw", methods=["POST"])
@roles_required("staff")
@blp.response(200, LoanOfferSchema)
def withdraw_offer(offer_id):
    """Take my company's offer back."""
    user = current_user()
    offer, _ = lending.get_offer(user, offer_id)
    return lending.name_offers(user, [lending.withdraw_offer(user, offer)])[0]
