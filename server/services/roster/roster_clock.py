"""Clocking in and out at the post, coverage-gap alerts, and who is on duty at a gate now.

A guard clocks in by scanning the gate's code from ``CLOCK_IN_EARLY`` before the shift until its
end; after the grace window (``ROSTER_CLOCK_GRACE_MINUTES``, 10 by default) the clock-in is late
and staff get a coverage-gap alert. ``flag_coverage_gaps`` (run by `flask wuye coverage`) raises
the same alert for guards who never clocked in and for seats nobody was rostered to.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError

from server import messages
from server.errors import ConflictError, NotFoundError
from server.extensions import db
from server.models.compounds import Gate
from server.models.people import User
from server.models.rosters import ClockEvent, Shift, ShiftAssignment
from server.plumbing.alerts import notify_staff, raise_alert
from server.plumbing.clock import utcnow
from server.services.gate.gates import resolve_gate_code

CLOCK_IN_EARLY = timedelta(minutes=30)
# Gaps older than this are history, not alerts.
COVERAGE_LOOKBACK = timedelta(hours=24)

messages.register({
    "gate_code_unknown": ("无法识别的出入口码", "Unknown gate code"),
    "gate_code_stale": ("出入口码已过期,请重新扫码", "The gate code has expired; scan it again"),
    "no_shift_now": ("您此时在该出入口没有班次", "You have no shift at this gate now"),
    "not_clocked_in": ("尚未上岗打卡", "You have not clocked in"),
})


def grace() -> timedelta:
    """How late a clock-in may be before it counts as late."""
    return timedelta(minutes=float(current_app.config.get("ROSTER_CLOCK_GRACE_MINUTES", 10)))


def _gate_from_code(code: str, now: datetime) -> Gate:
    # A rotating code must be current: an old photo of the screen does not prove the guard is at the post.
    gate, fresh = resolve_gate_code(code, now)
    if gate is None:
        raise NotFoundError("gate_code_unknown")
    if not fresh:
        raise ConflictError("gate_code_stale", gate_id=gate.id)
    return gate


def _current_assignment(guard: User, gate: Gate, now: datetime) -> ShiftAssignment:
    assignment = db.session.scalar(select(ShiftAssignment).where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.gate_id == gate.id,
        ShiftAssignment.starts_at <= now + CLOCK_IN_EARLY, ShiftAssignment.ends_at > now,
    ).order_by(ShiftAssignment.starts_at).limit(1))
    if assignment is None:
        raise ConflictError("no_shift_now", gate_id=gate.id)
    return assignment


def _record(assignment: ShiftAssignment, kind: str, now: datetime, late: bool) -> ClockEvent:
    existing = db.session.scalar(select(ClockEvent).where(ClockEvent.assignment_id == assignment.id, ClockEvent.kind == kind))
    if existing is not None:
        return existing  # a retried scan answers with the first one
    event = ClockEvent(assignment_id=assignment.id, guard_id=assignment.guard_id, gate_id=assignment.gate_id,
                       kind=kind, at=now, late=late)
    try:
        with db.session.begin_nested():
            db.session.add(event)
    except IntegrityError:
        return db.session.scalar(select(ClockEvent).where(ClockEvent.assignment_id == assignment.id,
                                                          ClockEvent.kind == kind))
    return event


def clock_in(guard: User, code: str) -> ClockEvent:
    """Clock in at the gate whose code was scanned; a late clock-in alerts staff."""
    now = utcnow()
    gate = _gate_from_code(code, now)
    assignment = _current_assignment(guard, gate, now)
    late = now > assignment.starts_at + grace()
    event = _record(assignment, "in", now, late)
    if event.late:
        _alert_gap(assignment.compound_id, assignment.shift_id, assignment.guard_id, "late_clock_in",
                   gate_id=gate.id, starts_at=assignment.starts_at, clocked_in_at=event.at)
    return event


def clock_out(guard: User, code: str) -> ClockEvent:
    """Clock out at the gate whose code was scanned (up to the grace window after the shift ends)."""
    now = utcnow()
    gate = _gate_from_code(code, now)
    assignment = db.session.scalar(select(ShiftAssignment).join(ClockEvent, and_(
        ClockEvent.assignment_id == ShiftAssignment.id, ClockEvent.kind == "in")).where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.gate_id == gate.id,
        ShiftAssignment.starts_at <= now + CLOCK_IN_EARLY,
        ShiftAssignment.ends_at > now - grace()).order_by(ShiftAssignment.starts_at.desc()).limit(1))
    if assignment is None:
        raise ConflictError("not_clocked_in", gate_id=gate.id)
    return _record(assignment, "out", now, False)


def _alert_gap(compound_id: int, shift_id: int, guard_id: int | None, why: str, **detail) -> None:
    detail = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in detail.items()}
    alert = raise_alert(compound_id, "coverage_gap", subject_user_id=guard_id,
                        detail={"shift_id": shift_id, "guard_id": guard_id, "why": why, **detail},
                        dedupe_key=f"coverage_gap:{shift_id}:{guard_id if guard_id is not None else 'open'}")
    notify_staff(alert)  # deduplicated per alert and staff member, so raising again is harmless


def flag_coverage_gaps(now: datetime | None = None) -> int:
    """Alert staff about every shift that started more than the grace window ago without its guards.

    A rostered guard who has not clocked in, and a seat nobody was rostered to, each raise one
    coverage-gap alert (deduplicated, so running this every minute is harmless). Returns how many
    gaps it saw.
    """
    now = now or utcnow()
    since, until = now - COVERAGE_LOOKBACK, now - grace()
    missing = db.session.execute(select(ShiftAssignment).outerjoin(ClockEvent, and_(
        ClockEvent.assignment_id == ShiftAssignment.id, ClockEvent.kind == "in")).where(
        ClockEvent.id.is_(None), ShiftAssignment.starts_at > since, ShiftAssignment.starts_at < until)).scalars().all()
    for a in missing:
        _alert_gap(a.compound_id, a.shift_id, a.guard_id, "no_clock_in", gate_id=a.gate_id, starts_at=a.starts_at)
    seated = (select(ShiftAssignment.shift_id, func.count().label("n")).group_by(ShiftAssignment.shift_id).subquery())
    unfilled = db.session.execute(select(Shift, func.coalesce(seated.c.n, 0)).outerjoin(
        seated, seated.c.shift_id == Shift.id).where(
        Shift.status == "open", Shift.starts_at > since, Shift.starts_at < until, Shift.ends_at > now,
        func.coalesce(seated.c.n, 0) < Shift.guards_needed)).all()
    for shift, n in unfilled:
        _alert_gap(shift.compound_id, shift.id, None, "unfilled", gate_id=shift.gate_id, starts_at=shift.starts_at,
                   missing=shift.guards_needed - n)
    db.session.flush()
    return len(missing) + len(unfilled)


def on_duty(gate: Gate, now: datetime | None = None) -> list[dict]:
    """The gate board: who is rostered at this gate now, and whether they clocked in."""
    now = now or utcnow()
    rows = db.session.execute(select(ShiftAssignment, User, ClockEvent).join(User, User.id == ShiftAssignment.guard_id)
                              .outerjoin(ClockEvent, and_(ClockEvent.assignment_id == ShiftAssignment.id,
                                                          ClockEvent.kind == "in"))
                              .where(ShiftAssignment.gate_id == gate.id, ShiftAssignment.starts_at <= now,
                                     ShiftAssignment.ends_at > now).order_by(ShiftAssignment.starts_at, User.id)).all()
    return [{"assignment_id": a.id, "shift_id": a.shift_id, "guard_id": u.id, "guard_name": u.display_name,
             "starts_at": a.starts_at, "ends_at": a.ends_at, "lent": a.source == "loan",
             "clocked_in_at": c.at if c else None, "late": bool(c and c.late)} for a, u, c in rows]
