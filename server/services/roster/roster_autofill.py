"""Auto-fill a week's open shifts for a compound or a whole company with the CP-SAT solver.

The database side of ``roster_solver``: collect the week's open seats and the guards who may fill
them (with their leave and their work elsewhere, lent shifts included, from ``roster_rules``),
solve with a fixed seed, a bounded time and bounded workers, and store the new assignments.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update

from server import messages
from server.errors import NotFoundError, UnprocessableError
from server.extensions import db
from server.models.compounds import Compound, Gate
from server.models.people import User
from server.models.roster_lending import LoanRequest
from server.models.rosters import Shift, ShiftAssignment
from server.plumbing.caretakers import acting_company_id
from server.plumbing.clock import utcnow
from server.scope import staff_compounds
from server.services.roster.roster_rules import guard_infos, local_week_start, solver_rules
from server.services.roster.roster_solver import ShiftSlot, solve_roster
from server.services.roster.rosters import managed_compound

USUAL_GATE_LOOKBACK = timedelta(days=28)
SEED = 7

messages.register({
    "solver_input_invalid": ("排班数据有误,无法自动排班", "The roster data cannot be auto-filled"),
})


def autofill_scope(user: User, compound_id: int | None, company_id: int | None) -> list[Compound]:
    """The compounds an auto-fill covers: one managed compound, or every compound the staff member acts for."""
    if compound_id is not None:
        return [managed_compound(user, compound_id)]
    if user.role != "staff" or (company_id is not None and company_id != user.company_id):
        raise NotFoundError("not_found") if company_id is not None else UnprocessableError(
            "validation_failed", errors={"json": {"compound_id": ["required"]}})
    return list(db.session.scalars(select(Compound).where(Compound.id.in_(staff_compounds(user))).order_by(Compound.id)))


def _pool(compounds: list[Compound]) -> list[User]:
    """Guards who may be rostered there without a loan: the companies' guards and guards posted there.

    Their rows are locked in id order until the commit (SQLite: the write lock autofill already holds).
    """
    company_ids = {acting_company_id(c) for c in compounds} - {None}
    condition = User.compound_id.in_([c.id for c in compounds])
    if company_ids:
        condition = condition | User.company_id.in_(company_ids)
    return list(db.session.scalars(select(User).where(User.role == "guard", User.is_active.is_(True), condition)
                                   .order_by(User.id).with_for_update(key_share=True)
                                   .execution_options(populate_existing=True)))


def _usual_gates(guards: list[User], before: datetime, gate_ids_by_compound: dict[int, list[int]]) -> dict[int, frozenset[int]]:
    """Each guard's usual gates: where they stood most in the last four weeks, else their home post's gates."""
    counts: dict[int, Counter] = {g.id: Counter() for g in guards}
    if guards:
        for gid, gate_id, n in db.session.execute(select(
                ShiftAssignment.guard_id, ShiftAssignment.gate_id, func.count()).where(
                ShiftAssignment.guard_id.in_(list(counts)), ShiftAssignment.starts_at >= before - USUAL_GATE_LOOKBACK,
                ShiftAssignment.starts_at < before).group_by(ShiftAssignment.guard_id, ShiftAssignment.gate_id)):
            counts[gid][gate_id] = n
    usual = {}
    for g in guards:
        top = [gate for gate, _ in sorted(counts[g.id].items(), key=lambda kv: (-kv[1], kv[0]))[:2]]
        usual[g.id] = frozenset(top or gate_ids_by_compound.get(g.compound_id, []))
    return usual


def autofill_roster(user: User | None, compounds: list[Compound], day: date, *, not_before: datetime | None = None,
                    max_seconds: float | None = None, workers: int | None = None) -> dict:
    """Fill the open seats of the local week containing ``day`` (shifts not yet started) and report the rest.

    Honours every rule of ``roster_rules``; the same data gives the same roster. Returns the new
    assignments, what could not be filled and why (``no_guard_available``, ``rest_or_hours``,
    ``not_solved``), the solver status and each guard's hours on these shifts.
    """
    monday = day - timedelta(days=day.weekday())
    not_before = not_before or utcnow()
    # The week's shifts, then the guard pool, stay locked until the commit (shift first, then guard,
    # like every roster change): a concurrent assignment, here or at another compound, waits instead
    # of taking a seat the solver is handing out or breaking a guard's rest and weekly hours.
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    shifts: list[Shift] = []
    week_starts = []
    for compound in compounds:
        w0 = local_week_start(compound.timezone, monday)
        w1 = local_week_start(compound.timezone, monday + timedelta(days=7))
        week_starts.append(w0)
        week = (Shift.compound_id == compound.id, Shift.status == "open", Shift.starts_at >= w0, Shift.starts_at < w1,
                Shift.starts_at >= not_before)
        if sqlite:  # no row locks: a no-op write takes the database's write lock before we read
            db.session.execute(update(Shift).where(*week).values(guards_needed=Shift.guards_needed)
                               .execution_options(synchronize_session=False))
        shifts += db.session.scalars(select(Shift).where(*week).order_by(Shift.id).with_for_update(key_share=True)
                                     .execution_options(populate_existing=True)).all()
    week_start = min(week_starts) if week_starts else local_week_start("Asia/Shanghai", monday)
    seated: dict[int, list[int]] = {}
    for sid, gid in db.session.execute(select(ShiftAssignment.shift_id, ShiftAssignment.guard_id).where(
            ShiftAssignment.shift_id.in_([s.id for s in shifts] or [-1]))):
        seated.setdefault(sid, []).append(gid)
    # Shifts already full are still given: their seats are work the guards cannot do twice.
    slots = [ShiftSlot(id=s.id, gate_id=s.gate_id, start=s.starts_at, end=s.ends_at, needed=s.guards_needed,
                       assigned_guard_ids=tuple(sorted(seated.get(s.id, ())))) for s in shifts]
    guards = _pool(compounds)
    gate_ids: dict[int, list[int]] = {}
    for gate_id, compound_id in db.session.execute(select(Gate.id, Gate.compound_id).where(
            Gate.compound_id.in_([c.id for c in compounds] or [-1]), Gate.is_open.is_(True))):
        gate_ids.setdefault(compound_id, []).append(gate_id)
    window_end = max((s.ends_at for s in shifts), default=week_start + timedelta(days=7))
    infos = guard_infos(guards, week_start, max(window_end, week_start + timedelta(days=7)), {s.id for s in shifts},
                        _usual_gates(guards, week_start, gate_ids))
    config = current_app.config
    try:
        solution = solve_roster(slots, infos, solver_rules(week_start), seed=SEED,
                                max_seconds=max_seconds or float(config.get("ROSTER_AUTOFILL_SECONDS", 8)),
                                workers=workers or int(config.get("ROSTER_AUTOFILL_WORKERS", 2)))
    except ValueError as exc:
        raise UnprocessableError("solver_input_invalid", detail=str(exc)) from exc
    by_id = {s.id: s for s in shifts}
    db.session.add_all([ShiftAssignment(shift_id=sid, guard_id=gid, compound_id=by_id[sid].compound_id,
                                        gate_id=by_id[sid].gate_id, starts_at=by_id[sid].starts_at,
                                        ends_at=by_id[sid].ends_at, source="autofill",
                                        created_by_id=user.id if user else None)
                        for sid, gid in solution.assignments])
    db.session.flush()
    _close_filled_loans([s.id for s in shifts], {u.shift_id for u in solution.unfilled})
    return {"status": solution.status, "week_start": monday, "shifts_considered": len(shifts),
            "filled": len(solution.assignments),
            "assignments": [{"shift_id": sid, "guard_id": gid} for sid, gid in solution.assignments],
            "unfilled": [{"shift_id": u.shift_id, "gate_id": by_id[u.shift_id].gate_id,
                          "starts_at": by_id[u.shift_id].starts_at, "ends_at": by_id[u.shift_id].ends_at,
                          "missing": u.missing, "reason": u.reason} for u in solution.unfilled],
            "hours_by_guard": [{"guard_id": gid, "hours": h} for gid, h in sorted(solution.hours_by_guard.items())]}


def _close_filled_loans(shift_ids: list[int], still_open: set[int]) -> None:
    """A posted shift that auto-fill covered no longer needs a guard from the alliance."""
    full = [sid for sid in shift_ids if sid not in still_open]
    if full:
        db.session.execute(update(LoanRequest).where(LoanRequest.shift_id.in_(full), LoanRequest.status == "open")
                           .values(status="filled", closed_at=utcnow()))
