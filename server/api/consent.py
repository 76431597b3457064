"""My consent to the processing of my health and movement data: see it, give it, withdraw it."""

from server.auth import current_user, roles_required
from server.extensions import db
from server.models.compounds import Compound, Household
from server.request_parser import Blueprint
from server.schemas.consent import ConsentGiveSchema, ConsentStateSchema
from server.services.people.consent import (
    consent_history,
    give_consent,
    lawful_basis_for,
    live_consent,
    withdraw_consent,
)

blp = Blueprint("consent", __name__, url_prefix="/me/consent", description="PIPL consent")


def _state(user, deleted: dict | None = None) -> dict:
    compound = None
    household_id = user.approved_household_id if user.role == "resident" else None
    if household_id is not None:
        compound = db.session.get(Compound, db.session.get(Household, household_id).compound_id)
    elif user.compound_id is not None:
        compound = db.session.get(Compound, user.compound_id)
    current = live_consent(user.id)
    return {"consented": current is not None, "current": current, "history": consent_history(user),
            "health_emergency": bool(compound and compound.health_emergency),
            "lawful_basis": lawful_basis_for(compound, user.id) if compound else ("consent" if current else None),
            "deleted": deleted or {}}


@blp.route("", methods=["GET"])
@roles_required("resident", "guard")
@blp.response(200, ConsentStateSchema)
def get_consent():
    """Whether I consent, since when, and whether a declared emergency applies anyway."""
    return _state(current_user())


@blp.route("", methods=["POST"])
@roles_required("resident", "guard")
@blp.arguments(ConsentGiveSchema)
@blp.response(201, ConsentStateSchema)
def give(args):
    """Give my consent (the time is recorded)."""
    user = current_user()
    give_consent(user, text_version=args["text_version"])
    return _state(user)


@blp.route("", methods=["DELETE"])
@roles_required("resident", "guard")
@blp.response(200, ConsentStateSchema)
def withdraw():
    """Withdraw my consent: what was kept on its strength is deleted."""
    user = current_user()
    return _state(user, withdraw_consent(user))
