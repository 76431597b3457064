"""People: invite codes, binding residents to households, guards to posts, staff accounts."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import ScalarResult, select, update
from werkzeug.security import generate_password_hash

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.companies import Company
from server.models.compounds import Building, Compound, Household
from server.models.people import Invite, User
from server.plumbing.clock import utcnow
from server.services.organisation.compounds import household_label

# Called as hook(guard, before) after a guard was edited, ``before`` holding the old values of the
# edited fields; create_app wires the roster here (freeing a deactivated or moved guard's shifts).
GUARD_CHANGED_HOOKS: list = []

INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
INVITE_DAYS = 14


def _new_invite_code() -> str:
    return "".join(secrets.choice(INVITE_ALPHABET) for _ in range(8))


def places_of(user: User) -> dict:
    """Where the user belongs, in words: the compound's name and the household's label ("1号楼1单元101")."""
    if user.household_id is not None:
        row = db.session.execute(
            select(Compound.name, Building.name, Household.unit, Household.room)
            .join(Household, Household.compound_id == Compound.id).join(Building, Building.id == Household.building_id)
            .where(Household.id == user.household_id)).one_or_none()
        if row is not None:
            compound, building, unit, room = row
            label = household_label(Household(unit=unit, room=room), building)
            return {"compound_name": compound, "household_label": label}
    if user.compound_id is not None:
        return {"compound_name": db.session.scalar(select(Compound.name).where(Compound.id == user.compound_id)),
                "household_label": None}
    return {"compound_name": None, "household_label": None}


def invite_to_household(staff: User, household: Household) -> Invite:
    """A single-use code a resident enters to bind to this household (valid 14 days)."""
    invite = Invite(code=_new_invite_code(), kind="household", household_id=household.id,
                    compound_id=household.compound_id, created_by_id=staff.id,
                    expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    db.session.add(invite)
    db.session.flush()
    return invite


# The most households one print may cover (a large compound; 黄平路8号院 has 276).
MAX_SLIPS = 3000

register({
    "too_many_households": (f"一次最多打印{MAX_SLIPS}户,请按楼打印",
                            f"At most {MAX_SLIPS} households per print; print building by building"),
    "no_households": ("没有可打印的住户", "No households to print slips for"),
})


def invite_slips(staff: User, compound: Compound, building_id: int | None = None) -> list[dict]:
    """One invite per household of the compound (or of one of its buildings), for printing slips.

    A household's unused, unexpired invite is printed again rather than replaced (an earlier print
    stays valid); the others get a new one. Answers {"household_id", "label", "code", "expires_at"}
    in building, unit and room order. A building of another compound is 404.
    """
    query = (select(Household, Building.name).join(Building, Building.id == Household.building_id)
             .where(Household.compound_id == compound.id))
    if building_id is not None:
        if db.session.scalar(select(Building.compound_id).where(Building.id == building_id)) != compound.id:
            raise NotFoundError("not_found")
        query = query.where(Household.building_id == building_id)
    rows = db.session.execute(query.order_by(Building.name, Household.unit, Household.room, Household.id)
                              .limit(MAX_SLIPS + 1)).all()
    if len(rows) > MAX_SLIPS:
        raise UnprocessableError("too_many_households")
    now = utcnow()
    valid = {}
    for invite in db.session.scalars(select(Invite).where(
            Invite.kind == "household", Invite.compound_id == compound.id, Invite.used_at.is_(None),
            Invite.expires_at > now).order_by(Invite.expires_at)):
        valid[invite.household_id] = invite  # the one lasting longest wins
    fresh = []
    for household, _building in rows:
        if household.id not in valid:
            invite = Invite(code=_new_invite_code(), kind="household", household_id=household.id,
                            compound_id=compound.id, created_by_id=staff.id, created_at=now,
                            expires_at=now + timedelta(days=INVITE_DAYS))
            valid[household.id] = invite
            fresh.append(invite)
    db.session.add_all(fresh)
    db.session.flush()
    return [{"household_id": household.id, "label": household_label(household, building),
             "code": valid[household.id].code, "expires_at": valid[household.id].expires_at}
            for household, building in rows]


def invite_url(code: str) -> str:
    """The URL an invite slip's QR holds: PUBLIC_BASE_URL/i/<code> (the mini-program reads the code)."""
    return f"{current_app.config['PUBLIC_BASE_URL']}/i/{code}"


def household_members_query(household: Household) -> ScalarResult[User]:
    """The people bound (or waiting to be) to a household, oldest account first."""
    return db.session.scalars(select(User).where(User.household_id == household.id,
                                                 User.residency.in_(("pending", "approved"))).order_by(User.id))


