"""Roster auto-fill: fill open shifts from the available guards with OR-Tools CP-SAT.

Pure: frozen dataclasses in, frozen dataclasses out; no Flask, no database.

Rules honoured for every guard, counting new seats, seats already assigned and fixed commitments
(work outside the shifts being filled, e.g. lent to another company):
  * no two overlapping shifts;
  * at least ``min_rest`` between the end of one and the start of the next (exactly ``min_rest`` is
    allowed);
  * at most ``max_week_hours`` per week; weeks are 7-day windows from ``RosterRules.week_start``
    (default: the earliest shift start) and a shift crossing a week boundary counts in each week for
    the part that lies in it;
  * never during an unavailable interval (leave, off duty).

Objective, in this order of priority: fill as many seats as possible (coverage is soft, so an
impossible week still gets its best partial roster), then spread roster hours fairly (sum of
deviations from a common level, plus the gap between the busiest and the least busy guard who can
still be given work), then prefer each guard's usual gates.

Determinism: inputs are sorted, the search is CP-SAT's deterministic interleaved search
(``interleave_search``) with a fixed ``random_seed`` and ``num_workers``, bounded by a deterministic
time budget; ``max_seconds`` is only a wall-clock safety net.

Unfilled reason codes (stable, for clients to branch on):
  ``no_guard_available``  no guard other than those already on the shift is free at that time at
                          all: each is on leave/unavailable, or busy with an overlapping shift or
                          commitment.
  ``rest_or_hours``       some guard was free at that time, but each one was blocked by the
                          minimum rest or the weekly hours rule, or the optimum needed them elsewhere.
  ``not_solved``          the solver found no roster within its time budget (status ``unknown``).

Statuses: ``optimal`` (proven best), ``feasible`` (best found within the budget),
``infeasible_input`` (the input already breaks a rule: a pre-assigned seat overlaps, lacks rest,
falls in an unavailable interval or exceeds the weekly hours of its guard; the new assignments are
still valid and the best found), ``unknown`` (nothing found; every open seat is ``not_solved``).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce

from ortools.sat.python import cp_model

NO_GUARD_AVAILABLE = "no_guard_available"
REST_OR_HOURS = "rest_or_hours"
NOT_SOLVED = "not_solved"

WEEK = timedelta(days=7)
# Deterministic-time units per second of max_seconds: on the 2-core reference machine the solver
# spends well under half of max_seconds to use this budget, so the wall-clock net rarely fires.
DTIME_PER_SECOND = 0.5
FAIRNESS_WEIGHT = 2  # per unit of deviation (the gcd of shift lengths); usual gate is worth 1


@dataclass(frozen=True)
class ShiftSlot:
    """A shift to fill: ``needed`` seats, some maybe already taken by ``assigned_guard_ids``."""

    id: int
    gate_id: int
    start: datetime
    end: datetime
    needed: int
    assigned_guard_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class GuardInfo:
    """A guard who may be given shifts, with the times they cannot work or already work."""

    id: int
    usual_gate_ids: frozenset[int] = frozenset()
    unavailable: tuple[tuple[datetime, datetime], ...] = ()
    fixed_commitments: tuple[tuple[datetime, datetime], ...] = ()


@dataclass(frozen=True)
class RosterRules:
    """Labour rules; ``week_start`` anchors the weekly-hours windows (default: first shift start)."""

    min_rest: timedelta = timedelta(hours=8)
    max_week_hours: float = 48
    week_start: datetime | None = None


@dataclass(frozen=True)
class Unfilled:
    """Seats of one shift left open, with a reason code (see the module docstring)."""

    shift_id: int
    missing: int
    reason: str


@dataclass(frozen=True)
class RosterSolution:
    """New (shift_id, guard_id) pairs (sorted), what is left open, the status and roster hours."""

    assignments: tuple[tuple[int, int], ...]
    unfilled: tuple[Unfilled, ...]
    status: str
    hours_by_guard: dict[int, float]


def _overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


def _aware(*moments: datetime) -> bool:
    return all(m.tzinfo is not None and m.utcoffset() is not None for m in moments)


def _validate(shifts, guards, rules, max_seconds, workers) -> None:
    if len({s.id for s in shifts}) != len(shifts) or len({g.id for g in guards}) != len(guards):
        raise ValueError("duplicate shift or guard id")
    for s in shifts:
        if not _aware(s.start, s.end) or s.end <= s.start or s.needed < 1:
            raise ValueError(f"shift {s.id}: needs aware start < end and needed >= 1")
        if len(set(s.assigned_guard_ids)) != len(s.assigned_guard_ids):
            raise ValueError(f"shift {s.id}: a guard is assigned twice")
    for g in guards:
        for a, b in g.unavailable + g.fixed_commitments:
            if not _aware(a, b) or b <= a:
                raise ValueError(f"guard {g.id}: intervals need aware start < end")
    if rules.min_rest < timedelta(0) or rules.max_week_hours < 0 or max_seconds <= 0 or workers < 1:
        raise ValueError("min_rest, max_week_hours and max_seconds must be >= 0, workers >= 1")
    if rules.week_start is not None and not _aware(rules.week_start):
        raise ValueError("week_start must be timezone-aware")


def _week_seconds(start: datetime, end: datetime, origin: datetime) -> dict[int, int]:
    """Seconds of [start, end) falling in each 7-day window counted from ``origin``."""
    out: dict[int, int] = {}
    week = math.floor((start - origin) / WEEK)
    while origin + week * WEEK < end:
        w0, w1 = origin + week * WEEK, origin + (week + 1) * WEEK
        secs = int((min(end, w1) - max(start, w0)).total_seconds())
        if secs > 0:
            out[week] = secs
        week += 1
    return out


def _add_weeks(total: dict[int, int], more: dict[int, int]) -> None:
    for week, secs in more.items():
        total[week] = total.get(week, 0) + secs


def solve_roster(
    shifts: Iterable[ShiftSlot],
    guards: Iterable[GuardInfo],
    rules: RosterRules = RosterRules(),
    *,
    seed: int = 7,
    max_seconds: float = 8.0,
    workers: int = 2,
) -> RosterSolution:
    """Fill the open seats of ``shifts`` from ``guards`` under ``rules`` (see the module docstring).

    Raises ValueError on malformed input (naive datetimes, end <= start, needed < 1, duplicate ids).
    The same input and arguments give the same solution. ``hours_by_guard`` has every guard's
    hours on the given shifts (seats already assigned plus new ones), fixed commitments excluded.
    """
    shifts = sorted(shifts, key=lambda s: (s.start, s.end, s.id))
    guards = sorted(guards, key=lambda g: g.id)
    _validate(shifts, guards, rules, max_seconds, workers)
    if not shifts:
        return RosterSolution((), (), "optimal", {g.id: 0.0 for g in guards})
    rest = rules.min_rest
    cap = round(rules.max_week_hours * 3600)
    origin = rules.week_start or shifts[0].start
    week_secs = {s.id: _week_seconds(s.start, s.end, origin) for s in shifts}
    unit = reduce(math.gcd, (int((s.end - s.start).total_seconds()) for s in shifts))
    units = {s.id: int((s.end - s.start).total_seconds()) // unit for s in shifts}

    # Fixed work per guard: commitments, and seats already assigned among the given shifts.
    by_id = {g.id: g for g in guards}
    fixed: dict[int, list[tuple[datetime, datetime, bool]]] = {g.id: [] for g in guards}
    fixed_weeks: dict[int, dict[int, int]] = {g.id: {} for g in guards}
    fixed_units = dict.fromkeys(by_id, 0)
    for g in guards:
        for a, b in g.fixed_commitments:
            fixed[g.id].append((a, b, False))
            _add_weeks(fixed_weeks[g.id], _week_seconds(a, b, origin))
    for s in shifts:
        for gid in s.assigned_guard_ids:
            if gid in by_id:
                fixed[gid].append((s.start, s.end, True))
                _add_weeks(fixed_weeks[gid], week_secs[s.id])
                fixed_units[gid] += units[s.id]
    bad_input = any(_fixed_breaks_rules(by_id[gid], items, fixed_weeks[gid], origin, rest, cap)
                    for gid, items in fixed.items())

    # Open seats grouped in slots of identical times: as far as the rules go a guard may take any gate
    # of a slot, so the model decides who works each slot, naming the shift only at the guard's usual
    # gates (for the bonus); the other seats of the slot are handed out after the solve.
    open_shifts = [s for s in shifts if s.needed > len(s.assigned_guard_ids)]
    seats = {s.id: s.needed - len(s.assigned_guard_ids) for s in open_shifts}
    slots: dict[tuple[datetime, datetime], list[ShiftSlot]] = {}
    for s in open_shifts:
        slots.setdefault((s.start, s.end), []).append(s)
    slot_weeks = {k: week_secs[v[0].id] for k, v in slots.items()}
    slot_units = {k: units[v[0].id] for k, v in slots.items()}

    # Pre-filter: booleans only where a guard is free (leave, commitments, seats held) and breaks
    # neither the rest nor the hours rule against their fixed work.
    model = cp_model.CpModel()
    free: dict[tuple[datetime, datetime], list[int]] = {k: [] for k in slots}
    lits: dict[int, dict[tuple[datetime, datetime], list]] = {g.id: {} for g in guards}
    named: dict[int, list] = {s.id: [] for s in open_shifts}  # shift id -> its usual-gate booleans
    anywhere: dict[tuple[int, tuple[datetime, datetime]], object] = {}  # (guard, slot) -> boolean
    for g in guards:
        busy = list(g.unavailable) + [(a, b) for a, b, _ in fixed[g.id]]
        for k, members in slots.items():
            if any(_overlaps(k[0], k[1], a, b) for a, b in busy):
                continue
            free[k].append(g.id)
            if any(_overlaps(k[0], k[1] + rest, a, b + rest) for a, b, _ in fixed[g.id]) or any(
                    fixed_weeks[g.id].get(w, 0) + secs > cap for w, secs in slot_weeks[k].items()):
                continue
            lits[g.id][k] = []
            for s in members:
                if s.gate_id in g.usual_gate_ids:
                    var = model.NewBoolVar(f"g{g.id}_s{s.id}")
                    named[s.id].append(var)
                    lits[g.id][k].append(var)
            if len(lits[g.id][k]) < len(members):
                anywhere[(g.id, k)] = model.NewBoolVar(f"g{g.id}_t{members[0].id}")
                lits[g.id][k].append(anywhere[(g.id, k)])
    for s in open_shifts:
        if len(named[s.id]) > seats[s.id]:
            model.Add(sum(named[s.id]) <= seats[s.id])
    for k, members in slots.items():
        model.Add(sum(v for g in guards for v in lits[g.id].get(k, ())) <= sum(seats[s.id] for s in members))

    # No overlap and min rest: slots whose [start, end + rest) contain a common start form a clique
    # (Helly property of intervals); the maximal cliques cover every conflicting pair.
    cliques: list[list[tuple[datetime, datetime]]] = []
    for t in sorted({k[0] for k in slots}):
        members = [k for k in sorted(slots) if k[0] <= t < k[1] + rest]
        if cliques and set(cliques[-1]) <= set(members):
            cliques[-1] = members
        else:
            cliques.append(members)
    hours: dict[int, object] = {}
    for g in guards:
        mine = lits[g.id]
        if not mine:
            continue
        for clique in cliques:
            group = [v for k in clique for v in mine.get(k, ())]
            if len(group) > 1:
                model.AddAtMostOne(group)
        by_week: dict[int, list] = {}
        for k, group in mine.items():
            for w, secs in slot_weeks[k].items():
                by_week.setdefault(w, []).extend((secs, v) for v in group)
        for w, terms in sorted(by_week.items()):
            room = cap - fixed_weeks[g.id].get(w, 0)
            if sum(secs for secs, _ in terms) > room:
                model.Add(sum(secs * v for secs, v in terms) <= room)
        hours[g.id] = fixed_units[g.id] + sum(slot_units[k] * v for k, group in mine.items() for v in group)

    # Objective: coverage >> fairness >> usual gate. Fairness is a convex cost on each guard's hours
    # (the k-th step of `step` units costs k, like a sum of squares), so work flows to whoever has
    # least; an even spread (within one step) is the cheapest.
    every = [v for g in guards for group in lits[g.id].values() for v in group]
    usual = [v for vs in named.values() for v in vs]
    step = min(Counter(slot_units.values()).most_common(), key=lambda kv: (-kv[1], kv[0]))[0] if slots else 1
    n_weeks = len({w for weeks in slot_weeks.values() for w in weeks})
    fairness, fair_max = [], 0
    for g in guards:
        if g.id not in hours:
            continue
        reach = sum(slot_units[k] for k in lits[g.id])
        top = fixed_units[g.id] + min(reach, n_weeks * cap // unit)
        n_steps = max(1, -(-top // step))
        parts = [model.NewIntVar(0, step if j < n_steps else top, f"h{g.id}_{j}") for j in range(1, n_steps + 1)]
        model.Add(sum(parts) == hours[g.id])
        fairness += [(j, part) for j, part in enumerate(parts, 1)]
        fair_max += n_steps * (top + step)
    weight = 1 + len(usual) + FAIRNESS_WEIGHT * fair_max
    model.Maximize(weight * sum(every) + sum(usual) - FAIRNESS_WEIGHT * sum(j * p for j, p in fairness))

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = workers
    params.interleave_search = workers > 1
    params.max_deterministic_time = max_seconds * DTIME_PER_SECOND
    params.max_time_in_seconds = max_seconds
    code = solver.Solve(model) if every else cp_model.OPTIMAL
    solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return _extract(solver if every and solved else None, code, bad_input, shifts, guards, slots,
                    lits, seats, free, fixed_units, units, unit)


def _extract(solver, code, bad_input, shifts, guards, slots, lits, seats, free, fixed_units, units, unit):
    """Read the chosen booleans, hand out the 'any gate' seats of each slot, explain what is left."""
    solved = code in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    left = dict(seats)
    chosen: list[tuple[int, int]] = []
    works: dict[int, list[tuple[datetime, datetime]]] = {}
    anywhere: dict[tuple[datetime, datetime], list[int]] = {}
    for g in guards:
        for k, group in lits[g.id].items():
            for var, s in zip(group, [s for s in slots[k] if s.gate_id in g.usual_gate_ids] + [None]):
                if solver is not None and solver.Value(var):
                    works.setdefault(g.id, []).append(k)
                    if s is None:
                        anywhere.setdefault(k, []).append(g.id)
                    else:
                        chosen.append((s.id, g.id))
                        left[s.id] -= 1
    for k, gids in anywhere.items():
        for gid in gids:
            usual = next(g for g in guards if g.id == gid).usual_gate_ids
            s = min((s for s in slots[k] if left[s.id] > 0), key=lambda s: (s.gate_id not in usual, s.id))
            chosen.append((s.id, gid))
            left[s.id] -= 1
    hours = {g.id: fixed_units[g.id] * unit / 3600 for g in guards}
    for sid, gid in chosen:
        hours[gid] += units[sid] * unit / 3600
    unfilled = []
    for k, members in slots.items():
        # Everyone free at that time is already working at that time: nobody was available.
        idle = [gid for gid in free[k] if not any(_overlaps(k[0], k[1], a, b) for a, b in works.get(gid, ()))]
        for s in members:
            if left[s.id] > 0:
                reason = NOT_SOLVED if not solved else REST_OR_HOURS if idle else NO_GUARD_AVAILABLE
                unfilled.append(Unfilled(s.id, left[s.id], reason))
    status = ("unknown" if not solved else "infeasible_input" if bad_input else
              "optimal" if code == cp_model.OPTIMAL else "feasible")
    return RosterSolution(tuple(sorted(chosen)), tuple(sorted(unfilled, key=lambda u: u.shift_id)),
                          status, hours)


def _fixed_breaks_rules(guard, items, weeks, origin, rest, cap) -> bool:
    """True if a guard's pre-assigned seats already break a rule (commitments alone are not judged)."""
    items = sorted(items)
    for i, (a0, a1, seat_a) in enumerate(items):
        if seat_a and any(_overlaps(a0, a1, u0, u1) for u0, u1 in guard.unavailable):
            return True
        for b0, b1, seat_b in items[i + 1:]:
            if b0 >= a1 + rest:
                break
            if seat_a or seat_b:
                return True
    seat_weeks: set[int] = set()
    for a0, a1, seat in items:
        if seat:
            seat_weeks.update(_week_seconds(a0, a1, origin))
    return any(weeks.get(w, 0) > cap for w in seat_weeks)
