"""Visitors (访客): pre-registered by a resident with a one-day visitor pass, or walk-ins a guard registers.

A visitor from another city, or who declares one in the 14-day travel declaration, is a returnee:
the gate lets them in flagged (returnee_attention) and staff get a "returnee" alert.
"""

from __future__ import annotations

import base64
import os
import re
from datetime import date, datetime, timedelta

from sqlalchemy import select

from server.errors import ConflictError, NotFoundError, UnprocessableError
from server.extensions import db
from server.messages import register
from server.models.checkins import CheckIn, Visitor
from server.models.compounds import Compound, Household
from server.models.people import User
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import local_today
from server.plumbing.idempotency import IdempotentWrite, fingerprint
from server.scope import compound_condition
from server.services.people.consent import record_bulk_read

VISITOR_PASS_PREFIX = "WYV."
_VISITOR_PASS = re.compile(r"WYV\.[A-Z2-7]{24}")
# How far ahead a resident may announce a visitor (a visitor pass is a one-day pass, not a standing one).
MAX_DAYS_AHEAD = 30

register({
    "visitor_not_cancellable": ("访客已到访或已取消,无法取消", "The visitor already came or was cancelled"),
    "expected_date_past": ("预约日期不能早于今天", "The expected date cannot be in the past"),
    "expected_date_too_far": ("最多只能预约30天内的访客", "A visitor can be announced at most 30 days ahead"),
    "declaration_required": ("请确认14天行程申报属实", "Confirm the 14-day travel declaration"),
})


def new_visitor_pass_code() -> str:
    """A random one-day visitor pass (120 bits), in the QR alphanumeric set."""
    return VISITOR_PASS_PREFIX + base64.b32encode(os.urandom(15)).decode()


def is_visitor_pass(code: str) -> bool:
    """Whether a scanned code has the shape of a visitor pass."""
    return isinstance(code, str) and _VISITOR_PASS.fullmatch(code) is not None


def compound_city(compound: Compound) -> str | None:
    """The compound's city, read from its address ("北京市昌平区..." -> "北京"), if it names one."""
    match = re.match(r"\s*(?:中国)?(.+?)市", compound.address or "")
    return match.group(1) if match else None


def _city(name: str) -> str:
    return name.strip().removesuffix("市").strip()


def is_returnee(compound: Compound, from_city: str, travel_cities: list[str]) -> bool:
    """Came from, or declared a stay in, a city other than the compound's (unknown city: any city counts)."""
    local = compound_city(compound)
    cities = [_city(c) for c in [from_city, *travel_cities] if c and c.strip()]
    return any(local is None or city != local for city in cities)


def _lawful_basis(compound: Compound) -> str:
    return "public_health_emergency" if compound.health_emergency else "consent"


def _pre_registration(data: dict) -> dict:
    """What a pre-registration says, as stored (a retry is compared on this)."""
    return {"name": data["name"].strip(), "phone": data.get("phone", ""), "expected_date": data["expected_date"],
            "from_city": data.get("from_city", "").strip(), "purpose": data.get("purpose", "")}


def _registration_write(resident_id: int, client_id: str | None, data: dict) -> IdempotentWrite[Visitor]:
    """A pre-registration under its (resident, client id) key (none without a client id); a retry is
    compared on what it says, as stored."""
    def find() -> Visitor | None:
        if not client_id:
            return None
        return db.session.scalar(select(Visitor).where(Visitor.registered_by_id == resident_id,
                                                       Visitor.client_id == client_id))

    said = fingerprint(_pre_registration(data))

    def same_body(stored: Visitor) -> bool:
        return said == fingerprint(_pre_registration({c: getattr(stored, c) for c in
                                                      ("name", "phone", "expected_date", "from_city", "purpose")}))
    return IdempotentWrite(find, same_body)


def pre_register(resident: User, data: dict) -> tuple[Visitor, bool]:
    """A resident announces a visitor for a day (today to MAX_DAYS_AHEAD days ahead); the visitor gets a
    one-day pass. Answers the visitor and whether this was a replay of the same client id (another body
    under it is 409 idempotency_mismatch)."""
    household_id = resident.approved_household_id
    if household_id is None:
        raise ConflictError("not_registered")
    client_id = data.get("client_id")
    write = _registration_write(resident.id, client_id, data)
    stored = write.stored()
    if stored is not None:
        return stored, True
    compound = db.session.scalar(select(Compound).join(Household, Household.compound_id == Compound.id)
                                 .where(Household.id == household_id))
    today = local_today(compound.timezone)
    if data["expected_date"] < today:
        raise UnprocessableError("expected_date_past", errors={"json": {"expected_date": ["in the past"]}})
    if data["expected_date"] > today + timedelta(days=MAX_DAYS_AHEAD):
        raise UnprocessableError("expected_date_too_far",
                                 errors={"json": {"expected_date": [f"at most {MAX_DAYS_AHEAD} days ahead"]}})
    substance = _pre_registration(data)
    visitor = Visitor(compound_id=compound.id, household_id=household_id, registered_by_id=resident.id,
                      kind="pre_registered", travel_cities=[],
                      returnee=is_returnee(compound, substance["from_city"], []),
                      pass_code=new_visitor_pass_code(), lawful_basis=_lawful_basis(compound),
                      client_id=client_id or None, **substance)
    return write.add(visitor)


