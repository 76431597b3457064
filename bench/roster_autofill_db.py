"""Benchmark: the same company week as bench/roster_autofill.py, through the database-wired auto-fill.

6 compounds x 5 gates, templates 3 x 8 h, a generated week (630 shifts), 120 guards with leave;
times ``autofill_roster`` end to end (queries, solve, inserts) on a fresh SQLite file (or the
database in WUYE_DATABASE_URL), checks every assignment against ``roster_rules``, and exits 1 over
10 s or on a broken rule.

    .venv/bin/python bench/roster_autofill_db.py
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import time_machine  # noqa: E402
from sqlalchemy import select  # noqa: E402

from server import create_app  # noqa: E402
from server.extensions import db  # noqa: E402
from server.models.alliance import Alliance  # noqa: E402
from server.models.companies import Company  # noqa: E402
from server.models.compounds import Compound, Gate  # noqa: E402
from server.models.people import User  # noqa: E402
from server.models.rosters import GuardLeave, ShiftAssignment  # noqa: E402
from server.services.roster.roster_autofill import autofill_roster  # noqa: E402
from server.services.roster.roster_rules import Booking, check_booking, policy  # noqa: E402
from server.services.roster.rosters import add_templates, generate_week  # noqa: E402

BUDGET_SECONDS = 10.0
WEEK = date(2020, 2, 3)  # a Monday
NOW = datetime(2020, 2, 2, 12, 0, tzinfo=UTC)  # the Sunday before, 20:00 in Shanghai


def build(rng: random.Random) -> tuple[User, list[Compound]]:
    """The company: 6 compounds x 5 gates with 3 x 8 h templates, 120 guards (4 per gate), some on leave."""
    alliance = Alliance(name="基准联盟")
    db.session.add(alliance)
    db.session.flush()
    company = Company(alliance_id=alliance.id, name="基准物业")
    db.session.add(company)
    db.session.flush()
    staff = User(role="staff", alliance_id=alliance.id, company_id=company.id, username="bench")
    db.session.add(staff)
    compounds, gates = [], []
    for c in range(6):
        compound = Compound(alliance_id=alliance.id, company_id=company.id, name=f"小区{c}")
        db.session.add(compound)
        db.session.flush()
        compounds.append(compound)
        for g in range(5):
            gate = Gate(compound_id=compound.id, name=f"门{g}", code=f"bench{c}{g}")
            db.session.add(gate)
            db.session.flush()
            gates.append(gate)
            add_templates(gate, {"preset": "3x8", "start_time": datetime.min.time()})
    for compound in compounds:
        generate_week(compound, WEEK)
    week_start = datetime(2020, 2, 2, 16, tzinfo=UTC)
    for n in range(120):
        home = gates[n % 30]
        guard = User(role="guard", alliance_id=alliance.id, company_id=company.id, compound_id=home.compound_id,
                     openid=f"bench-guard-{n}")
        db.session.add(guard)
        db.session.flush()
        if rng.random() < 0.12:
            first = rng.randrange(5)
            db.session.add(GuardLeave(guard_id=guard.id, starts_at=week_start + timedelta(days=first),
                                      ends_at=week_start + timedelta(days=min(7, first + rng.randint(1, 3)))))
    db.session.flush()
    return staff, compounds


def broken_rules() -> int:
    """Assignments that break a rule, checked one by one with roster_rules."""
    work = defaultdict(list)
    for a in db.session.scalars(select(ShiftAssignment)):
        work[a.guard_id].append(Booking(a.shift_id, a.starts_at, a.ends_at))
    leaves = defaultdict(list)
    for leave in db.session.scalars(select(GuardLeave)):
        leaves[leave.guard_id].append((leave.id, leave.starts_at, leave.ends_at, leave.kind))
    rules = policy()
    return sum(len(check_booking(b, bookings, leaves[gid], rules, "Asia/Shanghai"))
               for gid, bookings in work.items() for b in bookings)


def main() -> int:
    """Build the company week, time the auto-fill, check the roster; 0 when within budget and rules."""
    url = os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app = create_app({"WUYE_ENV": "testing", "WUYE_SECRET_KEY": "b" * 40, "WUYE_DATABASE_URL": url})
    with app.app_context(), time_machine.travel(NOW, tick=False):
        db.drop_all()
        db.create_all()
        staff, compounds = build(random.Random(2020))
        db.session.commit()
        t0 = time.perf_counter()
        report = autofill_roster(staff, compounds, WEEK)
        db.session.commit()
        wall = time.perf_counter() - t0
    with app.app_context():
        bad = broken_rules()
    print(f"autofill (db) wall {wall:.2f} s | status {report['status']} | shifts {report['shifts_considered']}"
          f" | filled {report['filled']} unfilled {sum(u['missing'] for u in report['unfilled'])}"
          f" | rule violations {bad} | budget {BUDGET_SECONDS:.0f} s")
    return 0 if wall <= BUDGET_SECONDS and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
