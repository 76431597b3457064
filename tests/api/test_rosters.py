"""Rosters through the API: templates and weeks (across midnight), manual assignment and every rule,
leave, closing a gate, the week grid, a guard's schedule, and scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from server.extensions import db
from server.models.compounds import Compound
from server.models.rosters import GuardLeave, Shift, ShiftAssignment
from tests.factories import make_compound, make_gate, make_user

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)  # Sunday 20:00 in Shanghai
MONDAY = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # Monday 2026-03-02 00:00 in Shanghai
WEEK = "2026-03-02"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def add_shift(app, gate, start: datetime, hours: float = 8, needed: int = 1) -> int:
    with app.app_context():
        gate = db.session.merge(gate)
        shift = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=start,
                      ends_at=start + timedelta(hours=hours), guards_needed=needed)
        db.session.add(shift)
        db.session.commit()
        return shift.id


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def test_preset_generates_a_week_of_three_eight_hour_shifts(app, world, as_user):
    staff = as_user(world.staff_a)
    r = staff.post(f"/api/v1/gates/{world.gate_a.id}/shift-templates", json={"preset": "3x8", "start_time": "06:00"})
    assert r.status_code == 201, r.json
    assert [(t["start_time"], t["duration_minutes"]) for t in r.json["items"]] == [
        ("06:00:00", 480), ("14:00:00", 480), ("22:00:00", 480)]
    r = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": "2026-03-04"})
    assert r.status_code == 201, r.json
    assert r.json["created"] == 21 and r.json["week_start"] == WEEK
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").json
    starts = [s["starts_at"] for s in grid["shifts"]]
    assert starts[0] == "2026-03-01T22:00:00+00:00"  # Monday 06:00 local
    # The 22:00 shift crosses midnight: Monday 22:00 -> Tuesday 06:00 local.
    night = grid["shifts"][2]
    assert (night["starts_at"], night["ends_at"]) == ("2026-03-02T14:00:00+00:00", "2026-03-02T22:00:00+00:00")
    assert all(s["open_seats"] == 1 for s in grid["shifts"])
    again = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK})
    assert (again.json["created"], again.json["skipped"]) == (0, 21)


def test_two_by_twelve_from_eight_and_a_closed_gate_gets_none(app, world, as_user):
    with app.app_context():
        closed = make_gate(db.session.merge(world.compound_a), "北门", is_open=False)
        db.session.commit()
        closed_id = closed.id
    staff = as_user(world.staff_a)
    for gate_id in (world.gate_a.id, closed_id):
        assert staff.post(f"/api/v1/gates/{gate_id}/shift-templates",
                          json={"preset": "2x12", "start_time": "08:00", "guards_needed": 2}).status_code == 201
    body = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json
    assert body["created"] == 14
    with app.app_context():
        shifts = db.session.scalars(select(Shift).order_by(Shift.starts_at)).all()
        assert {s.gate_id for s in shifts} == {world.gate_a.id}
        assert all(s.guards_needed == 2 and s.ends_at - s.starts_at == timedelta(hours=12) for s in shifts)
        assert shifts[1].starts_at == at(20) and shifts[1].ends_at == at(32)  # 20:00 -> 08:00 next day


def test_template_input_is_checked(world, as_user):
    staff = as_user(world.staff_a)
    url = f"/api/v1/gates/{world.gate_a.id}/shift-templates"
    assert staff.post(url, json={"start_time": "08:00"}).status_code == 422
    assert staff.post(url, json={"start_time": "08:00", "hours": 25}).status_code == 422
    assert staff.post(url, json={"start_time": "25:00", "hours": 8}).status_code == 422
    assert staff.post(url, json={"start_time": "08:00", "hours": 8}).status_code == 201
    dup = staff.post(url, json={"start_time": "08:00", "hours": 8})
    assert dup.status_code == 409 and dup.json["reason"] == "duplicate"


def test_assign_and_every_rule_answers_409_naming_rule_and_shifts(app, world, as_user):
    staff = as_user(world.staff_a)
    first = add_shift(app, world.gate_a, at(0))       # Mon 00-08
    overlapping = add_shift(app, world.gate_a, at(4))  # Mon 04-12
    short_rest = add_shift(app, world.gate_a, at(15))  # Mon 15-23: 7 h after the first
    enough_rest = add_shift(app, world.gate_a, at(16))  # Mon 16-24: exactly 8 h
    guard = world.guard_a.id
    r = staff.post(f"/api/v1/shifts/{first}/assignments", json={"guard_id": guard})
    assert r.status_code == 201 and r.json["source"] == "manual"
    r = staff.post(f"/api/v1/shifts/{overlapping}/assignments", json={"guard_id": guard})
    assert r.status_code == 409
    assert (r.json["reason"], r.json["rule"], r.json["shift_ids"]) == ("roster_overlap", "roster_overlap",
                                                                       [overlapping, first])
    assert r.json["message"] == "该保安在此时段已有其他班次"
    r = staff.post(f"/api/v1/shifts/{short_rest}/assignments", json={"guard_id": guard})
    assert (r.status_code, r.json["rule"], r.json["shift_ids"]) == (409, "roster_min_rest", [short_rest, first])
    assert staff.post(f"/api/v1/shifts/{enough_rest}/assignments", json={"guard_id": guard}).status_code == 201
    again = staff.post(f"/api/v1/shifts/{first}/assignments", json={"guard_id": guard})
    assert (again.status_code, again.json["reason"]) == (409, "already_assigned")
    other = staff.post(f"/api/v1/shifts/{first}/assignments", json={"guard_id": world.guard_b.id})
    assert (other.status_code, other.json["reason"]) == (422, "guard_not_eligible")


def test_week_limit_at_48_hours(app, world, as_user):
    staff = as_user(world.staff_a)
    ids = [add_shift(app, world.gate_a, at(24 * d + 8)) for d in range(7)]  # 08-16 every day
    for sid in ids[:6]:
        assert staff.post(f"/api/v1/shifts/{sid}/assignments", json={"guard_id": world.guard_a.id}).status_code == 201
    r = staff.post(f"/api/v1/shifts/{ids[6]}/assignments", json={"guard_id": world.guard_a.id})
    assert r.status_code == 409 and r.json["rule"] == "roster_week_hours"
    assert r.json["shift_ids"] == [ids[6], *ids[:6]]
    assert r.json["violations"][0]["hours"] == 56


def test_full_shift_and_a_second_guard(app, world, as_user):
    with app.app_context():
        second = make_user(db.session.merge(world.alliance), "guard", company=db.session.merge(world.company_a),
                           compound=db.session.merge(world.compound_a))
        third = make_user(db.session.merge(world.alliance), "guard", company=db.session.merge(world.company_a))
        db.session.commit()
        second_id, third_id = second.id, third.id
    sid = add_shift(app, world.gate_a, at(8), needed=2)
    staff = as_user(world.staff_a)
    for gid in (world.guard_a.id, second_id):
        assert staff.post(f"/api/v1/shifts/{sid}/assignments", json={"guard_id": gid}).status_code == 201
    r = staff.post(f"/api/v1/shifts/{sid}/assignments", json={"guard_id": third_id})
    assert (r.status_code, r.json["reason"], r.json["shift_ids"]) == (409, "shift_full", [sid])


def test_leave_blocks_assignment_and_can_release_shifts(app, world, as_user):
    staff = as_user(world.staff_a)
    monday, tuesday = add_shift(app, world.gate_a, at(8)), add_shift(app, world.gate_a, at(32))
    assert staff.post(f"/api/v1/shifts/{monday}/assignments", json={"guard_id": world.guard_a.id}).status_code == 201
    leave = {"starts_at": at(0).isoformat(), "ends_at": at(48).isoformat(), "kind": "leave", "note": "病假"}
    r = staff.post(f"/api/v1/guards/{world.guard_a.id}/leaves", json=leave)
    assert (r.status_code, r.json["reason"], r.json["shift_ids"]) == (409, "leave_overlaps_shifts", [monday])
    r = staff.post(f"/api/v1/guards/{world.guard_a.id}/leaves", json={**leave, "release_shifts": True})
    assert r.status_code == 201
    r = staff.post(f"/api/v1/shifts/{tuesday}/assignments", json={"guard_id": world.guard_a.id})
    assert (r.status_code, r.json["rule"], r.json["shift_ids"]) == (409, "roster_on_leave", [tuesday])
    with app.app_context():
        assert db.session.scalars(select(ShiftAssignment)).all() == []
    # A guard declares their own unavailability; another company's staff cannot see it.
    own = as_user(world.guard_a).post(f"/api/v1/guards/{world.guard_a.id}/leaves", json={
        "starts_at": at(100).isoformat(), "ends_at": at(110).isoformat(), "kind": "unavailable"})
    assert own.status_code == 201
    leaves = staff.get(f"/api/v1/guards/{world.guard_a.id}/leaves").json["items"]
    assert [item["kind"] for item in leaves] == ["unavailable", "leave"]
    guard = as_user(world.guard_a)
    assert guard.delete(f"/api/v1/guard-leaves/{leaves[1]['id']}").status_code == 403  # staff recorded it
    assert guard.delete(f"/api/v1/guard-leaves/{own.json['id']}").status_code == 204
    assert len(staff.get(f"/api/v1/guards/{world.guard_a.id}/leaves").json["items"]) == 1
    assert as_user(world.staff_b).get(f"/api/v1/guards/{world.guard_a.id}/leaves").status_code == 404
    assert as_user(world.guard_b).post(f"/api/v1/guards/{world.guard_a.id}/leaves", json=leave).status_code == 404


def test_closing_a_gate_releases_its_future_shifts_only(app, world, as_user, frozen):
    staff = as_user(world.staff_a)
    running = add_shift(app, world.gate_a, NOW - timedelta(hours=2))
    future = add_shift(app, world.gate_a, at(8))
    for sid in (running, future):
        with app.app_context():
            db.session.add(ShiftAssignment(shift_id=sid, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                                           gate_id=world.gate_a.id, starts_at=db.session.get(Shift, sid).starts_at,
                                           ends_at=db.session.get(Shift, sid).ends_at))
            db.session.commit()
    assert staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": False}).status_code == 200
    with app.app_context():
        assert db.session.get(Shift, future).status == "cancelled"
        assert db.session.get(Shift, running).status == "open"
        assert db.session.scalars(select(ShiftAssignment.shift_id)).all() == [running]
    r = staff.post(f"/api/v1/gates/{world.gate_a.id}/shifts", json={"starts_at": at(8).isoformat(),
                                                                    "ends_at": at(16).isoformat()})
    assert (r.status_code, r.json["reason"]) == (409, "gate_closed_no_shifts")
    assert r.json["message"] == "该出入口已关闭,无需排班"


def test_a_reopened_gate_gets_its_template_shifts_back(app, world, as_user):
    staff = as_user(world.staff_a)
    staff.post(f"/api/v1/gates/{world.gate_a.id}/shift-templates", json={"hours": 12, "start_time": "20:00"})
    assert staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json["created"] == 7
    staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": False})
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").json
    assert {s["status"] for s in grid["shifts"]} == {"cancelled"} and all(s["open_seats"] == 0 for s in grid["shifts"])
    assert staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json["created"] == 0
    staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": True})
    again = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json
    assert again["created"] == 7
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").json
    assert len(grid["shifts"]) == 7 and {s["status"] for s in grid["shifts"]} == {"open"}


def test_one_off_shift_cancel_and_unassign(app, world, as_user):
    staff = as_user(world.staff_a)
    url = f"/api/v1/gates/{world.gate_a.id}/shifts"
    assert staff.post(url, json={"starts_at": at(8).isoformat(), "ends_at": at(8).isoformat()}).status_code == 422
    assert staff.post(url, json={"starts_at": at(8).isoformat(), "ends_at": at(33).isoformat()}).status_code == 422
    assert staff.post(url, json={"starts_at": "2026-03-02T08:00:00", "ends_at": "2026-03-02T16:00:00"}).status_code == 422
    shift = staff.post(url, json={"starts_at": "2026-03-02T20:00:00+08:00", "ends_at": "2026-03-03T08:00:00+08:00"})
    assert shift.status_code == 201 and shift.json["starts_at"] == "2026-03-02T12:00:00+00:00"
    assignment = staff.post(f"/api/v1/shifts/{shift.json['id']}/assignments", json={"guard_id": world.guard_a.id}).json
    assert staff.delete(f"/api/v1/shift-assignments/{assignment['id']}").status_code == 204
    assert staff.delete(f"/api/v1/shifts/{shift.json['id']}").json["status"] == "cancelled"
    r = staff.post(f"/api/v1/shifts/{shift.json['id']}/assignments", json={"guard_id": world.guard_a.id})
    assert (r.status_code, r.json["reason"]) == (409, "shift_cancelled")


def test_grid_schedule_gaps_and_scope(app, world, as_user):
    staff = as_user(world.staff_a)
    filled, empty = add_shift(app, world.gate_a, at(8)), add_shift(app, world.gate_a, at(20), hours=12)
    staff.post(f"/api/v1/shifts/{filled}/assignments", json={"guard_id": world.guard_a.id})
    grid = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").json
    by_id = {s["id"]: s for s in grid["shifts"]}
    assert [g["guard_id"] for g in by_id[filled]["guards"]] == [world.guard_a.id]
    assert by_id[filled]["guards"][0]["guard_name"] == "甲保安"
    assert (by_id[filled]["open_seats"], by_id[empty]["open_seats"]) == (0, 1)
    gaps = staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster/gaps?week={WEEK}").json["items"]
    assert [(g["kind"], g["shift_id"]) for g in gaps] == [("unfilled", empty)]
    mine = as_user(world.guard_a).get("/api/v1/rosters/mine").json["items"]
    assert [(m["shift_id"], m["gate_name"], m["lent"]) for m in mine] == [(filled, "正门", False)]
    assert as_user(world.guard_b).get("/api/v1/rosters/mine").json["items"] == []
    # Out of scope is 404, as if it did not exist; the alliance admin manages company-less compounds only.
    assert as_user(world.staff_b).get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").status_code == 404
    assert as_user(world.staff_b).post(f"/api/v1/shifts/{filled}/assignments",
                                       json={"guard_id": world.guard_b.id}).status_code == 404
    assert as_user(world.admin).get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={WEEK}").status_code == 404
    assert as_user(world.admin).get(f"/api/v1/compounds/{world.compound_orphan.id}/roster?week={WEEK}").status_code == 200
    assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster").status_code == 422


def test_database_refuses_overlapping_assignments_on_postgresql(app, world):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the EXCLUDE constraint exists on PostgreSQL only")
        from sqlalchemy.exc import IntegrityError

        gate = db.session.merge(world.gate_a)
        a = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=at(0), ends_at=at(8))
        b = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=at(7), ends_at=at(15))
        c = Shift(compound_id=gate.compound_id, gate_id=gate.id, starts_at=at(8), ends_at=at(16))
        db.session.add_all([a, b, c])
        db.session.flush()

        def seat(shift):
            return ShiftAssignment(shift_id=shift.id, guard_id=world.guard_a.id, compound_id=gate.compound_id,
                                   gate_id=gate.id, starts_at=shift.starts_at, ends_at=shift.ends_at)

        db.session.add(seat(a))
        db.session.add(seat(c))  # touching is not overlapping
        db.session.flush()
        db.session.add(seat(b))
        with pytest.raises(IntegrityError, match="ex_shift_assignments_guard_overlap"):
            db.session.flush()
        db.session.rollback()


def test_concurrent_bookings_of_one_guard_let_exactly_one_through(app, world, as_user):
    from tests.concurrency import run_together

    staff = [as_user(world.staff_a), as_user(world.staff_a)]
    for round_ in range(3):
        pair = [add_shift(app, world.gate_a, at(48 * round_)), add_shift(app, world.gate_a, at(48 * round_ + 4))]
        answers = run_together([lambda c=c, s=s: c.post(f"/api/v1/shifts/{s}/assignments",
                                                        json={"guard_id": world.guard_a.id})
                                for c, s in zip(staff, pair, strict=True)])
        assert sorted(r.status_code for r in answers) == [201, 409], round_
    with app.app_context():
        assert len(db.session.scalars(select(ShiftAssignment)).all()) == 3


def test_templates_follow_the_compound_time_zone(app, world, as_user):
    from tests.factories import make_compound

    with app.app_context():
        far_west = make_compound(db.session.merge(world.alliance), db.session.merge(world.company_a), "乌鲁木齐小区",
                                 timezone="Asia/Urumqi")
        gate_id = make_gate(far_west, "正门").id
        db.session.commit()
        compound_id = far_west.id
    staff = as_user(world.staff_a)
    staff.post(f"/api/v1/gates/{gate_id}/shift-templates", json={"hours": 8, "start_time": "08:00"})
    staff.post(f"/api/v1/compounds/{compound_id}/shifts/generate", json={"week": WEEK})
    grid = staff.get(f"/api/v1/compounds/{compound_id}/roster?week={WEEK}").json
    assert grid["timezone"] == "Asia/Urumqi"
    assert grid["shifts"][0]["starts_at"] == "2026-03-02T02:00:00+00:00"  # 08:00 at UTC+6


def test_a_guard_cannot_release_their_own_shifts_by_declaring_leave(app, world, as_user):
    monday = add_shift(app, world.gate_a, at(8))
    assert as_user(world.staff_a).post(f"/api/v1/shifts/{monday}/assignments",
                                       json={"guard_id": world.guard_a.id}).status_code == 201
    guard = as_user(world.guard_a)
    leave = {"starts_at": at(0).isoformat(), "ends_at": at(24).isoformat(), "kind": "leave"}
    r = guard.post(f"/api/v1/guards/{world.guard_a.id}/leaves", json={**leave, "release_shifts": True})
    assert (r.status_code, r.json["reason"]) == (403, "release_needs_staff")
    r = guard.post(f"/api/v1/guards/{world.guard_a.id}/leaves", json=leave)
    assert (r.status_code, r.json["reason"], r.json["shift_ids"]) == (409, "leave_overlaps_shifts", [monday])
    with app.app_context():
        assert db.session.scalars(select(ShiftAssignment.guard_id)).all() == [world.guard_a.id]
        assert db.session.scalars(select(GuardLeave)).all() == []


def test_generate_week_brings_back_only_shifts_a_closed_gate_cancelled(app, world, as_user):
    staff = as_user(world.staff_a)
    staff.post(f"/api/v1/gates/{world.gate_a.id}/shift-templates", json={"hours": 12, "start_time": "20:00"})
    ids = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json["shift_ids"]
    assert staff.delete(f"/api/v1/shifts/{ids[0]}").json["status"] == "cancelled"  # by hand
    staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": False})
    staff.patch(f"/api/v1/gates/{world.gate_a.id}", json={"is_open": True})
    again = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": WEEK}).json
    assert again["created"] == 6 and ids[0] not in again["shift_ids"]
    with app.app_context():
        reasons = {s.id: (s.status, s.cancel_reason) for s in db.session.scalars(select(Shift))}
    assert reasons[ids[0]] == ("cancelled", "manual")
    assert all(reasons[sid] == ("open", None) for sid in ids[1:])


def test_deactivating_or_moving_a_guard_frees_their_future_shifts(app, world, as_user, frozen):
    staff = as_user(world.staff_a)
    running, tuesday, wednesday = add_shift(app, world.gate_a, NOW - timedelta(hours=2)), \
        add_shift(app, world.gate_a, at(32)), add_shift(app, world.gate_a, at(56))
    with app.app_context():
        db.session.add(ShiftAssignment(shift_id=running, guard_id=world.guard_a.id, compound_id=world.compound_a.id,
                                       gate_id=world.gate_a.id, starts_at=NOW - timedelta(hours=2),
                                       ends_at=NOW + timedelta(hours=6)))
        other = make_compound(db.session.merge(world.alliance), db.session.merge(world.company_a), name="新小区")
        db.session.commit()
        other_id = other.id
    for sid in (tuesday, wednesday):
        assert staff.post(f"/api/v1/shifts/{sid}/assignments", json={"guard_id": world.guard_a.id}).status_code == 201
    assert len(as_user(world.guard_a).get("/api/v1/rosters/mine").json["items"]) == 3
    # Moved to another compound of the company: the shifts at the old post are freed, the running one stays.
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}", json={"compound_id": other_id}).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ShiftAssignment.shift_id)).all() == [running]
    # Put back on a future shift at the new post, then deactivated: that one goes too.
    future = add_shift(app, make_gate_in(app, other_id), at(32))
    assert staff.post(f"/api/v1/shifts/{future}/assignments", json={"guard_id": world.guard_a.id}).status_code == 201
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}", json={"is_active": False}).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ShiftAssignment.shift_id)).all() == [running]


def make_gate_in(app, compound_id: int):
    with app.app_context():
        gate = make_gate(db.session.get(Compound, compound_id), "新门")
        db.session.commit()
        db.session.refresh(gate)
        db.session.expunge(gate)
        return gate


@pytest.mark.parametrize("week", ["0001-01-01", "9999-12-31"])
def test_weeks_and_ids_out_of_range_are_422(world, as_user, week):
    staff = as_user(world.staff_a)
    r = staff.post(f"/api/v1/compounds/{world.compound_a.id}/shifts/generate", json={"week": week})
    assert r.status_code == 422 and "week" in r.json["errors"]["json"]
    assert staff.get(f"/api/v1/compounds/{world.compound_a.id}/roster?week={week}").status_code == 422
    r = staff.post("/api/v1/rosters/autofill", json={"week": week, "compound_id": world.compound_a.id})
    assert r.status_code == 422 and "week" in r.json["errors"]["json"]
    big = 2**64
    r = staff.post("/api/v1/rosters/autofill", json={"week": WEEK, "compound_id": big})
    assert r.status_code == 422 and "compound_id" in r.json["errors"]["json"]
    shift = staff.post(f"/api/v1/gates/{world.gate_a.id}/shifts", json={"starts_at": at(8).isoformat(),
                                                                       "ends_at": at(16).isoformat()}).json["id"]
    r = staff.post(f"/api/v1/shifts/{shift}/assignments", json={"guard_id": big})
    assert r.status_code == 422 and "guard_id" in r.json["errors"]["json"]


def test_reactivating_a_guard_keeps_their_shifts(app, world, as_user):
    staff = as_user(world.staff_a)
    tuesday = add_shift(app, world.gate_a, at(32))
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}", json={"is_active": False}).status_code == 200
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}", json={"is_active": True}).status_code == 200
    assert staff.post(f"/api/v1/shifts/{tuesday}/assignments", json={"guard_id": world.guard_a.id}).status_code == 201
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}", json={"display_name": "甲保安"}).status_code == 200
    assert staff.patch(f"/api/v1/guards/{world.guard_a.id}",
                       json={"compound_id": world.compound_a.id}).status_code == 200
    with app.app_context():
        assert db.session.scalars(select(ShiftAssignment.shift_id)).all() == [tuesday]
