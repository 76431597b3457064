"""Guard rosters: templates that generate a week of shifts, shifts, assignments and leave.

Staff manage their company's compounds; the alliance admin manages compounds with no company
(old compounds whose guard came through the alliance). A guard may act at a compound other than
their home post while one of their shifts there is in progress (see ``on_duty_compound_ids``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from server import messages
from server.errors import ConflictError, ForbiddenError, NotFoundError, UnprocessableError
from server.extensions import db
from server.models.compounds import Compound, Gate
from server.models.people import User
from server.models.roster_lending import LoanOffer, LoanRequest
from server.models.roster_swaps import SwapRequest
from server.models.rosters import GuardLeave, Shift, ShiftAssignment, ShiftTemplate
from server.plumbing.clock import utcnow
from server.scope import acts_for
from server.services.roster.roster_rules import (
    OVERLAP,
    enforce_assignment,
    hold_shifts,
    local_week_start,
    lock_guards,
)

GATE_CLOSED, MANUAL = "gate_closed", "manual"
PRESETS = {"1x24": (1, 24), "2x12": (2, 12), "3x8": (3, 8), "4x6": (4, 6)}
MAX_SHIFT = timedelta(hours=24)

messages.register({
    "gate_closed_no_shifts": ("该出入口已关闭,无需排班", "The gate is closed; it needs no shifts"),
    "shift_started": ("该班次已开始,不能再更改", "The shift has started and can no longer be changed"),
    "leave_overlaps_shifts": ("请假时段内已有排班", "The guard has shifts during this leave"),
    "bad_shift_times": ("班次时间无效", "The shift times are invalid"),
    "release_needs_staff": ("请假与已排班次冲突时,请通过换班或联系物业处理",
                            "Only staff can free shifts for leave; offer them as swaps instead"),
})


# --- who may manage what -------------------------------------------------------------------------

def managed_compound(user: User, compound_id: int) -> Compound:
    """A compound whose roster the caller manages (where they act as staff: the company's or entrusted
    compounds; the admin's: company-less ones nobody else runs), or 404."""
    compound = db.session.get(Compound, compound_id)
    if compound is None or compound.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    if user.role in ("staff", "alliance_admin") and acts_for(user, compound.id):
        return compound
    raise NotFoundError("not_found")


def managed_gate(user: User, gate_id: int) -> Gate:
    """A gate of a compound the caller manages, or 404."""
    gate = db.session.get(Gate, gate_id)
    if gate is None:
        raise NotFoundError("not_found")
    managed_compound(user, gate.compound_id)
    return gate


def managed_shift(user: User, shift_id: int) -> Shift:
    """A shift of a compound the caller manages, or 404."""
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFoundError("not_found")
    managed_compound(user, shift.compound_id)
    return shift


def managed_guard(user: User, guard_id: int) -> User:
    """A guard the caller manages (staff: their company's; admin: posted at a compound they run; guard: self)."""
    guard = db.session.get(User, guard_id)
    if guard is None or guard.role != "guard" or guard.alliance_id != user.alliance_id:
        raise NotFoundError("not_found")
    if user.role == "guard" and guard.id == user.id:
        return guard
    if user.role == "staff" and guard.company_id == user.company_id:
        return guard
    if user.role == "alliance_admin" and guard.compound_id is not None and acts_for(user, guard.compound_id):
        return guard
    raise NotFoundError("not_found")


# --- templates and shifts ------------------------------------------------------------------------

def add_templates(gate: Gate, data: dict) -> list[ShiftTemplate]:
    """Daily shifts for a gate: a preset (3x8, 2x12...) from ``start_time``, or one shift of ``hours``."""
    if data.get("preset"):
        count, hours = PRESETS[data["preset"]]
    elif data.get("hours"):
        count, hours = 1, data["hours"]
    else:
        raise UnprocessableError("validation_failed", errors={"json": {"hours": ["give hours or a preset"]}})
    first = datetime.combine(date(2000, 1, 1), data["start_time"])
    templates = []
    for k in range(count):
        start = (first + timedelta(hours=hours * k)).time()
        duration = round(hours * 60)
        if db.session.scalar(select(ShiftTemplate.id).where(ShiftTemplate.gate_id == gate.id, ShiftTemplate.start_time == start,
                                                            ShiftTemplate.duration_minutes == duration)):
            raise ConflictError("duplicate", errors={"json": {"start_time": [f"{start:%H:%M} already a template"]}})
        templates.append(ShiftTemplate(compound_id=gate.compound_id, gate_id=gate.id, start_time=start,
                                       duration_minutes=duration, guards_needed=data.get("guards_needed", 1)))
    db.session.add_all(templates)
    db.session.flush()
    return templates


def delete_template(user: User, template_id: int) -> None:
    """Remove a template of a compound the caller manages (shifts it already generated stay), or 404."""
    template = db.session.get(ShiftTemplate, template_id)
    if template is None:
        raise NotFoundError("not_found")
    managed_compound(user, template.compound_id)
    db.session.delete(template)
    db.session.flush()


def generate_week(compound: Compound, day: date) -> dict:
    """Shifts for the local week (Monday-Sunday) containing ``day`` from the templates of open gates.

    Shifts that already exist or that are already over are skipped, so running it twice is harmless.
    """
    tz = ZoneInfo(compound.timezone)
    monday = day - timedelta(days=day.weekday())
    now = utcnow()
    rows = db.session.execute(select(ShiftTemplate, Gate).join(Gate, Gate.id == ShiftTemplate.gate_id).where(
        ShiftTemplate.compound_id == compound.id, Gate.is_open.is_(True)).order_by(Gate.id, ShiftTemplate.start_time))
    existing = {(s.gate_id, s.starts_at, s.ends_at): s for s in db.session.scalars(select(Shift).where(
        Shift.compound_id == compound.id, Shift.starts_at >= local_week_start(compound.timezone, monday) - MAX_SHIFT,
        Shift.starts_at < local_week_start(compound.timezone, monday + timedelta(days=7))))}
    created = []
    skipped = 0
    for template, gate in rows:
        for d in range(7):
            starts = datetime.combine(monday + timedelta(days=d), template.start_time, tzinfo=tz).astimezone(UTC)
            ends = starts + timedelta(minutes=template.duration_minutes)
            old = existing.get((gate.id, starts, ends))
            if old is not None and old.status == "cancelled" and old.cancel_reason == GATE_CLOSED and starts > now:
                # The gate was closed and has reopened: its template's shifts come back (a shift
                # staff cancelled by hand stays cancelled).
                old.status, old.cancelled_at, old.cancel_reason = "open", None, None
                created.append(old)
                continue
            if old is not None or ends <= now:
                skipped += 1
                continue
            created.append(Shift(compound_id=compound.id, gate_id=gate.id, template_id=template.id, starts_at=starts,
                                 ends_at=ends, guards_needed=template.guards_needed))
    db.session.add_all(created)
    db.session.flush()
    return {"week_start": monday, "created": len(created), "skipped": skipped,
            "shift_ids": [s.id for s in created]}


def create_shift(gate: Gate, data: dict) -> Shift:
    """A one-off shift at an open gate (aware start and end, at most 24 h)."""
    if not gate.is_open:
        raise ConflictError("gate_closed_no_shifts")
    starts, ends = data["starts_at"].astimezone(UTC), data["ends_at"].astimezone(UTC)
    if not starts < ends <= starts + MAX_SHIFT or ends <= utcnow():
        raise UnprocessableError("bad_shift_times", errors={"json": {"ends_at": ["after starts_at, within 24 h, in the future"]}})
    if db.session.scalar(select(Shift.id).where(Shift.gate_id == gate.id, Shift.starts_at == starts, Shift.ends_at == ends)):
        raise ConflictError("duplicate")
    shift = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=starts, ends_at=ends,
                  guards_needed=data.get("guards_needed", 1))
    db.session.add(shift)
    db.session.flush()
    return shift


