"""The roster rules, in one place: who may stand which shift.

Used by manual assignment, swap approval, lending acceptance, and to build the auto-fill solver's
input. Labour rules, for one guard across every compound they work at (lent shifts included):
  * ``roster_overlap``     no two overlapping shifts;
  * ``roster_min_rest``    at least the minimum rest (8 h by default) between two shifts; exactly
                           the minimum is allowed;
  * ``roster_week_hours``  at most the weekly hours (48 by default) in each local calendar week
                           (Monday 00:00 in the shift compound's time zone); a shift crossing the
                           week boundary counts in each week for the part lying in it; exactly the
                           limit is allowed;
  * ``roster_on_leave``    never during leave or declared unavailability.
A violation answers 409 with ``rule`` and ``shift_ids`` (the new shift and those it clashes with).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select, update

from server import messages
from server.errors import ConflictError, UnprocessableError
from server.extensions import db
from server.models.compounds import Compound
from server.models.people import User
from server.models.rosters import GuardLeave, Shift, ShiftAssignment
from server.plumbing.caretakers import acting_company_id
from server.plumbing.clock import utcnow
from server.services.roster.roster_incident_duty import INCIDENT_DUTY, duty_clashes, duty_windows
from server.services.roster.roster_solver import GuardInfo, RosterRules

OVERLAP, MIN_REST, WEEK_HOURS, ON_LEAVE = "roster_overlap", "roster_min_rest", "roster_week_hours", "roster_on_leave"
WEEK = timedelta(days=7)

messages.register({
    OVERLAP: ("该保安在此时段已有其他班次", "The guard already has an overlapping shift"),
    MIN_REST: ("两个班次之间的休息时间不足", "Not enough rest between two shifts"),
    WEEK_HOURS: ("超出每周最长工作时间", "Over the weekly hours limit"),
    ON_LEAVE: ("该保安在此时段请假或不可排班", "The guard is on leave or unavailable then"),
    INCIDENT_DUTY: ("该保安在此时段已派往应急救援", "The guard is pledged to an emergency incident then"),
    "shift_cancelled": ("该班次已取消", "The shift is cancelled"),
    "shift_over": ("该班次已结束", "The shift is over"),
    "shift_full": ("该班次人数已满", "The shift already has all its guards"),
    "already_assigned": ("该保安已在此班次", "The guard is already on this shift"),
    "guard_not_eligible": ("该保安不能在此小区排班", "This guard cannot be rostered at this compound"),
})


@dataclass(frozen=True)
class RosterPolicy:
    """The labour limits in force (from ROSTER_MIN_REST_HOURS / ROSTER_MAX_WEEK_HOURS config)."""

    min_rest: timedelta = timedelta(hours=8)
    max_week_hours: float = 48


@dataclass(frozen=True)
class Booking:
    """A stretch of work of one guard: a shift they stand or would stand."""

    shift_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Violation:
    """A broken rule, with the shifts involved (the candidate first) and details."""

    rule: str
    shift_ids: tuple[int, ...]
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The JSON form used in error bodies and auto-fill reports."""
        return {"rule": self.rule, "shift_ids": list(self.shift_ids), **self.detail}


def policy() -> RosterPolicy:
    """The policy configured for this app (defaults: 8 h rest, 48 h a week)."""
    config = current_app.config
    return RosterPolicy(min_rest=timedelta(hours=float(config.get("ROSTER_MIN_REST_HOURS", 8))),
                        max_week_hours=float(config.get("ROSTER_MAX_WEEK_HOURS", 48)))


def local_week_start(tz_name: str, day: date) -> datetime:
    """The UTC instant of Monday 00:00 local of the week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, time.min, tzinfo=ZoneInfo(tz_name)).astimezone(UTC)


def _weeks_touched(start: datetime, end: datetime, tz_name: str) -> list[tuple[datetime, datetime]]:
    local = start.astimezone(ZoneInfo(tz_name)).date()
    monday = local - timedelta(days=local.weekday())
    weeks = []
    while (w0 := local_week_start(tz_name, monday)) < end:
        monday += timedelta(days=7)
        weeks.append((w0, local_week_start(tz_name, monday)))
    return weeks


def _seconds_within(a0: datetime, a1: datetime, w0: datetime, w1: datetime) -> float:
    return max(0.0, (min(a1, w1) - max(a0, w0)).total_seconds())


def check_booking(candidate: Booking, bookings: Iterable[Booking], absences: Iterable[tuple[int, datetime, datetime, str]],
                  rules: RosterPolicy, tz_name: str) -> list[Violation]:
    """Every rule the candidate shift breaks against a guard's other work and absences (pure)."""
    c0, c1 = candidate.starts_at, candidate.ends_at
    others = sorted((b for b in bookings if b.shift_id != candidate.shift_id), key=lambda b: (b.starts_at, b.shift_id))
    out: list[Violation] = []
    overlapping = [b.shift_id for b in others if b.starts_at < c1 and c0 < b.ends_at]
    if overlapping:
        out.append(Violation(OVERLAP, (candidate.shift_id, *overlapping)))
    rest = rules.min_rest
    too_close = [b.shift_id for b in others if b.shift_id not in overlapping
                 and b.starts_at < c1 + rest and c0 < b.ends_at + rest]
    if too_close:
        out.append(Violation(MIN_REST, (candidate.shift_id, *too_close),
                             {"min_rest_hours": rest.total_seconds() / 3600}))
    cap = rules.max_week_hours * 3600
    for w0, w1 in _weeks_touched(c0, c1, tz_name):
        in_week = [b for b in others if b.starts_at < w1 and w0 < b.ends_at]
        total = _seconds_within(c0, c1, w0, w1) + sum(_seconds_within(b.starts_at, b.ends_at, w0, w1) for b in in_week)
        if total > cap:
            out.append(Violation(WEEK_HOURS, (candidate.shift_id, *(b.shift_id for b in in_week)),
                                 {"week_start": w0.isoformat(), "hours": round(total / 3600, 2),
                                  "max_week_hours": rules.max_week_hours}))
    leaves = [(lid, kind) for lid, a, b, kind in absences if a < c1 and c0 < b]
    if leaves:
        out.append(Violation(ON_LEAVE, (candidate.shift_id,), {"leave_ids": [lid for lid, _ in leaves]}))
    return out


