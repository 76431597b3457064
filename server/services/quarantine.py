"""Home-quarantine orders: the question every other capability asks (is this person confined now?)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from server.extensions import db
from server.models.health import QuarantineOrder
from server.services.clock import utcnow


def active_order(user_id: int | None, household_id: int | None, at: datetime | None = None) -> QuarantineOrder | None:
    """The order confining a person (by themselves or their household) at a moment, if any."""
    at = at or utcnow()
    subjects = []
    if user_id is not None:
        subjects.append(QuarantineOrder.user_id == user_id)
    if household_id is not None:
        subjects.append((QuarantineOrder.household_id == household_id) & QuarantineOrder.user_id.is_(None))
    if not subjects:
        return None
    return db.session.scalar(
        select(QuarantineOrder)
        .where(or_(*subjects), QuarantineOrder.starts_at <= at, QuarantineOrder.ends_at > at,
               QuarantineOrder.lifted_at.is_(None))
        .order_by(QuarantineOrder.ends_at.desc())
        .limit(1))


def household_under_quarantine(household_id: int, at: datetime | None = None) -> QuarantineOrder | None:
    """An active order on the household or on any one of its members."""
    from server.models.people import User

    at = at or utcnow()
    member_ids = select(User.id).where(User.household_id == household_id)
    return db.session.scalar(
        select(QuarantineOrder)
        .where(or_(QuarantineOrder.household_id == household_id, QuarantineOrder.user_id.in_(member_ids)),
               QuarantineOrder.starts_at <= at, QuarantineOrder.ends_at > at, QuarantineOrder.lifted_at.is_(None))
        .order_by(QuarantineOrder.ends_at.desc())
        .limit(1))