def invite_guard(staff: User, compound: Compound, employer_id: int | None = None) -> Invite:
    """A single-use code that makes the WeChat user who enters it a guard posted at the compound.

    The guard is employed by the staff member's company; the alliance admin, who has none, names
    the employer (a company of the alliance, e.g. the security company that provides the guard).
    """
    if staff.company_id is not None and employer_id not in (None, staff.company_id):
        raise UnprocessableError("validation_failed", errors={"json": {"company_id": ["must be your own company"]}})
    employer_id = staff.company_id or employer_id
    employer = db.session.get(Company, employer_id) if employer_id is not None else None
    if employer is None or employer.alliance_id != compound.alliance_id:
        raise UnprocessableError("validation_failed",
                                 errors={"json": {"company_id": ["the guard's employer, a company of the alliance"]}})
    invite = Invite(code=_new_invite_code(), kind="guard", company_id=employer_id,
                    compound_id=compound.id, created_by_id=staff.id,
                    expires_at=utcnow() + timedelta(days=INVITE_DAYS))
    db.session.add(invite)
    db.session.flush()
    return invite


def redeem_invite(user: User, code: str) -> User:
    """Use an invite: a resident's binding waits for staff approval; a guard's is immediate."""
    invite = db.session.scalar(select(Invite).where(Invite.code == code.strip().upper()))
    now = utcnow()
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise UnprocessableError("invite_invalid", errors={"json": {"code": ["invalid or expired"]}})
    if user.role not in ("resident", "guard"):
        raise ConflictError("already_bound")
    if invite.kind == "household" and user.role == "resident" and user.residency in ("pending", "approved"):
        raise ConflictError("already_bound")
    if invite.kind == "guard" and user.role == "guard":
        raise ConflictError("already_bound")
    # Conditional update: two people entering the same code at once, only one gets it.
    taken = db.session.execute(update(Invite).where(Invite.id == invite.id, Invite.used_at.is_(None))
                               .values(used_at=now, used_by_id=user.id)).rowcount
    if taken != 1:
        raise UnprocessableError("invite_invalid", errors={"json": {"code": ["invalid or expired"]}})
    if invite.kind == "household":
        user.household_id = invite.household_id
        user.residency = "pending"
    else:
        user.role = "guard"
        user.company_id = invite.company_id
        user.compound_id = invite.compound_id
        user.household_id = None
        user.residency = None
    db.session.flush()
    return user


def approve_resident(resident: User) -> User:
    """Staff confirm a resident's binding to their household."""
    if resident.residency != "pending":
        raise ConflictError("conflict", errors={"residency": [resident.residency or "none"]})
    resident.residency = "approved"
    db.session.flush()
    return resident


def remove_resident(resident: User) -> User:
    """Staff unbind a resident from their household (moved out, wrong binding)."""
    if resident.residency not in ("pending", "approved"):
        raise ConflictError("conflict", errors={"residency": [resident.residency or "none"]})
    resident.residency = "removed"
    resident.household_id = None
    db.session.flush()
    return resident


def create_staff(admin_or_staff: User, company_id: int, data: dict) -> User:
    """A staff account with a username and a strong password hash."""
    return create_password_user("staff", admin_or_staff.alliance_id, data, company_id=company_id)


def create_password_user(role: str, alliance_id: int, data: dict, company_id: int | None = None) -> User:
    """A staff or alliance-admin account signing in by password."""
    if db.session.scalar(select(User.id).where(User.username == data["username"])):
        raise ConflictError("duplicate", errors={"json": {"username": ["already taken"]}})
    user = User(role=role, alliance_id=alliance_id, company_id=company_id, username=data["username"],
                password_hash=generate_password_hash(data["password"]),
                display_name=data.get("display_name", ""), phone=data.get("phone"))
    db.session.add(user)
    db.session.flush()
    return user


def update_guard(guard: User, data: dict, scope_compound_ok) -> User:
    """Move a guard to another post of the company, or deactivate them."""
    if "compound_id" in data and not scope_compound_ok(data["compound_id"]):
        raise UnprocessableError("validation_failed", errors={"json": {"compound_id": ["no such compound"]}})
    before = {key: getattr(guard, key) for key in data}
    for key, value in data.items():
        setattr(guard, key, value)
    db.session.flush()
    if any(before[key] != getattr(guard, key) for key in ("is_active", "compound_id") if key in before):
        for hook in GUARD_CHANGED_HOOKS:
            hook(guard, before)
    return guard
