"""Returnees who live here (外地返回人员): a resident declares a trip, or staff record one for them.

From the day of return until ``ATTENTION_DAYS`` later the gate lets the resident through flagged
(returnee_attention) and alerts staff; staff may turn a trip into a home-quarantine order in one step.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.compounds import Compound, Household
from server.models.health import QuarantineOrder
from server.models.people import User
from server.models.trips import Trip
from server.plumbing.clock import local_day_bounds, local_today, utcnow
from server.scope import compound_condition, get_in_compound_scope
from server.services.health.quarantine import place_quarantine

ATTENTION_DAYS = 14
# A trip may be declared ahead of the return, but not further than this.
MAX_DAYS_AHEAD = 30
TRIP_STATUSES = ("upcoming", "attention", "over")

register({
    "trip_return_out_of_range": (f"返回日期不能晚于{MAX_DAYS_AHEAD}天后", f"The return may be at most {MAX_DAYS_AHEAD} days ahead"),
    "trip_already_quarantined": ("此行程已转为居家隔离", "This trip was already turned into a quarantine order"),
})


def trip_status(trip: Trip, at: datetime | None = None) -> str:
    """upcoming (not back yet), attention (the gate flags them) or over."""
    at = at or utcnow()
    if trip.returned_at > at:
        return "upcoming"
    return "attention" if trip.attention_until > at else "over"


def declare_trip(resident: User, data: dict) -> Trip:
    """A resident declares their own return (where from, which day); needs an approved household."""
    if resident.approved_household_id is None:
        raise ConflictError("not_registered")
    household = db.session.get(Household, resident.approved_household_id)
    return _add_trip(resident, resident, household, data, source="self")


def record_trip(staff: User, resident_id: int, data: dict) -> Trip:
    """Staff record a trip for a resident of a compound in their scope (else 404)."""
    row = db.session.execute(
        select(User, Household).join(Household, Household.id == User.household_id)
        .where(User.id == resident_id, User.role == "resident", User.residency == "approved",
               compound_condition(staff, Household.compound_id))).one_or_none()
    if row is None:
        raise NotFoundError("not_found")
    resident, household = row
    return _add_trip(staff, resident, household, data, source="staff")


def _add_trip(author: User, resident: User, household: Household, data: dict, *, source: str) -> Trip:
    compound = db.session.get(Compound, household.compound_id)
    returned_on: date = data["returned_on"]
    if returned_on > local_today(compound.timezone) + timedelta(days=MAX_DAYS_AHEAD):
        raise UnprocessableError("trip_return_out_of_range",
                                 errors={"json": {"returned_on": [f"at most {MAX_DAYS_AHEAD} days ahead"]}})
    returned_at, _ = local_day_bounds(compound.timezone, returned_on)
    from_city = data["from_city"].strip()
    existing = _same_trip(resident.id, returned_at, from_city)
    if existing is not None:
        return existing
    trip = Trip(compound_id=compound.id, user_id=resident.id, household_id=household.id, from_city=from_city,
                returned_at=returned_at, attention_until=returned_at + timedelta(days=ATTENTION_DAYS),
                note=data.get("note", ""), source=source, recorded_by_id=author.id, created_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(trip)
    except IntegrityError:
        # The same declaration sent twice at once: the first one stored stands.
        existing = _same_trip(resident.id, returned_at, from_city)
        if existing is None:
            raise
        return existing
    return trip


def _same_trip(user_id: int, returned_at: datetime, from_city: str) -> Trip | None:
    return db.session.scalar(select(Trip).where(Trip.user_id == user_id, Trip.returned_at == returned_at,
                                                Trip.from_city == from_city))


def my_trips(resident: User) -> Select:
    """The resident's own trips, latest return first."""
    return select(Trip).where(Trip.user_id == resident.id).order_by(Trip.returned_at.desc(), Trip.id.desc())


def compound_trips(compound: Compound, status: str | None = None) -> Select:
    """A compound's trips, latest return first; ``status`` keeps upcoming, attention or over ones."""
    now = utcnow()
    query = select(Trip).where(Trip.compound_id == compound.id)
    if status == "upcoming":
        query = query.where(Trip.returned_at > now)
    elif status == "attention":
        query = query.where(Trip.returned_at <= now, Trip.attention_until > now)
    elif status == "over":
        query = query.where(Trip.attention_until <= now)
    return query.order_by(Trip.returned_at.desc(), Trip.id.desc())


def get_trip(staff: User, trip_id: int) -> Trip:
    """A trip of a compound in the caller's scope, or 404."""
    return get_in_compound_scope(staff, Trip, trip_id)


def quarantine_from_trip(staff: User, trip: Trip, data: dict) -> QuarantineOrder:
    """Turn a trip into a home-quarantine order of the resident, in one step.

    The order starts at the return and ends with the trip's attention
    period unless ``days`` or ``ends_at`` say otherwise; the rules are those of ``place_quarantine``.
    """
    if trip.quarantine_order_id is not None:
        raise ConflictError("trip_already_quarantined", order_id=trip.quarantine_order_id)
    ends_at = data.get("ends_at") or (None if data.get("days") else trip.attention_until)
    order = place_quarantine(staff, db.session.get(Compound, trip.compound_id), user_id=trip.user_id,
                             reason="returned_from_city", from_city=trip.from_city, note=data.get("note", ""),
                             starts_at=trip.returned_at, ends_at=ends_at, days=data.get("days"))
    trip.quarantine_order_id = order.id
    db.session.flush()
    return order
