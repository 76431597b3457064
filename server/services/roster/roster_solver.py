"""Roster auto-fill: fill the open seats of a week's shifts from the available guards with CP-SAT.

Pure: frozen dataclasses in, frozen dataclasses out; no Flask, no database.

Rules, for every guard, counting new seats, seats already assigned and fixed commitments (work
outside these shifts, e.g. lent to another company): no two overlapping shifts; at least
``min_rest`` from the end of one to the start of the next (exactly ``min_rest`` is allowed); at most
``max_week_hours`` per week, weeks being 7-day windows from ``RosterRules.week_start`` (default: the
earliest shift start), a shift across a boundary counting in each week for its part there; nothing
during an unavailable interval (leave). A guard on leave needs no rest before or after it.

Objective, by priority: fill as many seats as possible (coverage is soft: an impossible week still
gets its best partial roster); spread roster hours fairly (a convex cost on each guard's hours, so
the even spread is cheapest); then put guards at their usual gates.

Determinism: inputs are sorted, CP-SAT runs its deterministic interleaved search with a fixed seed
and worker count, bounded by a deterministic time budget; ``max_seconds`` is only a wall-clock
safety net (if it fires, on a badly overloaded machine, the roster is valid but may differ).

Unfilled reason codes, stable for clients to branch on:
  ``no_guard_available``  nobody could take the seat at that time at all: every guard is on leave,
                          busy with a commitment or another seat that overlaps, or already on it.
  ``rest_or_hours``       some guard was idle at that time, but each was blocked by the rest or the
                          weekly-hours rule, or the optimum needed them for other shifts.
Statuses: ``optimal`` (proven best), ``feasible`` (best found in the budget; if the solver found
nothing in time, the greedy roster it starts from, which is valid), ``infeasible_input`` (a seat
already held breaks a rule for its guard - overlap, rest, leave or weekly hours; the new assignments
are still valid and the best found).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ortools.sat.python import cp_model

# OR-Tools is imported where a roster is solved: with numpy and pandas it weighs about 60 MB in every
# web worker that never auto-fills a roster (a worker's budget is 150 MB).

NO_GUARD_AVAILABLE = "no_guard_available"
REST_OR_HOURS = "rest_or_hours"

WEEK = timedelta(days=7)
# Deterministic time allowed per second of max_seconds. On the 2-core reference machine one unit
# takes about one wall second with 2 workers, so the wall-clock net only fires under heavy load.
DTIME_PER_SECOND = 0.5
# LP-based full-problem workers suit this assignment model; others (no_lp above all) overran their
# deterministic-time slices up to 10x in wall time, and an interleaved batch waits for its slowest.
SUBSOLVERS = ("default_lp", "reduced_costs", "max_lp", "quick_restart")
FAIRNESS_WEIGHT = 2  # per hour-step of the convex fairness cost; a usual gate is worth 1

Slot = tuple[datetime, datetime]


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
    """A guard who may be given shifts, with the times they cannot work or already work elsewhere."""

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
    """New (shift_id, guard_id) pairs, sorted; open seats by shift id; status; hours per guard."""

    assignments: tuple[tuple[int, int], ...]
    unfilled: tuple[Unfilled, ...]
    status: str
    hours_by_guard: dict[int, float]


def _overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> bool:
    return a0 < b1 and b0 < a1


def _validate(shifts, guards, rules, max_seconds, workers) -> None:
    aware = lambda *ds: all(d.tzinfo is not None and d.utcoffset() is not None for d in ds)  # noqa: E731
    if len({s.id for s in shifts}) != len(shifts) or len({g.id for g in guards}) != len(guards):
        raise ValueError("duplicate shift or guard id")
    for s in shifts:
        if not aware(s.start, s.end) or s.end <= s.start or s.needed < 1:
            raise ValueError(f"shift {s.id}: needs aware start < end and needed >= 1")
        if len(set(s.assigned_guard_ids)) != len(s.assigned_guard_ids):
            raise ValueError(f"shift {s.id}: a guard is assigned twice")
    for g in guards:
        if not all(aware(a, b) and a < b for a, b in g.unavailable + g.fixed_commitments):
            raise ValueError(f"guard {g.id}: intervals need aware start < end")
    if rules.min_rest < timedelta(0) or rules.max_week_hours < 0 or max_seconds <= 0 or workers < 1:
        raise ValueError("min_rest, max_week_hours must be >= 0; max_seconds > 0; workers >= 1")
    if rules.week_start is not None and not aware(rules.week_start):
        raise ValueError("week_start must be timezone-aware")


def _week_seconds(start: datetime, end: datetime, origin: datetime) -> dict[int, int]:
    """Seconds of [start, end) in each 7-day window counted from ``origin`` (by window index)."""
    out: dict[int, int] = {}
    week = math.floor((start - origin) / WEEK)
    while origin + week * WEEK < end:
        part = min(end, origin + (week + 1) * WEEK) - max(start, origin + week * WEEK)
        if part > timedelta(0):
            out[week] = int(part.total_seconds())
        week += 1
    return out


def solve_roster(
    shifts: Iterable[ShiftSlot],
    guards: Iterable[GuardInfo],
    rules: RosterRules = RosterRules(),
    *,
    seed: int = 7,
    max_seconds: float = 8.0,
    workers: int = 2,
) -> RosterSolution:
    """Fill the open seats of ``shifts`` from ``guards`` under ``rules``; see the module docstring.

    Raises ValueError on malformed input (naive datetimes, end <= start, needed < 1, duplicate ids).
    The same input, seed and workers give the same solution. ``hours_by_guard`` has, for every
    guard given, the hours on these shifts (seats already held plus new ones), commitments excluded.
    Assigned guards missing from ``guards`` still fill their seats but are otherwise ignored.
    """
    shifts = sorted(shifts, key=lambda s: (s.start, s.end, s.id))
    guards = sorted(guards, key=lambda g: g.id)
    _validate(shifts, guards, rules, max_seconds, workers)
    if not shifts:
        return RosterSolution((), (), "optimal", {g.id: 0.0 for g in guards})
    week = _read_week(shifts, guards, rules)
    choices = _choices(week)
    _limit_seats(choices, week)
    fairness, fair_max = _rules_and_fairness(choices, week)
    every = _objective(choices, fairness, fair_max)
    code, chosen_vars = _search(choices, week, every, seed=seed, max_seconds=max_seconds, workers=workers)
    return _read_solution(week, choices, chosen_vars, code)


@dataclass(frozen=True)
class _Week:
    """The input as the model counts it: time in units of the gcd of shift lengths, each guard's fixed
    work (commitments and seats already held), and the open seats grouped in slots of identical times."""

    guards: list[GuardInfo]
    by_id: dict[int, GuardInfo]
    rest: timedelta
    cap: int  # weekly seconds
    unit: int  # seconds
    units: dict[int, int]  # shift -> length in units
    fixed: dict[int, list[tuple[datetime, datetime, bool]]]  # guard -> (start, end, is a seat held)
    fixed_weeks: dict[int, Counter]  # guard -> week -> fixed seconds
    fixed_units: dict[int, int]  # guard -> units of seats held
    bad_input: bool
    open_shifts: list[ShiftSlot]
    seats: dict[int, int]  # open shift -> seats to fill
    slots: dict[Slot, list[ShiftSlot]]
    slot_weeks: dict[Slot, dict[int, int]]
    slot_units: dict[Slot, int]


@dataclass(frozen=True)
class _Choices:
    """The model and its booleans: who may work each slot, and the seats named at usual gates."""

    model: cp_model.CpModel
    free: dict[Slot, list[int]]  # slot -> guards with nothing overlapping it
    lits: dict[int, dict[Slot, list]]  # guard -> slot -> booleans
    named: dict[int, list]  # shift -> its usual-gate booleans


def _read_week(shifts: list[ShiftSlot], guards: list[GuardInfo], rules: RosterRules) -> _Week:
    """The sorted, validated input as the model counts it."""
    by_id = {g.id: g for g in guards}
    rest, cap = rules.min_rest, round(rules.max_week_hours * 3600)
    origin = rules.week_start or shifts[0].start
    secs = {s.id: int((s.end - s.start).total_seconds()) for s in shifts}
    unit = reduce(math.gcd, secs.values())  # hours are counted in units of the gcd of lengths
    units = {sid: n // unit for sid, n in secs.items()}
    fixed, fixed_weeks, fixed_units = _fixed_work(shifts, guards, by_id, origin, unit)
    bad_input = any(_fixed_breaks_rules(by_id[gid], items, fixed_weeks[gid], origin, rest, cap)
                    for gid, items in fixed.items())
    # Open seats grouped in slots of identical times: for the rules a guard may take any gate of a
    # slot, so the model picks who works each slot, naming the shift only at the guard's usual gates
    # (for the bonus) plus one "any other gate" boolean; those seats are handed out after the solve.
    open_shifts = [s for s in shifts if s.needed > len(s.assigned_guard_ids)]
    seats = {s.id: s.needed - len(s.assigned_guard_ids) for s in open_shifts}
    slots: dict[Slot, list[ShiftSlot]] = {}
    for s in open_shifts:
        slots.setdefault((s.start, s.end), []).append(s)
    return _Week(guards=guards, by_id=by_id, rest=rest, cap=cap, unit=unit, units=units, fixed=fixed,
                 fixed_weeks=fixed_weeks, fixed_units=fixed_units, bad_input=bad_input, open_shifts=open_shifts,
                 seats=seats, slots=slots, slot_weeks={k: _week_seconds(k[0], k[1], origin) for k in slots},
                 slot_units={k: units[v[0].id] for k, v in slots.items()})


def _fixed_work(shifts, guards, by_id, origin, unit):
    """Fixed work per guard: commitments and seats already held on these shifts, with its seconds per
    week and the units of the seats held."""
    fixed: dict[int, list[tuple[datetime, datetime, bool]]] = {g.id: [] for g in guards}
    for g in guards:
        fixed[g.id] += [(a, b, False) for a, b in g.fixed_commitments]
    for s in shifts:
        for gid in s.assigned_guard_ids:
            if gid in by_id:
                fixed[gid].append((s.start, s.end, True))
    fixed_weeks: dict[int, Counter] = {g.id: Counter() for g in guards}
    for gid, items in fixed.items():
        for a, b, _ in items:
            fixed_weeks[gid].update(_week_seconds(a, b, origin))
    fixed_units = {gid: sum(int((b - a).total_seconds()) // unit for a, b, seat in items if seat)
                   for gid, items in fixed.items()}
    return fixed, fixed_weeks, fixed_units


def _choices(week: _Week) -> _Choices:
    """Booleans only where a guard is free (no leave, commitment or held seat overlaps) and breaks
    neither the rest nor the weekly-hours rule against their fixed work."""
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    free: dict[Slot, list[int]] = {k: [] for k in week.slots}
    lits: dict[int, dict[Slot, list]] = {g.id: {} for g in week.guards}
    named: dict[int, list] = {s.id: [] for s in week.open_shifts}
    rest, cap = week.rest, week.cap
    for g in week.guards:
        fixed, fixed_weeks = week.fixed[g.id], week.fixed_weeks[g.id]
        busy = list(g.unavailable) + [(a, b) for a, b, _ in fixed]
        for k, members in week.slots.items():
            if any(_overlaps(k[0], k[1], a, b) for a, b in busy):
                continue
            free[k].append(g.id)
            if any(_overlaps(k[0], k[1] + rest, a, b + rest) for a, b, _ in fixed) or any(
                    fixed_weeks[w] + n > cap for w, n in week.slot_weeks[k].items()):
                continue
            group = lits[g.id][k] = []
            for s in members:
                if s.gate_id in g.usual_gate_ids:
                    group.append(model.NewBoolVar(f"g{g.id}_s{s.id}"))
                    named[s.id].append(group[-1])
            if len(group) < len(members):
                group.append(model.NewBoolVar(f"g{g.id}_any{members[0].id}"))
    return _Choices(model, free, lits, named)


def _limit_seats(c: _Choices, week: _Week) -> None:
    """No more guards than open seats, per shift at usual gates and per slot."""
    for s in week.open_shifts:
        if len(c.named[s.id]) > week.seats[s.id]:
            c.model.Add(sum(c.named[s.id]) <= week.seats[s.id])
    for k, members in week.slots.items():
        c.model.Add(sum(v for g in week.guards for v in c.lits[g.id].get(k, ()))
                    <= sum(week.seats[s.id] for s in members))


def _cliques(slots: Iterable[Slot], rest: timedelta) -> list[list[Slot]]:
    """No overlap and min rest: the slots whose [start, end + rest) contain a common start time form a
    clique (Helly property of intervals); the maximal ones cover every conflicting pair."""
    cliques: list[list[Slot]] = []
    for t in sorted({k[0] for k in slots}):
        members = [k for k in sorted(slots) if k[0] <= t < k[1] + rest]
        if cliques and set(cliques[-1]) <= set(members):
            cliques[-1] = members
        else:
            cliques.append(members)
    return cliques


def _rules_and_fairness(c: _Choices, week: _Week) -> tuple[list, int]:
    """Each guard's rest, overlap and weekly-hours constraints, then their fairness cost (guard by guard,
    so the model, and with it the roster found, stays the same); the cost terms and their bound."""
    cliques = _cliques(week.slots, week.rest)
    counts = Counter(week.slot_units.values())
    step = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if week.slots else 1
    fairness, fair_max = [], 0
    for g in week.guards:
        mine = c.lits[g.id]
        if not mine:
            continue
        by_week = _guard_rules(c.model, week, g.id, mine, cliques)
        terms, bound = _fairness(c.model, week, g.id, mine, len(by_week), step)
        fairness += terms
        fair_max += bound
    return fairness, fair_max


def _guard_rules(model: cp_model.CpModel, week: _Week, gid: int, mine: dict[Slot, list],
                 cliques: list[list[Slot]]) -> dict[int, list]:
    """At most one slot of each clique, and the weekly hours; answers the guard's terms by week."""
    for clique in cliques:
        group = [v for k in clique for v in mine.get(k, ())]
        if len(group) > 1:
            model.AddAtMostOne(group)
    by_week: dict[int, list] = {}
    for k, group in mine.items():
        for w, n in week.slot_weeks[k].items():
            by_week.setdefault(w, []).extend((n, v) for v in group)
    for w, terms in sorted(by_week.items()):
        if week.fixed_weeks[gid][w] + sum(n for n, _ in terms) > week.cap:
            model.Add(sum(n * v for n, v in terms) <= week.cap - week.fixed_weeks[gid][w])
    return by_week


