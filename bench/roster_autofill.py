"""Benchmark: roster auto-fill for a whole company in one week.

30 gates (6 compounds x 5 gates) x 3 eight-hour shifts a day x 7 days = 630 shifts, needed=1 each,
120 guards with 1-2 usual gates (about 4-6 guards per gate) and some leave. Prints the wall time,
filled/unfilled counts, status and the spread of hours; exits 1 if the solve takes more than 10 s
or the roster breaks a rule.

    .venv/bin/python bench/roster_autofill.py [--runs N] [--seed S]
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.services.roster.roster_solver import GuardInfo, RosterRules, ShiftSlot, solve_roster  # noqa: E402

BUDGET_SECONDS = 10.0
GATES, GUARDS, DAYS = 30, 120, 7
# Monday 2020-02-03 00:00 in Asia/Shanghai, in UTC; shifts 00-08, 08-16, 16-24 local.
WEEK_START = datetime(2020, 2, 2, 16, 0, tzinfo=UTC)


def build(data_seed: int = 2020) -> tuple[list[ShiftSlot], list[GuardInfo]]:
    """The company's week: shifts and guards, reproducible from ``data_seed``."""
    rng = random.Random(data_seed)
    shifts = []
    for day in range(DAYS):
        for k in range(3):
            start = WEEK_START + timedelta(days=day, hours=8 * k)
            for gate in range(1, GATES + 1):
                shifts.append(ShiftSlot(id=len(shifts) + 1, gate_id=gate, start=start,
                                        end=start + timedelta(hours=8), needed=1))
    guards = []
    for gid in range(1, GUARDS + 1):
        home = (gid - 1) % GATES + 1  # 4 guards per gate, then some cover a neighbour gate too
        usual = {home}
        if rng.random() < 0.4:
            compound = (home - 1) // 5
            usual.add(compound * 5 + rng.randrange(5) + 1)
        leave = ()
        if rng.random() < 0.12:  # about 14 guards on leave for 1-3 days
            first = rng.randrange(DAYS - 2)
            days = rng.randint(1, 3)
            leave = ((WEEK_START + timedelta(days=first),
                      WEEK_START + timedelta(days=min(DAYS, first + days))),)
        guards.append(GuardInfo(id=gid, usual_gate_ids=frozenset(usual), unavailable=leave))
    return shifts, guards


def violations(shifts, guards, assignments, rules: RosterRules) -> list[str]:
    """Independent check of the rules on the final roster (pairwise, slow but simple)."""
    by_id = {s.id: s for s in shifts}
    work = defaultdict(list)
    for sid, gid in assignments:
        work[gid].append(by_id[sid])
    out = []
    for g in guards:
        mine = sorted(work[g.id], key=lambda s: s.start)
        for a, b in pairwise(mine):
            if b.start < a.end + rules.min_rest:
                out.append(f"guard {g.id}: shifts {a.id},{b.id} overlap or lack rest")
        for s in mine:
            if any(s.start < u1 and u0 < s.end for u0, u1 in g.unavailable):
                out.append(f"guard {g.id}: shift {s.id} during leave")
        if sum((s.end - s.start).total_seconds() for s in mine) > rules.max_week_hours * 3600:
            out.append(f"guard {g.id}: over {rules.max_week_hours} h")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7, help="solver seed")
    args = parser.parse_args()
    shifts, guards = build()
    rules = RosterRules(week_start=WEEK_START)
    usual = {g.id: g.usual_gate_ids for g in guards}
    gate = {s.id: s.gate_id for s in shifts}
    worst = 0.0
    fingerprints = set()
    for run in range(1, args.runs + 1):
        t0 = time.perf_counter()
        sol = solve_roster(shifts, guards, rules, seed=args.seed)
        wall = time.perf_counter() - t0
        worst = max(worst, wall)
        fingerprint = hashlib.sha256(repr((sol.assignments, sol.unfilled)).encode()).hexdigest()[:12]
        fingerprints.add(fingerprint)
        hours = [h for h in sol.hours_by_guard.values()]
        spread = Counter(int(h) for h in hours)
        at_usual = sum(gate[sid] in usual[gid] for sid, gid in sol.assignments)
        bad = violations(shifts, guards, sol.assignments, rules)
        print(f"run {run}: wall {wall:.2f} s | status {sol.status} | shifts {len(shifts)} guards {len(guards)}"
              f" | filled {len(sol.assignments)} unfilled {sum(u.missing for u in sol.unfilled)}"
              f" | hours min {min(hours):.0f} max {max(hours):.0f} {dict(sorted(spread.items()))}"
              f" | at usual gate {at_usual}/{len(sol.assignments)} | rule violations {len(bad)}"
              f" | roster {fingerprint}")
        for line in bad[:10]:
            print("  ", line)
        if bad:
            return 1
    print(f"worst wall {worst:.2f} s (budget {BUDGET_SECONDS:.0f} s); distinct rosters over {args.runs}"
          f" run(s): {len(fingerprints)}")
    return 0 if worst <= BUDGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