def release_shift(shift: Shift, reason: str = MANUAL) -> None:
    """Cancel a shift that has not started (``reason``: gate_closed or manual): its guards are freed, its
    swaps and loan posts closed."""
    now = utcnow()
    shift.status = "cancelled"
    shift.cancelled_at = now
    shift.cancel_reason = reason
    db.session.execute(update(SwapRequest).where(SwapRequest.shift_id == shift.id, SwapRequest.status.in_(
        ("offered", "accepted"))).values(status="cancelled", decided_at=now))
    db.session.execute(update(LoanRequest).where(LoanRequest.shift_id == shift.id, LoanRequest.status == "open")
                       .values(status="cancelled", closed_at=now))
    db.session.execute(delete(ShiftAssignment).where(ShiftAssignment.shift_id == shift.id))
    db.session.flush()


def cancel_shift(shift: Shift) -> Shift:
    """Staff cancel a shift before it starts."""
    if shift.starts_at <= utcnow():
        raise ConflictError("shift_started", shift_ids=[shift.id])
    if shift.status != "cancelled":
        release_shift(shift, MANUAL)
    else:  # cancelled with its gate, now by hand too: it stays cancelled when the gate reopens
        shift.cancel_reason = MANUAL
        db.session.flush()
    return shift


def release_gate_shifts(gate: Gate) -> None:
    """A closed gate needs no shifts: cancel its shifts that have not started yet."""
    shifts = db.session.scalars(select(Shift).where(Shift.gate_id == gate.id, Shift.status == "open",
                                                    Shift.starts_at > utcnow())).all()
    for shift in shifts:
        release_shift(shift, GATE_CLOSED)


