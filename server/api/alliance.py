"""The alliance: its summary, membership of companies, and caretaking (托管) of compounds without a company.

Every read is scoped by `server.scope` (another alliance's company, compound or caretaking is 404).
"""

from server.auth import current_user, roles_required
from server.models.compounds import Compound
from server.plumbing.pagination import PageArgs, paged, paginate
from server.request_parser import Blueprint
from server.schemas.alliance import (
    AllianceSummarySchema,
    CaretakingCreateSchema,
    CaretakingEndSchema,
    CaretakingSchema,
    InviteCompanySchema,
    SuspendSchema,
)
from server.schemas.companies import CompanySchema
from server.scope import alliance_of, get_company, get_in_alliance_scope
from server.services.alliance.caretaking import (
    caretaking_history,
    caretaking_view,
    end_caretaking,
    get_caretaking,
    hand_over,
)
from server.services.alliance.membership import (
    accept_membership,
    invite_company,
    reinstate_company,
    suspend_company,
)
from server.services.alliance.summary import alliance_summary

blp = Blueprint("alliance", __name__, url_prefix="/alliance", description="The property alliance")


@blp.route("", methods=["GET"])
@roles_required("alliance_admin", "staff")
@blp.response(200, AllianceSummarySchema)
def summary():
    """The alliance: member companies with their compounds, who runs the compounds without a company,
    and counts of households, staff and guards (aggregates only)."""
    user = current_user()
    return alliance_summary(user, alliance_of(user))


@blp.route("/members", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(InviteCompanySchema)
@blp.response(201, CompanySchema)
def invite(args):
    """Invite a company to join the alliance (it joins when its staff accept)."""
    user = current_user()
    alliance_of(user)
    return invite_company(user, args)


@blp.route("/members/<int:company_id>/suspend", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(SuspendSchema)
@blp.response(200, CompanySchema)
def suspend(args, company_id):
    """Suspend a member company: it loses the alliance's features; compounds entrusted to it return to the admin."""
    user = current_user()
    return suspend_company(user, get_company(user, company_id), args["reason"])


@blp.route("/members/<int:company_id>/reinstate", methods=["POST"])
@roles_required("alliance_admin")
@blp.response(200, CompanySchema)
def reinstate(company_id):
    """Lift a company's suspension."""
    user = current_user()
    return reinstate_company(user, get_company(user, company_id))


@blp.route("/membership/accept", methods=["POST"])
@roles_required("staff")
@blp.response(200, CompanySchema)
def accept():
    """My company accepts the alliance's invitation and becomes a member."""
    return accept_membership(current_user())


@blp.route("/compounds/<int:compound_id>/caretaking", methods=["GET"])
@roles_required("alliance_admin")
@blp.arguments(PageArgs, location="query")
@paged(blp, CaretakingSchema)
def history(args, compound_id):
    """Who took care of a compound, and when (latest first)."""
    compound = get_in_alliance_scope(current_user(), Compound, compound_id)
    return paginate(caretaking_history(compound), args, each=caretaking_view)


@blp.route("/compounds/<int:compound_id>/caretaking", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(CaretakingCreateSchema)
@blp.response(201, CaretakingSchema)
def entrust(args, compound_id):
    """Entrust a compound without a company to a member company for a period (托管)."""
    user = current_user()
    compound = get_in_alliance_scope(user, Compound, compound_id)
    company = get_company(user, args["company_id"])
    return caretaking_view(hand_over(user, compound, company, starts_at=args.get("starts_at"),
                                      ends_at=args.get("ends_at"), note=args["note"]))


@blp.route("/compounds/<int:compound_id>/caretaking/<int:caretaking_id>/end", methods=["POST"])
@roles_required("alliance_admin")
@blp.arguments(CaretakingEndSchema)
@blp.response(200, CaretakingSchema)
def end(args, compound_id, caretaking_id):
    """End a caretaking now: the alliance admin runs the compound again."""
    user = current_user()
    compound = get_in_alliance_scope(user, Compound, compound_id)
    return caretaking_view(end_caretaking(user, get_caretaking(compound, caretaking_id), args["note"]))
