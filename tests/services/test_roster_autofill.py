"""Auto-fill through the database: a feasible week, an infeasible one, leave, work elsewhere, determinism."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import delete, select

from server.extensions import db
from server.models.compounds import Compound
from server.models.rosters import GuardLeave, Shift, ShiftAssignment
from server.services.roster.roster_autofill import autofill_roster
from server.services.roster.roster_rules import Booking, RosterPolicy, check_booking
from server.services.roster.rosters import add_templates, generate_week
from tests.factories import build_world, make_gate, make_user

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sunday 20:00 in Shanghai
MONDAY = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
WEEK = date(2026, 3, 2)
WEEK_SHIFTS = 2 * 3 * 7  # the `week` fixture: two gates, three eight-hour shifts a day, seven days
SHIFTS_A_WEEK = int(RosterPolicy().max_week_hours // 8)  # eight-hour shifts a guard may work in a week


@pytest.fixture
def week(ctx):
    """Company A's compound with two gates, 3 x 8 h each for a week (42 shifts), and its guard."""
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        second = make_gate(world.compound_a, "西门")
        for gate in (world.gate_a, second):
            add_templates(gate, {"preset": "3x8", "start_time": datetime.min.time().replace(hour=6)})
        assert generate_week(world.compound_a, WEEK)["created"] == WEEK_SHIFTS
        yield world, second


def add_guards(world, n: int) -> list[int]:
    return [make_user(world.alliance, "guard", company=world.company_a, compound=world.compound_a).id for _ in range(n)]


def roster() -> list[tuple[int, int]]:
    return sorted(tuple(row) for row in db.session.execute(select(ShiftAssignment.shift_id, ShiftAssignment.guard_id)))


def rule_breaks() -> list:
    """Every assignment checked against the same guard's others with the pure rules."""
    by_guard = defaultdict(list)
    for a in db.session.scalars(select(ShiftAssignment)):
        by_guard[a.guard_id].append(Booking(a.shift_id, a.starts_at, a.ends_at))
    leaves = defaultdict(list)
    for leave in db.session.scalars(select(GuardLeave)):
        leaves[leave.guard_id].append((leave.id, leave.starts_at, leave.ends_at, leave.kind))
    return [v for gid, bookings in by_guard.items() for b in bookings
            for v in check_booking(b, bookings, leaves[gid], RosterPolicy(), "Asia/Shanghai")]


def test_feasible_week_is_filled_fairly_within_every_rule_and_repeatably(week):
    world, second = week
    guards = [world.guard_a.id, *add_guards(world, 7)]  # 42 x 8 h = 336 h for 8 guards: 42 h each
    with time_machine.travel(NOW, tick=False):
        report = autofill_roster(world.staff_a, [world.compound_a], WEEK)
    assert report["status"] in ("optimal", "feasible")
    assert (report["shifts_considered"], report["filled"], report["unfilled"]) == (WEEK_SHIFTS, WEEK_SHIFTS, [])
    assert rule_breaks() == []
    hours = {h["guard_id"]: h["hours"] for h in report["hours_by_guard"]}
    assert set(hours) == set(guards) and max(hours.values()) - min(hours.values()) <= 8
    first = roster()
    db.session.execute(delete(ShiftAssignment))
    with time_machine.travel(NOW, tick=False):
        again = autofill_roster(world.staff_a, [world.compound_a], WEEK)
    assert roster() == first and again["assignments"] == report["assignments"]


def test_infeasible_week_fills_what_it_can_and_says_why(week):
    world, _ = week
    add_guards(world, 1)  # two guards: at most 6 shifts each under 48 h
    with time_machine.travel(NOW, tick=False):
        report = autofill_roster(world.staff_a, [world.compound_a], WEEK)
    capacity = 2 * SHIFTS_A_WEEK
    assert capacity < report["shifts_considered"] and report["filled"] == capacity
    assert sum(u["missing"] for u in report["unfilled"]) == report["shifts_considered"] - capacity
    assert {u["reason"] for u in report["unfilled"]} <= {"rest_or_hours", "no_guard_available"}
    assert "rest_or_hours" in {u["reason"] for u in report["unfilled"]}
    assert all(h["hours"] == RosterPolicy().max_week_hours for h in report["hours_by_guard"])
    assert rule_breaks() == []


