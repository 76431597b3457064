"""What a check-in row is kept on (PIPL art. 13) and what a temperature taken at the gate means.

Lawful basis of each row: a declared public-health emergency; else consent (the resident's consent in
force, or a visitor's or a person's recorded by name, given in person); else `necessary_for_entry`:
the passage is still recorded, but a temperature taken is only used for the decision at the gate and
never kept (flag `temperature_not_recorded`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, or_, select

from server.errors import ConflictError
from server.extensions import db
from server.models.checkins import CheckIn
from server.models.people import User, UserRow
from server.services.gate.checkin_subjects import AnyCompound, AnyGate, Subject
from server.services.health.temperatures import FEVER_CELSIUS, REMEASURE_WINDOW, record_reading
from server.services.people.consent import CONSENT, EMERGENCY

# No consent and no emergency: the record of passing a gated compound is necessary for the property service.
NECESSARY_FOR_ENTRY = "necessary_for_entry"


def lawful_basis(compound: AnyCompound, subject: Subject) -> str:
    """What the row is kept on (as `consent.lawful_basis_for`, with the consent read in the subject's query)."""
    if compound.health_emergency:
        return EMERGENCY
    if subject.user_id is not None:
        return CONSENT if subject.consented else NECESSARY_FOR_ENTRY
    if subject.visitor is not None or subject.kind == "household":
        # A visitor, or a person recorded by name, consents in person to the guard who records them.
        return CONSENT
    return NECESSARY_FOR_ENTRY  # nobody identified (an unreadable or foreign pass)


def temperature_outcome(author: User | UserRow, compound: AnyCompound, gate: AnyGate, subject: Subject, data: dict,
                        at: datetime, basis: str) -> tuple[str | None, str]:
    """normal, remeasure or fever, and the basis the row is kept on; the reading goes to the health records
    when there is a lawful basis for it."""
    celsius = data.get("temperature")
    if celsius is None:
        return None, basis
    if basis == NECESSARY_FOR_ENTRY or (subject.user_id is None and subject.visitor is None):
        return _outcome_from_checkins(subject, Decimal(celsius), at), basis
    try:
        # No client id: the check-in's own (author, client id) key makes the whole write idempotent,
        # and a retry rolls the reading back with it.
        _reading, outcome = record_reading(
            author, compound_id=compound.id, subject_user_id=subject.user_id, household_id=subject.household_id,
            visitor_id=subject.visitor.id if subject.visitor else None, gate_id=gate.id, celsius=celsius,
            source="gate", client_id=None, device_time=data.get("device_time"), measured_at=at)
    except ConflictError as exc:
        if exc.reason != "consent_required":
            raise
        # Consent withdrawn meanwhile: the gate still decides, from the check-ins alone.
        return _outcome_from_checkins(subject, Decimal(celsius), at), NECESSARY_FOR_ENTRY
    return outcome, basis


def _outcome_from_checkins(subject: Subject, celsius: Decimal, at: datetime) -> str:
    """The second high reading of the same person within the window is a fever (from check-in rows: a kept
    high temperature, or a remeasure or fever decision where no temperature could be kept)."""
    if celsius < FEVER_CELSIUS:
        return "normal"
    if subject.user_id is not None:
        same = CheckIn.subject_user_id == subject.user_id
    elif subject.visitor is not None:
        same = CheckIn.visitor_id == subject.visitor.id
    else:
        same = and_(CheckIn.household_id == subject.household_id, CheckIn.person_name == subject.name)
    earlier = db.session.scalar(select(CheckIn.id).where(
        same, or_(CheckIn.temperature >= FEVER_CELSIUS, CheckIn.reason.in_(("fever_remeasure", "fever"))),
        CheckIn.occurred_at >= at - REMEASURE_WINDOW, CheckIn.occurred_at <= at).limit(1))
    return "fever" if earlier is not None else "remeasure"