def create_walk_in(guard: User, compound: Compound, data: dict, today: date) -> Visitor:
    """A visitor registered at the gate by a guard, with the 14-day travel declaration."""
    if not data.get("declaration_confirmed"):
        raise UnprocessableError("declaration_required",
                                 errors={"json": {"declaration_confirmed": ["must be true"]}})
    travel = [c.strip() for c in data.get("travel_cities", []) if c.strip()]
    visitor = Visitor(compound_id=compound.id, household_id=data.get("household_id"), registered_by_id=guard.id,
                      kind="walk_in", name=data["name"].strip(), phone=data.get("phone", ""), expected_date=today,
                      from_city=data["from_city"].strip(), purpose=data.get("purpose", ""), travel_cities=travel,
                      returnee=is_returnee(compound, data["from_city"], travel), pass_code=None,
                      lawful_basis=_lawful_basis(compound), client_id=data.get("client_id"))
    db.session.add(visitor)
    db.session.flush()
    return visitor


def find_by_pass(code: str) -> Visitor | None:
    """The visitor a scanned visitor pass names."""
    return db.session.scalar(select(Visitor).where(Visitor.pass_code == code))


def expected_at(visitor: Visitor, compound_id: int, direction: str, day: date) -> bool:
    """Whether the visitor may pass this compound's gate on this local day in this direction."""
    if visitor.compound_id != compound_id or visitor.status == "cancelled":
        return False
    if direction == "out":
        return visitor.status == "inside" or visitor.expected_date == day
    return visitor.expected_date == day


def note_passage(visitor: Visitor, direction: str, at: datetime) -> None:
    """An allowed passage (already stored) moves the visitor inside or out; arrival is the first way in,
    leaving the last way out.

    The status follows the latest allowed passage by when it happened, not by when it was uploaded: an
    "in" queued offline and uploaded after the visitor left does not put them back inside.
    """
    # The visitor's row is locked and re-read first: a passage at another gate still being written is
    # then committed, and seen, before this one settles the status (PostgreSQL; SQLite's writers are
    # one at a time already).
    db.session.scalars(select(Visitor).where(Visitor.id == visitor.id).with_for_update()
                       .execution_options(populate_existing=True)).one()
    if direction == "in":
        visitor.arrived_at = min(visitor.arrived_at, at) if visitor.arrived_at else at
    else:
        visitor.left_at = max(visitor.left_at, at) if visitor.left_at else at
    latest = db.session.scalar(
        select(CheckIn.direction).where(CheckIn.visitor_id == visitor.id, CheckIn.decision == "allowed")
        .order_by(CheckIn.occurred_at.desc(), CheckIn.id.desc()).limit(1))
    visitor.status = "inside" if (latest or direction) == "in" else "left"


def alert_returnee(visitor: Visitor) -> None:
    """Tell staff a visitor came from another city (once per visitor; staff are messaged once)."""
    alert = raise_alert(visitor.compound_id, "returnee", household_id=visitor.household_id,
                        detail={"visitor_id": visitor.id, "from_city": visitor.from_city,
                                "travel_cities": visitor.travel_cities},
                        dedupe_key=f"returnee:visitor:{visitor.id}")
    notify_staff(alert)


def get_visitor(user: User, visitor_id: int) -> Visitor:
    """A visitor the caller may see: a resident their household's, others those of their compounds."""
    query = select(Visitor).where(Visitor.id == visitor_id)
    if user.role == "resident":
        query = query.where(Visitor.household_id == user.approved_household_id,
                            Visitor.household_id.isnot(None))
    else:
        query = query.where(compound_condition(user, Visitor.compound_id))
    visitor = db.session.scalar(query)
    if visitor is None:
        raise NotFoundError("not_found")
    return visitor


def cancel(user: User, visitor_id: int) -> Visitor:
    """Cancel an expected visitor; the visitor pass stops working."""
    visitor = get_visitor(user, visitor_id)
    if visitor.status != "expected":
        raise ConflictError("visitor_not_cancellable", current_status=visitor.status)
    visitor.status = "cancelled"
    db.session.flush()
    return visitor


def visitors_query(user: User, *, compound_id: int | None = None, status: str | None = None,
                   day: date | None = None):
    """The visitors the caller may list, newest first."""
    query = select(Visitor)
    if user.role == "resident":
        query = query.where(Visitor.household_id == user.approved_household_id, Visitor.household_id.isnot(None))
    else:
        query = query.where(compound_condition(user, Visitor.compound_id))
    if compound_id is not None:
        query = query.where(Visitor.compound_id == compound_id)
    if status is not None:
        query = query.where(Visitor.status == status)
    if day is not None:
        query = query.where(Visitor.expected_date == day)
    return query.order_by(Visitor.id.desc())


def visitors_inside(compound_id: int):
    """The visitors of a compound still inside (came in, not yet out)."""
    return select(Visitor).where(Visitor.compound_id == compound_id, Visitor.status == "inside") \
        .order_by(Visitor.arrived_at)


def record_list_read(user: User, action: str, *, compound_id: int | None, args: dict, returned: int) -> None:
    """Audit staff's and guards' reads of visitor lists (names and phones of other people); a resident
    reading their own household's visitors is not a bulk read."""
    if user.role == "resident":
        return
    record_bulk_read(user, action, compound_id=compound_id, purpose=None, object_type="compound",
                     object_id=compound_id if compound_id is not None else "",
                     detail={k: str(v) for k, v in args.items()} | {"returned": returned})
