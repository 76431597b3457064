"""The caller's scope, in one place: which compounds, companies and alliance a request may touch.

A resident sees only their household's compound; a guard acts at their home post always, plus any
compound where a shift they were lent for is in progress; staff see their company's compounds and
the company-less compounds entrusted to their company (托管) while the caretaking is active; the
alliance admin every compound of the alliance. The scope comes from the token's user, never from ids
in the request; out of scope answers 404.

The alliance admin holds the staff role's functions at the company-less compounds nobody else runs
(`admin_run_compounds`): a staff-only route admits the admin (`admit_as_staff`, by `roles_required`),
and there the admin's scope narrows to those compounds and they are treated as staff (`acting_role`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from flask import g, has_app_context
from sqlalchemy import ColumnElement, Select, exists, false, or_, select, true

from server.errors import ForbiddenError, NotFoundError
from server.extensions import db
from server.messages import register
from server.models.alliance import Alliance
from server.models.caretaking import Caretaking, caretaking_active
from server.models.companies import Company
from server.models.compounds import Compound, Household
from server.models.people import User
from server.plumbing.clock import utcnow

register({
    "membership_not_active": ("贵公司目前不是联盟的正式成员", "Your company is not an active member of the alliance"),
})

T = TypeVar("T")

# Where a guard may act besides the home post (the roster's lent shifts). Wired once by create_app,
# never filled as a side effect of an import: what a guard may do must not depend on import order.
GUARD_COMPOUND_PROVIDERS: tuple[Callable[[User], set[int]], ...] = ()
GUARD_GATE_CHECKS: tuple[Callable[[User, int, datetime | None], bool], ...] = ()


def wire_guard_scope(compound_providers: tuple, gate_checks: tuple) -> None:
    """Set the extra compounds (`provider(user) -> ids`) and gate checks (`check(user, gate_id, at)`)
    that widen a guard's scope beyond the home post; called by create_app."""
    global GUARD_COMPOUND_PROVIDERS, GUARD_GATE_CHECKS
    GUARD_COMPOUND_PROVIDERS = tuple(compound_providers)
    GUARD_GATE_CHECKS = tuple(gate_checks)


def guard_acts_at_gate(user: User, gate_id: int, compound_id: int, at: datetime | None = None) -> bool:
    """A guard acts at every gate of the home post; elsewhere only where a gate check allows it at `at`
    (now, or when an offline scan was made: a lent guard uploads the shift's scans after it ended)."""
    if compound_id == user.compound_id:
        return True
    return any(check(user, gate_id, at) for check in GUARD_GATE_CHECKS)


def guard_compound_ids(user: User) -> set[int]:
    """The compounds a guard may act at now: the home post plus any provider's (e.g. lent shifts)."""
    ids = {user.compound_id} if user.compound_id is not None else set()
    for provider in GUARD_COMPOUND_PROVIDERS:
        ids |= provider(user)
    return ids


def resident_compound_id(user: User) -> int | None:
    """The compound of a resident's approved household."""
    if user.approved_household_id is None:
        return None
    return db.session.scalar(select(Household.compound_id).where(Household.id == user.approved_household_id))


# --- acting as staff: the company's, the caretaker's, or the alliance admin's compounds --------------

def admit_as_staff(user_id: int) -> None:
    """Let this request's alliance admin act as staff (on a staff-only route): scope and role follow."""
    g.wuye_acting_as_staff = user_id


def acting_role(user) -> str:
    """The role the user acts in for this request: "staff" for an alliance admin on a staff-only route."""
    if user.role == "alliance_admin" and has_app_context() and g.get("wuye_acting_as_staff") == user.id:
        return "staff"
    return user.role


def admin_run_compounds(alliance_id: int, at: datetime | None = None) -> Select:
    """Ids of the compounds the alliance admin runs directly: no company and no active caretaking."""
    entrusted = exists().where(Caretaking.compound_id == Compound.id, caretaking_active(at or utcnow()))
    return select(Compound.id).where(Compound.alliance_id == alliance_id, Compound.company_id.is_(None), ~entrusted)


def staff_compounds(user, at: datetime | None = None) -> Select:
    """Ids of the compounds where the user holds the staff role's functions at ``at`` (now).

    Staff: their company's, and those entrusted to it then; the alliance admin: those nobody else runs.
    """
    if user.role == "alliance_admin":
        return admin_run_compounds(user.alliance_id, at)
    if user.role != "staff" or user.company_id is None:
        return select(Compound.id).where(false())
    entrusted = select(Caretaking.compound_id).where(Caretaking.company_id == user.company_id,
                                                     caretaking_active(at or utcnow()))
    return select(Compound.id).where(or_(Compound.company_id == user.company_id, Compound.id.in_(entrusted)))


def acts_for(user, compound_id: int, at: datetime | None = None) -> bool:
    """Whether the user holds the staff role's functions at the compound (whatever the route)."""
    return bool(db.session.scalar(select(true()).where(staff_compounds(user, at).where(
        Compound.id == compound_id).exists())))


