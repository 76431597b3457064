"""Clocking in and out at the post: the window and the grace boundary, late and missing clock-ins
raising coverage-gap alerts, the `flask wuye coverage` command, and the gate board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.alerts import Alert
from server.models.rosters import ClockEvent, Shift, ShiftAssignment

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # Monday 08:00 in Shanghai


@pytest.fixture
def shift(app, world):
    """An 8 h shift at gate A with guard A on it, and an open 8 h shift at the same time needing one more."""
    with app.app_context():
        s = Shift(compound_id=world.compound_a.id, gate_id=world.gate_a.id, starts_at=START,
                  ends_at=START + timedelta(hours=8), guards_needed=2)
        db.session.add(s)
        db.session.flush()
        db.session.add(ShiftAssignment(shift_id=s.id, guard_id=world.guard_a.id, compound_id=s.compound_id,
                                       gate_id=s.gate_id, starts_at=s.starts_at, ends_at=s.ends_at))
        db.session.commit()
        return s.id


def scan(as_user, world, when: datetime, code: str | None = None, kind: str = "in"):
    with time_machine.travel(when, tick=False):
        return as_user(world.guard_a).post(f"/api/v1/rosters/clock-{kind}", json={"code": code or world.gate_a.code})


def gap_alerts(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(a.dedupe_key, a.detail["why"]) for a in
                db.session.scalars(select(Alert).where(Alert.kind == "coverage_gap").order_by(Alert.id))]


def test_clock_in_opens_thirty_minutes_before(app, world, as_user, shift):
    early = scan(as_user, world, START - timedelta(minutes=30, seconds=1))
    assert (early.status_code, early.json["reason"]) == (409, "no_shift_now")
    r = scan(as_user, world, START - timedelta(minutes=30))
    assert r.status_code == 201 and r.json["late"] is False and r.json["kind"] == "in"
    again = scan(as_user, world, START)
    assert again.status_code == 201 and again.json["id"] == r.json["id"]  # a retried scan
    assert gap_alerts(app) == []


def test_clock_in_at_the_end_of_grace_is_on_time_a_second_later_is_late(app, world, as_user, shift):
    on_time = scan(as_user, world, START + timedelta(minutes=10))
    assert on_time.json["late"] is False
    with app.app_context():
        db.session.execute(ClockEvent.__table__.delete())
        db.session.commit()
    late = scan(as_user, world, START + timedelta(minutes=10, seconds=1))
    assert late.status_code == 201 and late.json["late"] is True
    assert gap_alerts(app) == [(f"coverage_gap:{shift}:{world.guard_a.id}", "late_clock_in")]


def test_wrong_gate_unknown_code_and_clock_out(app, world, as_user, shift):
    wrong = scan(as_user, world, START, code=world.gate_b.code)
    assert (wrong.status_code, wrong.json["reason"]) == (409, "no_shift_now")
    unknown = scan(as_user, world, START, code="nosuchcode")
    assert (unknown.status_code, unknown.json["reason"]) == (404, "gate_code_unknown")
    not_in = scan(as_user, world, START + timedelta(hours=8), kind="out")
    assert (not_in.status_code, not_in.json["reason"]) == (409, "not_clocked_in")
    assert scan(as_user, world, START).status_code == 201
    out = scan(as_user, world, START + timedelta(hours=8, minutes=5), kind="out")
    assert out.status_code == 201 and out.json["kind"] == "out"
    after_shift = scan(as_user, world, START + timedelta(hours=8), kind="in")
    assert after_shift.status_code == 409


def test_missing_clock_in_and_unfilled_seat_alert_staff_once(app, world, shift):
    from server.services.roster.roster_clock import flag_coverage_gaps

    with app.app_context():
        assert flag_coverage_gaps(START + timedelta(minutes=10)) == 0
        assert flag_coverage_gaps(START + timedelta(minutes=10, seconds=1)) == 2
        assert flag_coverage_gaps(START + timedelta(minutes=20)) == 2
        db.session.commit()
    assert gap_alerts(app) == [(f"coverage_gap:{shift}:{world.guard_a.id}", "no_clock_in"),
                               (f"coverage_gap:{shift}:open", "unfilled")]


def test_coverage_command(app, world, shift):
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        result = app.test_cli_runner().invoke(args=["wuye", "coverage"])
    assert result.exit_code == 0, result.output
    assert "2" in result.output
    assert len(gap_alerts(app)) == 2


def test_gate_board_shows_who_is_on_duty_now(app, world, as_user, shift):
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        assert as_user(world.staff_a).get(f"/api/v1/gates/{world.gate_a.id}/on-duty").json["items"] == []
    scan(as_user, world, START + timedelta(minutes=2))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        board = as_user(world.staff_a).get(f"/api/v1/gates/{world.gate_a.id}/on-duty")
        assert board.status_code == 200
        assert [(i["guard_id"], i["guard_name"], i["lent"], i["late"]) for i in board.json["items"]] == [
            (world.guard_a.id, "甲保安", False, False)]
        assert board.json["items"][0]["clocked_in_at"] == "2026-03-02T00:02:00+00:00"
        assert as_user(world.guard_a).get(f"/api/v1/gates/{world.gate_a.id}/on-duty").status_code == 200
        assert as_user(world.staff_b).get(f"/api/v1/gates/{world.gate_a.id}/on-duty").status_code == 404
    with time_machine.travel(START + timedelta(hours=8), tick=False):
        assert as_user(world.staff_a).get(f"/api/v1/gates/{world.gate_a.id}/on-duty").json["items"] == []


def test_a_rotating_gate_needs_its_current_code(app, world, as_user, shift):
    from server.models.compounds import Gate
    from server.services.gate.gates import rotating_code

    with app.app_context():
        db.session.get(Gate, world.gate_a.id).rotating_code = True
        db.session.commit()
        old_code, _ = rotating_code(db.session.get(Gate, world.gate_a.id), START - timedelta(minutes=5))
        current, _ = rotating_code(db.session.get(Gate, world.gate_a.id), START)
    printed = scan(as_user, world, START)
    assert (printed.status_code, printed.json["reason"]) == (409, "gate_code_stale")
    stale = scan(as_user, world, START, code=old_code)
    assert (stale.status_code, stale.json["reason"]) == (409, "gate_code_stale")
    assert scan(as_user, world, START, code=current).status_code == 201
