"""Read-only roster views: a compound's week grid, a guard's own schedule, and the list of gaps."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from server.extensions import db
from server.models.compounds import Compound, Gate
from server.models.people import User
from server.models.rosters import ClockEvent, Shift, ShiftAssignment
from server.plumbing.clock import utcnow
from server.services.roster.roster_clock import grace
from server.services.roster.roster_incident_duty import duty_rows
from server.services.roster.roster_rules import local_week_start


def _week(compound: Compound, day: date) -> tuple[date, datetime, datetime]:
    monday = day - timedelta(days=day.weekday())
    return monday, local_week_start(compound.timezone, monday), local_week_start(compound.timezone, monday + timedelta(days=7))


def _clock_times(assignment_ids: list[int]) -> dict[tuple[int, str], ClockEvent]:
    if not assignment_ids:
        return {}
    events = db.session.scalars(select(ClockEvent).where(ClockEvent.assignment_id.in_(assignment_ids)))
    return {(e.assignment_id, e.kind): e for e in events}


def week_grid(compound: Compound, day: date) -> dict:
    """Every shift of the compound's local week containing ``day``, by gate, with its guards (lent ones too)."""
    monday, start, end = _week(compound, day)
    gates = db.session.scalars(select(Gate).where(Gate.compound_id == compound.id).order_by(Gate.id)).all()
    shifts = db.session.scalars(select(Shift).where(Shift.compound_id == compound.id, Shift.starts_at >= start,
                                                    Shift.starts_at < end).order_by(Shift.starts_at, Shift.gate_id)).all()
    rows = db.session.execute(select(ShiftAssignment, User).join(User, User.id == ShiftAssignment.guard_id).where(
        # Ordered by shift first: the shift_id index then serves the IN and the order (no scan of the table).
        ShiftAssignment.shift_id.in_([s.id for s in shifts] or [-1])).order_by(ShiftAssignment.shift_id,
                                                                                ShiftAssignment.id)).all()
    clocks = _clock_times([a.id for a, _ in rows])
    seats: dict[int, list[dict]] = {}
    for a, guard in rows:
        clock_in, clock_out = clocks.get((a.id, "in")), clocks.get((a.id, "out"))
        seats.setdefault(a.shift_id, []).append({
            "assignment_id": a.id, "guard_id": guard.id, "guard_name": guard.display_name, "source": a.source,
            "lent": a.source == "loan", "company_id": guard.company_id,
            "clocked_in_at": clock_in.at if clock_in else None, "clocked_out_at": clock_out.at if clock_out else None})
    return {"compound_id": compound.id, "timezone": compound.timezone, "week_start": monday,
            "gates": [{"id": g.id, "name": g.name, "is_open": g.is_open} for g in gates],
            "shifts": [_shift_row(s, seats.get(s.id, [])) for s in shifts],
            "incident_duty": duty_rows(start, end, compound_id=compound.id)}


def _shift_row(shift: Shift, guards: list[dict]) -> dict:
    return {"id": shift.id, "gate_id": shift.gate_id, "starts_at": shift.starts_at, "ends_at": shift.ends_at,
            "guards_needed": shift.guards_needed, "status": shift.status, "guards": guards,
            "open_seats": max(0, shift.guards_needed - len(guards)) if shift.status == "open" else 0}


def guard_schedule(guard: User, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """A guard's own shifts (default: from a day ago to two weeks ahead), at home or lent out."""
    now = utcnow()
    start, end = start or now - timedelta(days=1), end or now + timedelta(days=14)
    rows = db.session.execute(select(ShiftAssignment, Gate, Compound).join(Gate, Gate.id == ShiftAssignment.gate_id)
                              .join(Compound, Compound.id == ShiftAssignment.compound_id).where(
        ShiftAssignment.guard_id == guard.id, ShiftAssignment.ends_at > start, ShiftAssignment.starts_at < end)
        .order_by(ShiftAssignment.starts_at)).all()
    clocks = _clock_times([a.id for a, _, _ in rows])
    return [{"assignment_id": a.id, "shift_id": a.shift_id, "compound_id": c.id, "compound_name": c.name,
             "timezone": c.timezone, "gate_id": g.id, "gate_name": g.name, "starts_at": a.starts_at,
             "ends_at": a.ends_at, "source": a.source, "lent": a.source == "loan",
             "clocked_in_at": clocks[(a.id, "in")].at if (a.id, "in") in clocks else None,
             "clocked_out_at": clocks[(a.id, "out")].at if (a.id, "out") in clocks else None} for a, g, c in rows]


def roster_gaps(compound: Compound, day: date) -> list[dict]:
    """Gaps of the local week containing ``day``: open seats, and rostered guards who did not clock in."""
    grid = week_grid(compound, day)
    late_line = utcnow() - grace()
    gaps = []
    for shift in grid["shifts"]:
        if shift["status"] != "open":
            continue
        if shift["open_seats"]:
            gaps.append({"kind": "unfilled", "shift_id": shift["id"], "gate_id": shift["gate_id"],
                         "starts_at": shift["starts_at"], "ends_at": shift["ends_at"], "missing": shift["open_seats"],
                         "guard_id": None})
        if shift["starts_at"] < late_line:
            for seat in shift["guards"]:
                if seat["clocked_in_at"] is None:
                    gaps.append({"kind": "no_clock_in", "shift_id": shift["id"], "gate_id": shift["gate_id"],
                                 "starts_at": shift["starts_at"], "ends_at": shift["ends_at"], "missing": 1,
                                 "guard_id": seat["guard_id"]})
    return gaps


def guard_incident_duty(guard: User, start: datetime | None = None, end: datetime | None = None) -> list[dict]:
    """A guard's incident duty (pledged to an emergency) in the same window as ``guard_schedule``."""
    now = utcnow()
    return duty_rows(start or now - timedelta(days=1), end or now + timedelta(days=14), guard_id=guard.id)
