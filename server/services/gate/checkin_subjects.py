"""Who is at the gate: the look-ups a check-in decides on, each in as few queries as possible.

The guard scan reads the gate, its compound, the pass holder, their household, an active
quarantine order and their consent in force in one statement, built once; the self scan the same,
with the gate found by the printed code the resident scanned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import Select, and_, bindparam, exists, func, or_, select

from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.messages import register
from server.models.checkins import Visitor
from server.models.compounds import Building, Compound, Gate, Household
from server.models.consent import Consent
from server.models.health import QuarantineOrder
from server.models.people import User, UserRow
from server.models.rosters import ShiftAssignment
from server.models.trips import Trip
from server.plumbing.clock import local_today, utcnow
from server.plumbing.hot_read import HotRead
from server.scope import guard_acts_at_gate
from server.services.gate import visitors
from server.services.gate.gates import code_freshness, printed_code_in

register({"shift_not_started": ("您在此门的班次尚未开始", "Your shift at this gate has not started yet")})


def out_of_scope(guard: User | UserRow, gate_id: int, at: datetime | None) -> ConflictError | NotFoundError:
    """Why a guard may not act at an existing gate: a lent shift there that has not started yet is
    409 shift_not_started with its start time; anything else is 404 (looked up only on refusal)."""
    moment = at or utcnow()
    starts_at = db.session.scalar(select(ShiftAssignment.starts_at).where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.gate_id == gate_id,
        ShiftAssignment.starts_at > moment).order_by(ShiftAssignment.starts_at).limit(1))
    if starts_at is None:
        return NotFoundError("not_found")
    return ConflictError("shift_not_started", starts_at=starts_at.isoformat())


@dataclass
class Subject:
    """Who is at the gate, as far as the check-in needs to know."""

    kind: str = "unknown"  # resident, visitor, household, unknown
    user_id: int | None = None
    household_id: int | None = None
    visitor: Visitor | None = None
    name: str = ""
    household_label: str | None = None
    registered: bool = False
    visitor_expected: bool = True
    quarantined: bool = False
    returned_from: str | None = None
    consented: bool = False  # a resident's consent to health processing is in force
    pass_seen_before: bool = False  # another check-in saw this very pass code first
    first_seen_at_gate: int | None = None  # where, when that gate is of this compound


class InsertedCheckIn(SimpleNamespace):
    """A check-in row as this request inserted it, read like a `CheckIn` (same attribute names).

    Not an ORM instance: constructing one costs as much as the insert's own SQL, and the guard scan
    only reads it back for its side effects and its answer.
    """


def household_label(building: str | None, unit: str | None, room: str | None) -> str | None:
    """"1号楼1单元101": how a guard names a household."""
    if building is None:
        return None
    return f"{building}{unit}单元{room}" if unit else f"{building}{room}"


# Statements of the hot path are built once: constructing SQL expressions costs more than running them.
_GATE_WITH_COMPOUND = select(Gate.id, Gate.compound_id, Gate.name, Gate.is_open, Compound.name.label("compound_name"),
                             Compound.timezone, Compound.health_emergency) \
    .join(Compound, Compound.id == Gate.compound_id).where(Gate.id == bindparam("gate_id"))


@dataclass(frozen=True)
class GateInfo:
    """What a check-in needs of its gate (read as plain columns on the hot path)."""

    id: int
    compound_id: int
    name: str
    is_open: bool


@dataclass(frozen=True)
class CompoundInfo:
    """What a check-in needs of the gate's compound."""

    id: int
    name: str
    timezone: str
    health_emergency: bool


AnyGate = GateInfo | Gate
AnyCompound = CompoundInfo | Compound