def _fairness(model: cp_model.CpModel, week: _Week, gid: int, mine: dict[Slot, list], n_weeks: int,
              step: int) -> tuple[list, int]:
    """A guard's hours cut in steps of the commonest shift length, the j-th step costing j per unit
    (convex: the even spread is cheapest); the cost terms and their bound."""
    top = week.fixed_units[gid] + min(sum(week.slot_units[k] for k in mine), n_weeks * week.cap // week.unit)
    n_steps = max(1, -(-top // step))
    parts = [model.NewIntVar(0, step if j < n_steps else top, f"h{gid}_{j}") for j in range(1, n_steps + 1)]
    model.Add(sum(parts) == week.fixed_units[gid] + sum(week.slot_units[k] * v for k, vs in mine.items() for v in vs))
    return [j * p for j, p in enumerate(parts, 1)], n_steps * (top + step)


def _objective(c: _Choices, fairness: list, fair_max: int) -> list:
    """Seats first, then usual gates, less the fairness cost; answers every seat boolean."""
    every = [v for group_by_slot in c.lits.values() for group in group_by_slot.values() for v in group]
    usual = [v for vs in c.named.values() for v in vs]
    weight = 1 + len(usual) + FAIRNESS_WEIGHT * fair_max  # one more seat outweighs everything else
    c.model.Maximize(weight * sum(every) + sum(usual) - FAIRNESS_WEIGHT * sum(fairness))
    return every


def _search(c: _Choices, week: _Week, every: list, *, seed: int, max_seconds: float,
            workers: int) -> tuple[int, set[int]]:
    """Solve deterministically; the status code and the indices of the booleans chosen."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    params = solver.parameters
    params.random_seed = seed
    params.num_workers = workers
    params.interleave_search = True  # deterministic batches: same input, seed, workers -> same roster
    params.subsolvers.extend(SUBSOLVERS)
    params.max_deterministic_time = max_seconds * DTIME_PER_SECOND
    params.max_time_in_seconds = max_seconds
    code = solver.Solve(c.model) if every else cp_model.OPTIMAL
    if every and code in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return code, {v.Index() for v in every if solver.Value(v)}
    # Nothing found in time (a huge company with no common shift times): a greedy roster.
    return code, _greedy(week.slots, c.lits, week.seats, week.by_id, week.rest, week.cap, week.fixed_weeks,
                         week.slot_weeks, week.slot_units)


def _read_solution(week: _Week, c: _Choices, chosen_vars: set[int], code: int) -> RosterSolution:
    """Read the chosen booleans, hand out the "any other gate" seats, explain what is left open."""
    from ortools.sat.python import cp_model

    left = dict(week.seats)
    chosen, works = _hand_out(week, c, chosen_vars, left)
    hours = {gid: week.fixed_units[gid] * week.unit / 3600 for gid in week.by_id}
    for sid, gid in chosen:
        hours[gid] += week.units[sid] * week.unit / 3600
    unfilled = []
    for k, members in week.slots.items():
        idle = [gid for gid in c.free[k] if not any(_overlaps(*k, *w) for w in works.get(gid, ()))]
        reason = REST_OR_HOURS if idle else NO_GUARD_AVAILABLE
        unfilled += [Unfilled(s.id, left[s.id], reason) for s in members if left[s.id] > 0]
    status = "infeasible_input" if week.bad_input else "optimal" if code == cp_model.OPTIMAL else "feasible"
    return RosterSolution(tuple(sorted(chosen)), tuple(sorted(unfilled, key=lambda u: u.shift_id)),
                          status, hours)


def _hand_out(week: _Week, c: _Choices, chosen_vars: set[int],
              left: dict[int, int]) -> tuple[list[tuple[int, int]], dict[int, list[Slot]]]:
    """The (shift, guard) pairs chosen, the "any other gate" seats given the lowest open shift (a usual
    gate first), and the slots each guard works; ``left`` counts down the open seats."""
    chosen: list[tuple[int, int]] = []
    works: dict[int, list[Slot]] = {}
    anywhere: dict[Slot, list[int]] = {}
    for g in week.guards:
        for k, group in c.lits[g.id].items():
            usual_shifts = [s for s in week.slots[k] if s.gate_id in g.usual_gate_ids]
            # The "any other gate" literal exists only when such a gate is eligible: zip stops early then.
            for var, s in zip(group, usual_shifts + [None], strict=False):
                if var.Index() in chosen_vars:
                    works.setdefault(g.id, []).append(k)
                    if s is None:
                        anywhere.setdefault(k, []).append(g.id)
                    else:
                        chosen.append((s.id, g.id))
                        left[s.id] -= 1
    for k, gids in anywhere.items():
        for gid in gids:
            usual_ids = week.by_id[gid].usual_gate_ids
            s = min((s for s in week.slots[k] if left[s.id] > 0), key=lambda s: (s.gate_id not in usual_ids, s.id))
            chosen.append((s.id, gid))
            left[s.id] -= 1
    return chosen, works


def _fixed_breaks_rules(guard, items, weeks, origin, rest, cap) -> bool:
    """True if a seat already held breaks a rule for its guard (commitments alone are not judged)."""
    items = sorted(items)
    for i, (a0, a1, seat_a) in enumerate(items):
        if seat_a and any(_overlaps(a0, a1, u0, u1) for u0, u1 in guard.unavailable):
            return True
        for b0, _, seat_b in items[i + 1:]:
            if b0 >= a1 + rest:
                break
            if seat_a or seat_b:
                return True
    seat_weeks = {w for a0, a1, seat in items if seat for w in _week_seconds(a0, a1, origin)}
    return any(weeks[w] > cap for w in seat_weeks)


def _greedy(slots, lits, seats, by_id, rest, cap, fixed_weeks, slot_weeks, slot_units) -> set[int]:
    """A valid roster, slot by slot in time order, least-loaded guard first (indices of booleans)."""
    picked: set[int] = set()
    load = dict.fromkeys(lits, 0)
    weeks = {gid: Counter(w) for gid, w in fixed_weeks.items()}
    taken: dict[int, list[Slot]] = {gid: [] for gid in lits}
    for k in sorted(slots):
        left = {s.id: seats[s.id] for s in slots[k]}
        room = sum(left.values())
        for gid in sorted((gid for gid in lits if k in lits[gid]), key=lambda gid: (load[gid], gid)):
            if room == 0:
                break
            if any(_overlaps(k[0], k[1] + rest, a, b + rest) for a, b in taken[gid]) or any(
                    weeks[gid][w] + n > cap for w, n in slot_weeks[k].items()):
                continue
            group = lits[gid][k]
            usual_shifts = [s for s in slots[k] if s.gate_id in by_id[gid].usual_gate_ids]
            i = next((i for i, s in enumerate(usual_shifts) if left[s.id] > 0), None)
            if i is not None:
                var = group[i]
                left[usual_shifts[i].id] -= 1
            elif len(group) > len(usual_shifts):
                var = group[-1]
            else:
                continue
            picked.add(var.Index())
            room -= 1
            load[gid] += slot_units[k]
            weeks[gid].update(slot_weeks[k])
            taken[gid].append(k)
    return picked
