"""Who acts for a compound: its company's staff, the caretaking company's staff, or the alliance admins.

No compound is left without someone who can act for it. A compound's own property company acts for
it; a compound without one is run by the member company it is entrusted to (托管) while that
caretaking is active, and otherwise by the alliance admins directly. Alerts and other messages about
a compound go to these people (`compound_actors`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, select

from server.extensions import db
from server.models.caretaking import Caretaking, caretaking_active
from server.models.compounds import Compound
from server.models.people import User
from server.plumbing.clock import utcnow


def caretaking_company_id(compound_id: int, at: datetime | None = None) -> int | None:
    """The company a compound is entrusted to at ``at`` (now), or None."""
    return db.session.scalar(select(Caretaking.company_id).where(
        Caretaking.compound_id == compound_id, caretaking_active(at or utcnow())).limit(1))


def acting_company_id(compound: Compound, at: datetime | None = None) -> int | None:
    """The company whose staff act for the compound: its own, else its caretaker's; None: the alliance runs it."""
    if compound.company_id is not None:
        return compound.company_id
    return caretaking_company_id(compound.id, at)


def compound_actors(compound: Compound, at: datetime | None = None) -> ColumnElement[bool]:
    """A condition on `User`: the staff of the company acting for the compound, else the alliance admins.

    Active accounts only; how each is reached (WeChat, the inbox) is the sender's business.
    """
    company_id = acting_company_id(compound, at)
    if company_id is not None:
        who = (User.role == "staff") & (User.company_id == company_id)
    else:
        who = (User.role == "alliance_admin") & (User.alliance_id == compound.alliance_id)
    return who & User.is_active.is_(True)