def guard_bookings(guard_id: int, start: datetime, end: datetime,
                   ignore_assignment_ids: Iterable[int] = ()) -> list[Booking]:
    """A guard's assignments touching [start, end), anywhere in the alliance."""
    query = select(ShiftAssignment.shift_id, ShiftAssignment.starts_at, ShiftAssignment.ends_at).where(
        ShiftAssignment.guard_id == guard_id, ShiftAssignment.starts_at < end, ShiftAssignment.ends_at > start)
    ignore = list(ignore_assignment_ids)
    if ignore:
        query = query.where(ShiftAssignment.id.not_in(ignore))
    return [Booking(*row) for row in db.session.execute(query)]


def guard_absences(guard_id: int, start: datetime, end: datetime) -> list[tuple[int, datetime, datetime, str]]:
    """A guard's leave and unavailability touching [start, end)."""
    return [tuple(row) for row in db.session.execute(
        select(GuardLeave.id, GuardLeave.starts_at, GuardLeave.ends_at, GuardLeave.kind).where(
            GuardLeave.guard_id == guard_id, GuardLeave.starts_at < end, GuardLeave.ends_at > start))]


def assignment_violations(guard_id: int, shift: Shift, tz_name: str, *,
                          ignore_assignment_ids: Iterable[int] = ()) -> list[Violation]:
    """The labour rules a guard would break by standing this shift."""
    rules = policy()
    weeks = _weeks_touched(shift.starts_at, shift.ends_at, tz_name)
    start = min(weeks[0][0], shift.starts_at - rules.min_rest)
    end = max(weeks[-1][1], shift.ends_at + rules.min_rest)
    bookings = guard_bookings(guard_id, start, end, ignore_assignment_ids)
    candidate = Booking(shift.id, shift.starts_at, shift.ends_at)
    out = check_booking(candidate, bookings, guard_absences(guard_id, shift.starts_at, shift.ends_at), rules, tz_name)
    duty = duty_clashes(guard_id, shift.starts_at, shift.ends_at)
    if duty:
        out.append(Violation(INCIDENT_DUTY, (shift.id,), {"incident_ids": sorted({i for i, _ in duty}),
                                                          "pledge_ids": [p for _, p in duty]}))
    return out


def raise_violations(violations: list[Violation]) -> None:
    """Answer 409 naming the first broken rule and its shifts, with every violation listed."""
    if violations:
        first = violations[0]
        raise ConflictError(first.rule, rule=first.rule, shift_ids=list(first.shift_ids),
                            violations=[v.as_dict() for v in violations])


def check_guard_eligible(guard: User | None, compound: Compound, *, lent: bool = False) -> User:
    """A guard of the company acting for the compound (its own or its caretaker), or posted there, or
    any guard of the alliance when lent."""
    ok = (guard is not None and guard.role == "guard" and guard.is_active and guard.alliance_id == compound.alliance_id
          and (lent or guard.compound_id == compound.id
               or (guard.company_id is not None and guard.company_id == acting_company_id(compound))))
    if not ok:
        raise UnprocessableError("guard_not_eligible", errors={"json": {"guard_id": ["not a guard who may work here"]}})
    return guard


def check_shift_open(shift: Shift, guard_id: int, *, ignore_assignment_ids: Iterable[int] = ()) -> None:
    """409 when the shift is cancelled, over, full, or already has this guard."""
    if shift.status != "open":
        raise ConflictError("shift_cancelled", shift_ids=[shift.id])
    if shift.ends_at <= utcnow():
        raise ConflictError("shift_over", shift_ids=[shift.id])
    ignore = list(ignore_assignment_ids)
    seated = select(ShiftAssignment.guard_id).where(ShiftAssignment.shift_id == shift.id)
    if ignore:
        seated = seated.where(ShiftAssignment.id.not_in(ignore))
    guards = set(db.session.scalars(seated))
    if guard_id in guards:
        raise ConflictError("already_assigned", shift_ids=[shift.id])
    if len(guards) >= shift.guards_needed:
        raise ConflictError("shift_full", shift_ids=[shift.id])