# --- assignments and leave -----------------------------------------------------------------------

def add_assignment(actor: User | None, shift: Shift, guard_id: int, *, source: str = "manual", lent: bool = False,
                   loan_offer_id: int | None = None, ignore_assignment_ids: tuple[int, ...] = ()) -> ShiftAssignment:
    """Put a guard on a shift after checking every roster rule (409/422 naming the rule)."""
    compound = db.session.get(Compound, shift.compound_id)
    guard = enforce_assignment(guard_id, shift, compound, lent=lent, ignore_assignment_ids=ignore_assignment_ids)
    assignment = ShiftAssignment(shift_id=shift.id, guard_id=guard.id, compound_id=shift.compound_id, gate_id=shift.gate_id,
                                 starts_at=shift.starts_at, ends_at=shift.ends_at, source=source,
                                 loan_offer_id=loan_offer_id, created_by_id=actor.id if actor else None)
    try:
        with db.session.begin_nested():
            db.session.add(assignment)
    except IntegrityError as exc:
        # Another request booked the guard in between; PostgreSQL's EXCLUDE constraint said no.
        raise ConflictError(OVERLAP, rule=OVERLAP, shift_ids=[shift.id]) from exc
    return assignment


def remove_assignment(assignment: ShiftAssignment) -> None:
    """Take a guard off a shift that has not started (its swaps are closed, its loan post reopened)."""
    hold_shifts([assignment.shift_id])
    if assignment.starts_at <= utcnow():
        raise ConflictError("shift_started", shift_ids=[assignment.shift_id])
    release_assignments([assignment])


def release_assignments(assignments: list[ShiftAssignment]) -> None:
    """Delete unstarted assignments and tidy what hangs on them, in one go.

    Live swaps offering them are cancelled; an accepted loan offer behind a lent guard's seat is
    withdrawn; a filled loan request whose shift has a free seat again is reopened (when no other
    request for that shift is open), so the alliance sees the gap.
    """
    if not assignments:
        return
    now = utcnow()
    ids = [a.id for a in assignments]
    shift_ids = sorted({a.shift_id for a in assignments})
    offer_ids = [a.loan_offer_id for a in assignments if a.loan_offer_id is not None]
    db.session.execute(update(SwapRequest).where(SwapRequest.assignment_id.in_(ids), SwapRequest.status.in_(
        ("offered", "accepted"))).values(status="cancelled", decided_at=now).execution_options(synchronize_session=False))
    for assignment in assignments:
        db.session.delete(assignment)
    db.session.flush()
    if offer_ids:
        db.session.execute(update(LoanOffer).where(LoanOffer.id.in_(offer_ids), LoanOffer.status == "accepted")
                           .values(status="withdrawn", decided_at=now).execution_options(synchronize_session=False))
    for shift in db.session.scalars(select(Shift).where(Shift.id.in_(shift_ids), Shift.status == "open",
                                                        Shift.starts_at > now)):
        seated = db.session.scalar(select(func.count()).where(ShiftAssignment.shift_id == shift.id))
        if seated >= shift.guards_needed or db.session.scalar(select(LoanRequest.id).where(
                LoanRequest.shift_id == shift.id, LoanRequest.status == "open")):
            continue
        filled = db.session.scalar(select(LoanRequest).where(LoanRequest.shift_id == shift.id,
                                                             LoanRequest.status == "filled")
                                   .order_by(LoanRequest.id.desc()).limit(1))
        if filled is not None:
            filled.status, filled.closed_at = "open", None
    db.session.flush()


def release_future_assignments(guard: User, *, keep_compound_id: int | None = None, keep_lent: bool = False) -> int:
    """Free a guard's assignments that have not started (all, or those away from ``keep_compound_id``)."""
    query = select(ShiftAssignment).where(ShiftAssignment.guard_id == guard.id, ShiftAssignment.starts_at > utcnow())
    if keep_compound_id is not None:
        query = query.where(ShiftAssignment.compound_id != keep_compound_id)
    if keep_lent:
        query = query.where(ShiftAssignment.source != "loan")
    assignments = db.session.scalars(query.order_by(ShiftAssignment.shift_id)).all()
    hold_shifts(a.shift_id for a in assignments)
    lock_guards([guard.id])
    release_assignments(list(assignments))
    return len(assignments)