def guard_gate(guard: User | UserRow, gate_id: int, at: datetime | None = None) -> tuple[GateInfo, CompoundInfo]:
    """The gate and its compound, if the guard may act there at `at`, by default now (else 404)."""
    row = db.session.connection().execute(_GATE_WITH_COMPOUND, {"gate_id": gate_id}).one_or_none()
    # The home post needs no look-up; elsewhere only the gate of a lent shift in progress at `at`.
    if row is None:
        raise NotFoundError("not_found")
    if not guard_acts_at_gate(guard, row.id, row.compound_id, at):
        raise out_of_scope(guard, row.id, at)
    return (GateInfo(row.id, row.compound_id, row.name, row.is_open),
            CompoundInfo(row.compound_id, row.compound_name, row.timezone, row.health_emergency))


def quarantine_exists(user_column, household_column, at: datetime):
    """SQL: an order confines the person (or their whole household) at `at`."""
    return exists().where(
        or_(QuarantineOrder.user_id == user_column,
            and_(QuarantineOrder.household_id == household_column, QuarantineOrder.user_id.is_(None))),
        QuarantineOrder.starts_at <= at, QuarantineOrder.ends_at > at, QuarantineOrder.lifted_at.is_(None))


def consent_exists(user_column):
    """SQL: the person's consent to health (and movement) processing is in force."""
    return exists().where(Consent.user_id == user_column, Consent.purpose == "health",
                          Consent.withdrawn_at.is_(None))


def returned_from(user_column, at):
    """SQL: where the person came back from, if a declared trip's attention period covers `at` (else the
    person's own `returned_from` flag)."""
    trip = (select(Trip.from_city).where(Trip.user_id == user_column, Trip.attention_until > at,
                                         Trip.returned_at <= at)
            .order_by(Trip.returned_at.desc()).limit(1).scalar_subquery())
    return func.coalesce(trip, User.returned_from).label("returned_from")


_SUBJECT = (
    select(User.role, User.display_name, User.household_id, User.residency, User.is_active,
           returned_from(User.id, bindparam("at")),
           Household.compound_id, Building.name, Household.unit, Household.room,
           quarantine_exists(User.id, User.household_id, bindparam("at")).label("quarantined"),
           consent_exists(User.id).label("consented"))
    .outerjoin(Household, Household.id == User.household_id)
    .outerjoin(Building, Building.id == Household.building_id).where(User.id == bindparam("user_id")))


def resident_subject(user_id: int, gate: AnyGate, at: datetime) -> Subject:
    """A resident with household, quarantine and consent, in one query."""
    row = db.session.connection().execute(_SUBJECT, {"user_id": user_id, "at": at}).one_or_none()
    if row is None:
        return Subject(kind="unknown")
    return _subject_of(row, user_id, gate.compound_id, row.compound_id, row.name)


def _subject_of(row, user_id: int, gate_compound_id: int, home_compound_id: int | None, building: str | None):
    if home_compound_id != gate_compound_id:
        # Another compound's resident: refused as not registered here. The guard sees the masked name
        # to tell whose pass it is; this compound's records keep nothing of them.
        return Subject(kind="resident", name=row.display_name)
    registered = (row.role == "resident" and row.is_active and row.residency == "approved"
                  and home_compound_id == gate_compound_id)
    return Subject(kind="resident", user_id=user_id, household_id=row.household_id if registered else None,
                   name=row.display_name, household_label=household_label(building, row.unit, row.room)
                   if registered else None, registered=registered, quarantined=bool(row.quarantined),
                   returned_from=row.returned_from or None, consented=bool(row.consented))