def test_leave_work_elsewhere_and_started_shifts_are_respected(week):
    world, second = week
    extra = add_guards(world, 2)[0]
    # guard_a is on leave Monday-Wednesday; `extra` works a lent shift elsewhere on Thursday.
    db.session.add(GuardLeave(guard_id=world.guard_a.id, starts_at=MONDAY, ends_at=MONDAY + timedelta(days=3)))
    other = db.session.get(Compound, world.compound_b.id)
    elsewhere = Shift(compound_id=other.id, gate_id=world.gate_b.id, starts_at=MONDAY + timedelta(days=3, hours=10),
                      ends_at=MONDAY + timedelta(days=3, hours=18))
    db.session.add(elsewhere)
    db.session.flush()
    db.session.add(ShiftAssignment(shift_id=elsewhere.id, guard_id=extra, compound_id=other.id, gate_id=world.gate_b.id,
                                   starts_at=elsewhere.starts_at, ends_at=elsewhere.ends_at, source="manual"))
    db.session.flush()
    # Tuesday noon: Monday's and Tuesday morning's shifts have started and are left alone.
    with time_machine.travel(MONDAY + timedelta(days=1, hours=12), tick=False):
        report = autofill_roster(world.staff_a, [world.compound_a], WEEK)
    started = db.session.scalars(select(Shift.id).where(Shift.starts_at < MONDAY + timedelta(days=1, hours=12))).all()
    assert not {a["shift_id"] for a in report["assignments"]} & set(started)
    assert rule_breaks() == []
    mine = db.session.scalars(select(ShiftAssignment).where(ShiftAssignment.guard_id == world.guard_a.id)).all()
    assert mine and all(a.starts_at >= MONDAY + timedelta(days=3) for a in mine)


def test_usual_gate_is_preferred(week):
    world, second = week
    west = add_guards(world, 3)
    # Last week the three new guards stood at the west gate, guard_a at the main gate.
    last = MONDAY - timedelta(days=7)
    for i, (gid, gate) in enumerate([(world.guard_a.id, world.gate_a), *[(g, second) for g in west]]):
        old = Shift(compound_id=world.compound_a.id, gate_id=gate.id, starts_at=last + timedelta(hours=24 * i),
                    ends_at=last + timedelta(hours=24 * i + 8))
        db.session.add(old)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=old.id, guard_id=gid, compound_id=world.compound_a.id, gate_id=gate.id,
                                       starts_at=old.starts_at, ends_at=old.ends_at))
    db.session.flush()
    with time_machine.travel(NOW, tick=False):
        autofill_roster(world.staff_a, [world.compound_a], WEEK)
    new = db.session.scalars(select(ShiftAssignment).where(ShiftAssignment.source == "autofill")).all()
    at_home = sum(1 for a in new if (a.gate_id == second.id) == (a.guard_id in west))
    assert at_home == len(new) and len(new) == 4 * SHIFTS_A_WEEK  # four guards, each as many shifts as allowed


def test_compound_without_guards_reports_no_guard_available(ctx):
    with time_machine.travel(NOW, tick=False):
        world = build_world()
        gate = make_gate(world.compound_orphan, "正门")
        add_templates(gate, {"hours": 12, "start_time": datetime.min.time().replace(hour=20)})
        generate_week(world.compound_orphan, WEEK)
        report = autofill_roster(world.admin, [world.compound_orphan], WEEK)
    assert report["filled"] == 0 and len(report["unfilled"]) == 7
    assert {u["reason"] for u in report["unfilled"]} == {"no_guard_available"}


def test_autofill_api_for_the_whole_company(app, world, as_user):
    with time_machine.travel(NOW, tick=False):
        staff = as_user(world.staff_a)
        staff.post(f"/api/v1/gates/{world.gate_a.id}/shift-templates", json={"preset": "2x12", "start_time": "08:00"})
        staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": "2026-03-02"})
        r = staff.post("/api/v1/rosters/autofill", json={"week": "2026-03-02"})
        assert r.status_code == 200, r.json
        assert r.json["filled"] == 4 and len(r.json["unfilled"]) == 10  # one guard: 4 x 12 h = 48 h
        assert as_user(world.staff_b).post("/api/v1/rosters/autofill", json={
            "week": "2026-03-02", "compound_id": world.compound_a.id}).status_code == 404
        assert as_user(world.admin).post("/api/v1/rosters/autofill", json={"week": "2026-03-02"}).status_code == 422