def guard_changed(guard: User, before: dict) -> None:
    """A guard was deactivated or posted elsewhere: their future shifts are freed for someone else.

    Deactivated: every unstarted assignment goes. Moved: those at other compounds than the new post,
    except lent shifts (agreed through the alliance, they do not depend on the home post).
    """
    if before.get("is_active") and not guard.is_active:
        release_future_assignments(guard)
    elif guard.is_active and "compound_id" in before and before["compound_id"] != guard.compound_id:
        release_future_assignments(guard, keep_compound_id=guard.compound_id, keep_lent=True)


def managed_assignment(user: User, assignment_id: int) -> ShiftAssignment:
    """An assignment at a compound the caller manages, or 404."""
    assignment = db.session.get(ShiftAssignment, assignment_id)
    if assignment is None:
        raise NotFoundError("not_found")
    managed_compound(user, assignment.compound_id)
    return assignment


def add_leave(actor: User, guard: User, data: dict) -> GuardLeave:
    """Record leave or unavailability; staff may add ``release_shifts`` to free the guard's unstarted shifts then.

    A guard may not release their own shifts (403): leave clashing with their shifts answers 409
    ``leave_overlaps_shifts``, and swaps are the way to hand a shift on.
    """
    if actor.role == "guard" and data.get("release_shifts"):
        raise ForbiddenError("release_needs_staff")
    starts, ends = data["starts_at"].astimezone(UTC), data["ends_at"].astimezone(UTC)
    if ends <= starts:
        raise UnprocessableError("validation_failed", errors={"json": {"ends_at": ["must be after starts_at"]}})
    # Lock the guard (as add_assignment does after the shift) so no assignment lands inside the new leave.
    lock_guards([guard.id])
    clashing = db.session.scalars(select(ShiftAssignment).where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.starts_at < ends, ShiftAssignment.ends_at > starts)
        .order_by(ShiftAssignment.shift_id)).all()
    if clashing and not data.get("release_shifts"):
        raise ConflictError("leave_overlaps_shifts", shift_ids=sorted(a.shift_id for a in clashing))
    started = [a.shift_id for a in clashing if a.starts_at <= utcnow()]
    if started:
        raise ConflictError("shift_started", shift_ids=started)
    release_assignments(list(clashing))
    leave = GuardLeave(guard_id=guard.id, starts_at=starts, ends_at=ends, kind=data.get("kind", "leave"),
                       note=data.get("note", ""), created_by_id=actor.id)
    db.session.add(leave)
    db.session.flush()
    return leave


def managed_leave(user: User, leave_id: int) -> GuardLeave:
    """A leave record of a guard the caller manages, or 404."""
    leave = db.session.get(GuardLeave, leave_id)
    if leave is None:
        raise NotFoundError("not_found")
    managed_guard(user, leave.guard_id)
    return leave


def withdraw_leave(user: User, leave: GuardLeave) -> None:
    """Delete a leave record; a guard may withdraw only what they declared themselves."""
    if user.role == "guard" and leave.created_by_id != user.id:
        raise ForbiddenError("forbidden")
    db.session.delete(leave)
    db.session.flush()


# --- scope: a guard on duty away from home -------------------------------------------------------

def on_duty_compound_ids(user: User) -> set[int]:
    """Compounds where the guard has a shift in progress now (a lent guard's access is exactly this)."""
    now = utcnow()
    return set(db.session.scalars(select(ShiftAssignment.compound_id).where(
        ShiftAssignment.guard_id == user.id, ShiftAssignment.starts_at <= now, ShiftAssignment.ends_at > now)))


# A shift's scans queued offline upload up to this long after it ended; after that the gate's records
# are closed to a guard who was only lent there (a device time cannot reopen them).
SHIFT_SCANS_UPLOAD_WITHIN = timedelta(hours=24)


def on_duty_at_gate(user: User, gate_id: int, at: datetime | None = None) -> bool:
    """Whether the guard's shift at this very gate covers `at` (default now; gate-level checks).

    An earlier `at` is an offline scan's device time: its shift must have ended within
    `SHIFT_SCANS_UPLOAD_WITHIN`.
    """
    now = utcnow()
    at = at or now
    return db.session.scalar(select(ShiftAssignment.id).where(
        ShiftAssignment.guard_id == user.id, ShiftAssignment.gate_id == gate_id,
        ShiftAssignment.starts_at <= at, ShiftAssignment.ends_at > at,
        ShiftAssignment.ends_at > now - SHIFT_SCANS_UPLOAD_WITHIN).limit(1)) is not None