def _gate_and_person(gate_named) -> Select:
    """The gate named so, with its compound, and a person (`user_id`) with household, quarantine and
    consent (no such person: the user columns are NULL), in one statement."""
    return (
        select(Gate.id, Gate.compound_id, Gate.name.label("gate_name"), Gate.is_open, Gate.code, Gate.rotating_code,
               Compound.name.label("compound_name"), Compound.timezone, Compound.health_emergency,
               User.id.label("user_id"), User.role, User.display_name, User.household_id, User.residency,
               User.is_active, returned_from(User.id, bindparam("at")), Household.compound_id.label("home_compound_id"),
               Building.name.label("building_name"), Household.unit, Household.room,
               quarantine_exists(User.id, User.household_id, bindparam("at")).label("quarantined"),
               consent_exists(User.id).label("consented"))
        .select_from(Gate).join(Compound, Compound.id == Gate.compound_id)
        .outerjoin(User, User.id == bindparam("user_id"))
        .outerjoin(Household, Household.id == User.household_id)
        .outerjoin(Building, Building.id == Household.building_id)
        .where(gate_named))


# The guard scan's one query: the gate with its compound, and the pass holder. Whether another scan saw
# this pass is settled by the insert itself (`checkin_rows._insert`). The self scan's: the gate its
# printed code names, and the resident scanning. Run as `HotRead`s, outside the request's transaction:
# on PostgreSQL that spares the scan a BEGIN, and its common write is then one statement.
_GATE_AND_HOLDER = HotRead(_gate_and_person(Gate.id == bindparam("gate_id")), "GateAndHolder")
_GATE_BY_CODE_AND_RESIDENT = HotRead(_gate_and_person(Gate.code == bindparam("code")), "GateByCodeAndResident")


def _infos(row) -> tuple[GateInfo, CompoundInfo, Subject]:
    gate = GateInfo(row.id, row.compound_id, row.gate_name, row.is_open)
    compound = CompoundInfo(row.compound_id, row.compound_name, row.timezone, row.health_emergency)
    if row.user_id is None:
        return gate, compound, Subject(kind="unknown")
    return gate, compound, _subject_of(row, row.user_id, row.compound_id, row.home_compound_id, row.building_name)


def gate_code_and_resident(code: str, user_id: int,
                           at: datetime) -> tuple[GateInfo, CompoundInfo, Subject, bool] | None:
    """The self-scan look-up in one query: the gate a scanned code names, its compound and the resident,
    with whether the code is acceptable at `at` (`gates.code_freshness`); None when it names no gate."""
    printed = printed_code_in(code)
    row = None if printed is None else _GATE_BY_CODE_AND_RESIDENT.one_or_none(
        db.engine, {"code": printed, "user_id": user_id, "at": at})
    fresh = None if row is None else code_freshness(code, row.code, row.rotating_code, at)
    return None if fresh is None else (*_infos(row), fresh)


def gate_and_holder(guard: User | UserRow, gate_id: int, user_id: int,
                    at: datetime) -> tuple[GateInfo, CompoundInfo, Subject]:
    """The guard-scan look-up in one query: gate, compound and the pass holder (404 when out of scope)."""
    row = _GATE_AND_HOLDER.one_or_none(db.engine, {"gate_id": gate_id, "user_id": user_id, "at": at})
    if row is None:
        raise NotFoundError("not_found")
    if not guard_acts_at_gate(guard, row.id, row.compound_id, at):
        raise out_of_scope(guard, row.id, at)
    return _infos(row)


def visitor_subject(code: str, gate: AnyGate, compound: AnyCompound, direction: str, at: datetime) -> Subject | None:
    """The visitor a visitor pass names, and whether they are expected here today (None: unknown pass)."""
    visitor = visitors.find_by_pass(code)
    if visitor is None:
        return None
    if visitor.compound_id != gate.compound_id:
        # Another compound's visitor: not expected here, and nothing of theirs is kept in this compound's records.
        return Subject(kind="visitor", name=visitor.name, registered=True, visitor_expected=False)
    day = local_today(compound.timezone, at)
    return Subject(kind="visitor", visitor=visitor, household_id=visitor.household_id, name=visitor.name,
                   registered=True, visitor_expected=visitors.expected_at(visitor, gate.compound_id, direction, day),
                   returned_from=(visitor.from_city or "外地") if visitor.returnee else None)