def compound_condition(user: User, column) -> ColumnElement[bool]:
    """A SQL condition restricting a compound-id column to the caller's scope."""
    role = acting_role(user)
    if role == "alliance_admin":
        return column.in_(select(Compound.id).where(Compound.alliance_id == user.alliance_id))
    if role == "staff":
        return column.in_(staff_compounds(user))
    if user.role == "guard":
        ids = guard_compound_ids(user)
        return column.in_(ids) if ids else false()
    if user.role == "resident":
        compound_id = resident_compound_id(user)
        return column == compound_id if compound_id is not None else false()
    return false()


def in_scope(user: User, compound_id: int) -> bool:
    """Whether the caller's scope covers a compound."""
    return bool(db.session.scalar(select(true()).where(compound_condition(user, Compound.id),
                                                        Compound.id == compound_id)))


def get_compound(user: User, compound_id: int) -> Compound:
    """A compound in the caller's scope, or 404."""
    compound = db.session.scalar(
        select(Compound).where(Compound.id == compound_id, compound_condition(user, Compound.id)))
    if compound is None:
        raise NotFoundError("not_found")
    return compound


def get_in_compound_scope(user: User, model: type[T], object_id: int) -> T:
    """An object with a compound_id column, in the caller's scope, or 404."""
    obj = db.session.scalar(
        select(model).where(model.id == object_id, compound_condition(user, model.compound_id)))
    if obj is None:
        raise NotFoundError("not_found")
    return obj


# --- the people of a compound ------------------------------------------------------------------------

def get_household(user: User, household_id: int) -> Household:
    """A household the caller may see (residents: their own approved one), or 404."""
    if user.role == "resident":
        household = db.session.get(Household, household_id) if user.approved_household_id == household_id else None
        if household is None:
            raise NotFoundError("not_found")
        return household
    return get_in_compound_scope(user, Household, household_id)


def get_resident(user: User, resident_id: int) -> User:
    """A resident bound to a household of a compound in the caller's scope, or 404."""
    resident = db.session.scalar(
        select(User).join(Household, Household.id == User.household_id)
        .where(User.id == resident_id, User.role == "resident", compound_condition(user, Household.compound_id)))
    if resident is None:
        raise NotFoundError("not_found")
    return resident


def guard_condition(user: User) -> ColumnElement[bool]:
    """A condition on `User`: the guards the caller manages as staff.

    Staff: their company's guards; the alliance admin acting as staff: the guards posted at the
    compounds they run (whatever company employs them).
    """
    if acting_role(user) != "staff":
        return false()
    if user.role == "alliance_admin":
        return (User.role == "guard") & User.compound_id.in_(admin_run_compounds(user.alliance_id))
    return (User.role == "guard") & (User.company_id == user.company_id)


def get_guard(user: User, guard_id: int) -> User:
    """A guard the caller manages as staff, or 404."""
    guard = db.session.scalar(select(User).where(User.id == guard_id, guard_condition(user)))
    if guard is None:
        raise NotFoundError("not_found")
    return guard


# --- companies and the alliance ----------------------------------------------------------------------

def company_condition(user: User, column) -> ColumnElement[bool]:
    """A SQL condition restricting a company-id column to the caller's scope (admin: the alliance's
    companies; staff: their own; others: none)."""
    if user.role == "alliance_admin":
        return column.in_(select(Company.id).where(Company.alliance_id == user.alliance_id))
    if user.role == "staff" and user.company_id is not None:
        return column == user.company_id
    return false()


def get_company(user: User, company_id: int) -> Company:
    """A company in the caller's scope, or 404."""
    company = db.session.scalar(select(Company).where(Company.id == company_id, company_condition(user, Company.id)))
    if company is None:
        raise NotFoundError("not_found")
    return company


def alliance_of(user: User) -> Alliance:
    """The caller's alliance, for an alliance-level feature.

    The alliance admin and staff of an active member company; staff of a company that is invited but
    has not joined, or is suspended, get 403 membership_not_active; residents and guards 404.
    """
    if user.role == "staff":
        membership = db.session.scalar(select(Company.membership).where(
            Company.id == user.company_id, Company.alliance_id == user.alliance_id))
        if membership != "active":
            raise ForbiddenError("membership_not_active")
    elif user.role != "alliance_admin":
        raise NotFoundError("not_found")
    alliance = db.session.get(Alliance, user.alliance_id)
    if alliance is None:
        raise NotFoundError("not_found")
    return alliance


def active_member_condition(column) -> ColumnElement[bool]:
    """A SQL condition on a company-id column: the company is an active member of its alliance (for
    alliance-level features and notifications such as mutual aid; suspended companies get none)."""
    return column.in_(select(Company.id).where(Company.membership == "active"))


def get_in_alliance_scope(user: User, model: type[T], object_id: int) -> T:
    """An object with an alliance_id column, of the caller's alliance, or 404."""
    obj = db.session.scalar(select(model).where(model.id == object_id, model.alliance_id == user.alliance_id))
    if obj is None:
        raise NotFoundError("not_found")
    return obj
