"""The caller: profile, role and scope; binding to a household or a guard post."""

from sqlalchemy import select

from server.auth import current_user, roles_required
from server.extensions import db
from server.models.compounds import Compound
from server.models.people import ROLES
from server.rate_limits import rate_limited
from server.request_parser import Blueprint
from server.schemas.people import InviteRedeemSchema, MeSchema, MeUpdateSchema
from server.scope import compound_condition
from server.services.people.people import places_of, redeem_invite

blp = Blueprint("me", __name__, url_prefix="/me", description="The signed-in user")


def _profile(user):
    compound_ids = db.session.scalars(select(Compound.id).where(compound_condition(user, Compound.id))
                                      .order_by(Compound.id)).all()
    return {**{c.key: getattr(user, c.key) for c in user.__table__.columns}, **places_of(user),
            "wechat_bound": user.openid is not None,
            "scope": {"compound_ids": compound_ids, "company_id": user.company_id,
                      "household_id": user.approved_household_id}}


@blp.route("", methods=["GET"])
@roles_required(*ROLES)
@blp.response(200, MeSchema)
def get_me():
    """My profile, role and scope."""
    return _profile(current_user())


@blp.route("", methods=["PATCH"])
@roles_required(*ROLES)
@blp.arguments(MeUpdateSchema)
@blp.response(200, MeSchema)
def update_me(args):
    """Change my display name, phone, or living-alone flag."""
    user = current_user()
    for key, value in args.items():
        setattr(user, key, value)
    db.session.flush()
    return _profile(user)


@blp.route("/invite", methods=["POST"])
@roles_required("resident", "guard")
@rate_limited("10/hour", key="user")  # codes must not be guessable: a guard invite grants the guard role
@rate_limited("60/hour")  # loosely per address (carrier NAT puts many phones behind one)
@blp.arguments(InviteRedeemSchema)
@blp.response(200, MeSchema)
def use_invite(args):
    """Enter an invite code from staff: bind to a household (pending approval) or become a guard."""
    return _profile(redeem_invite(current_user(), args["code"]))