def hold_shifts(shift_ids: Iterable[int]) -> None:
    """Lock these shifts until the commit with a no-op UPDATE.

    On PostgreSQL that locks the rows (NO KEY UPDATE: inserts referencing them still go through);
    on SQLite it takes the database's write lock. Either way what this transaction reads next about
    the shifts' seats cannot change under it before it commits.
    """
    ids = list(shift_ids)
    if ids:
        db.session.execute(update(Shift).where(Shift.id.in_(ids)).values(guards_needed=Shift.guards_needed)
                           .execution_options(synchronize_session=False))


def change_status(obj, sources: tuple[str, ...], reason: str, **values) -> None:
    """``UPDATE ... SET values WHERE id = :id AND status IN :sources``; of two concurrent changes one applies.

    The loser changes nothing and answers 409 ``reason`` with the current status. ``obj`` is
    refreshed either way, so it shows what the database holds.
    """
    model = type(obj)
    applied = db.session.execute(update(model).where(model.id == obj.id, model.status.in_(sources)).values(**values)
                                 .execution_options(synchronize_session=False)).rowcount
    db.session.refresh(obj)
    if applied != 1:
        raise ConflictError(reason, status=obj.status)


def lock_guards(guard_ids: Iterable[int]) -> None:
    """Lock these guards' rows until the commit, in id order (NO KEY UPDATE, as ``lock_for_assignment``).

    SQLite has no row locks: a no-op write takes the database's write lock instead, so what this
    transaction reads next about the guards cannot change under it.
    """
    ids = sorted(set(guard_ids))
    if not ids:
        return
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(update(User).where(User.id == ids[0]).values(role=User.role)
                           .execution_options(synchronize_session=False))
    else:
        db.session.scalars(select(User.id).where(User.id.in_(ids)).order_by(User.id)
                           .with_for_update(key_share=True)).all()


def lock_for_assignment(shift: Shift, guard_id: int) -> User | None:
    """Lock the shift, then the guard, for the transaction, and return the guard.

    Two requests filling the same shift, or booking the same guard, then take turns, so the seat
    count and the rest and hours rules hold under concurrency too. Always shift first, then guard.
    """
    hold_shifts([shift.id])
    db.session.refresh(shift)  # read after the lock: it may have been cancelled meanwhile
    return db.session.scalar(select(User).where(User.id == guard_id).with_for_update(key_share=True))


def enforce_assignment(guard_id: int, shift: Shift, compound: Compound, *, lent: bool = False,
                       ignore_assignment_ids: Iterable[int] = ()) -> User:
    """Every check before a guard is put on a shift; raises 409/422, returns the (locked) guard."""
    guard = check_guard_eligible(lock_for_assignment(shift, guard_id), compound, lent=lent)
    ignore = tuple(ignore_assignment_ids)
    check_shift_open(shift, guard.id, ignore_assignment_ids=ignore)
    raise_violations(assignment_violations(guard.id, shift, compound.timezone, ignore_assignment_ids=ignore))
    return guard


def solver_rules(week_start: datetime) -> RosterRules:
    """The solver's rules for a week starting at ``week_start`` (local Monday 00:00, in UTC)."""
    rules = policy()
    return RosterRules(min_rest=rules.min_rest, max_week_hours=rules.max_week_hours, week_start=week_start)


def guard_infos(guards: Iterable[User], start: datetime, end: datetime, filling_shift_ids: set[int],
                usual_gate_ids: dict[int, frozenset[int]]) -> list[GuardInfo]:
    """Solver input for guards: absences and work outside the shifts being filled, around [start, end)."""
    guards = list(guards)
    ids = [g.id for g in guards]
    margin = policy().min_rest
    unavailable: dict[int, list] = {gid: [] for gid in ids}
    fixed: dict[int, list] = {gid: [] for gid in ids}
    if ids:
        for gid, a, b in db.session.execute(select(GuardLeave.guard_id, GuardLeave.starts_at, GuardLeave.ends_at).where(
                GuardLeave.guard_id.in_(ids), GuardLeave.starts_at < end + margin, GuardLeave.ends_at > start - margin)):
            unavailable[gid].append((a, b))
        for gid, windows in duty_windows(ids, start - margin, end + margin).items():
            unavailable[gid].extend(windows)
        for gid, sid, a, b in db.session.execute(select(
                ShiftAssignment.guard_id, ShiftAssignment.shift_id, ShiftAssignment.starts_at, ShiftAssignment.ends_at
        ).where(ShiftAssignment.guard_id.in_(ids), ShiftAssignment.starts_at < end + margin,
                ShiftAssignment.ends_at > start - margin)):
            if sid not in filling_shift_ids:
                fixed[gid].append((a, b))
    return [GuardInfo(id=gid, usual_gate_ids=usual_gate_ids.get(gid, frozenset()),
                      unavailable=tuple(sorted(unavailable[gid])), fixed_commitments=tuple(sorted(fixed[gid])))
            for gid in ids]
